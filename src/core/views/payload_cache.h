// PayloadCache: the payloads a Plumtree node keeps to answer GRAFTs, oldest evicted first, but
// never before its GRAFT window has passed.
//
// A ring of at least `floor` entries whose payloads share one flat arena (slot * stride bytes,
// no heap allocation per message). The plain ring of `floor` entries (what Plumtree had) gives
// every message the time `floor` newer ones take to arrive, and a message that arrives late,
// after a lazy repair, is followed by a burst of newer ones: at 3*10^4 and 10^5 nodes, 100
// broadcasts 100 ms apart over 32 slots, announcers had evicted such a message 2.2 s after
// receiving it, before the GRAFTs their own IHAVEs drew (up to ihave_interval + graft_timeout +
// retries, 2.6 s), and every node behind them missed it for good. So an entry younger than
// `hold` is not overwritten: the ring grows instead (up to `max` entries, then the oldest goes
// whatever its age) and shrinks back to `floor` as entries expire.
//
//   PayloadCache c;
//   c.reset(32, 128, Duration::seconds(3));
//   std::size_t k = c.put(now, id, parent, hops, payload);
//   if (auto k = c.find(id); k != PayloadCache::npos) send(c.entry(k), c.payload(k));
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/views/peer.h"
#include "grapevine/limits.h"
#include "grapevine/time.h"

namespace grapevine::views {

class PayloadCache {
 public:
  static constexpr std::size_t npos = ~std::size_t(0);
  static constexpr std::size_t kEntriesMax = 65535;

  struct Entry {
    std::uint64_t id = 0;
    Peer parent = kNoPeer;         // who sent it (kNoPeer: we broadcast it)
    std::uint16_t hops = 0;        // hops of the copy we delivered (saturating)
    std::uint16_t size = 0;        // payload bytes
    std::uint32_t expires_ms = 0;  // end of the hold, milliseconds mod 2^32 (compared with wrap)
  };

  /// Forgets everything. floor = 0 caches nothing; max is clamped to [floor, kEntriesMax].
  void reset(std::size_t floor, std::size_t max, Duration hold) {
    floor_ = std::uint16_t(std::min(floor, kEntriesMax));
    max_ = std::uint16_t(std::clamp<std::size_t>(max, floor_, kEntriesMax));
    hold_ = hold;
    head_ = 0;
    stride_ = 0;
    entries_.clear();
    arena_.clear();
  }

  /// Caches a payload (at most kMulticastPayloadBytesMax bytes) received at `now`; returns its
  /// slot (npos when the floor is 0).
  std::size_t put(Time now, std::uint64_t id, Peer parent, std::uint32_t hops,
                  std::span<const std::byte> payload) {
    if (floor_ == 0 || payload.size() > kMulticastPayloadBytesMax) return npos;
    if (payload.size() > stride_) widen(payload.size());
    std::size_t slot = take_slot(now);
    entries_[slot] = Entry{id, parent, std::uint16_t(std::min<std::uint32_t>(hops, 0xffff)),
                           std::uint16_t(payload.size()), millis(now + hold_)};
    std::copy(payload.begin(), payload.end(), arena_.begin() + std::ptrdiff_t(slot * stride_));
    return slot;
  }

  /// Restarts slot k's hold at `now` (its id was announced again).
  void touch(std::size_t k, Time now) noexcept { entries_[k].expires_ms = millis(now + hold_); }

  [[nodiscard]] std::size_t find(std::uint64_t id) const noexcept {
    for (std::size_t k = 0; k < entries_.size(); ++k) {
      if (entries_[k].id == id) return k;
    }
    return npos;
  }
  [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }
  [[nodiscard]] Entry& entry(std::size_t k) noexcept { return entries_[k]; }
  [[nodiscard]] const Entry& entry(std::size_t k) const noexcept { return entries_[k]; }
  [[nodiscard]] std::span<const std::byte> payload(std::size_t k) const noexcept {
    return {arena_.data() + k * stride_, entries_[k].size};
  }
  /// Where the next put() starts reading (the oldest entry and its payload bytes), for a
  /// caller to prefetch later without touching this object. Null while nothing is cached.
  [[nodiscard]] std::array<const void*, 2> next_slot() const noexcept {
    if (entries_.empty()) return {nullptr, nullptr};
    return {entries_.data() + head_, arena_.data() + std::size_t(head_) * stride_};
  }
  /// The slot of the k-th newest entry (k < size()).
  [[nodiscard]] std::size_t newest(std::size_t k) const noexcept {
    return (head_ + 2 * entries_.size() - 1 - k) % entries_.size();
  }

 private:
  static std::uint32_t millis(Time t) noexcept { return std::uint32_t(t.ns() / 1'000'000); }
  // Wraps after 49 days; a hold is far shorter.
  [[nodiscard]] bool expired(const Entry& e, Time now) const noexcept {
    return std::int32_t(millis(now) - e.expires_ms) >= 0;
  }

  // The slot for a new entry: drops expired entries above the floor, then overwrites the
  // oldest if it is expired (or the ring is at max), else grows the ring just before it.
  std::size_t take_slot(Time now) {
    while (entries_.size() > floor_ && expired(entries_[head_], now)) erase(head_);
    const std::size_t n = entries_.size();
    if (n >= floor_ && (n >= max_ || expired(entries_[head_], now))) {
      std::size_t slot = head_;
      head_ = std::uint16_t((head_ + 1u) % n);
      return slot;
    }
    // Room below the floor, or the oldest is still within its GRAFT window: a new slot just
    // before the oldest (at the end while the oldest is slot 0).
    if (head_ == 0) {
      entries_.emplace_back();
      arena_.resize(arena_.size() + stride_);
      return n;
    }
    entries_.insert(entries_.begin() + std::ptrdiff_t(head_), Entry{});
    arena_.insert(arena_.begin() + std::ptrdiff_t(head_ * stride_), stride_, std::byte{});
    return head_++;
  }

  void erase(std::size_t k) {
    entries_.erase(entries_.begin() + std::ptrdiff_t(k));
    auto at = arena_.begin() + std::ptrdiff_t(k * stride_);
    arena_.erase(at, at + std::ptrdiff_t(stride_));
    if (head_ >= entries_.size()) head_ = 0;
  }

  // Widens every slot to hold `size` bytes (rare: a group's payloads are usually of one size).
  void widen(std::size_t size) {
    std::size_t stride =
        (std::min<std::size_t>(std::max<std::size_t>(size, 8), 0xfff8) + 7) & ~std::size_t(7);
    std::vector<std::byte> arena(entries_.size() * stride);
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      auto p = payload(i);
      std::copy(p.begin(), p.end(), arena.begin() + std::ptrdiff_t(i * stride));
    }
    arena_ = std::move(arena);
    stride_ = std::uint16_t(stride);
  }

  std::vector<Entry> entries_;    // ring: the oldest at head_, the newest just before it
  std::vector<std::byte> arena_;  // entries_.size() * stride_ payload bytes
  Duration hold_;
  std::uint16_t head_ = 0;
  std::uint16_t stride_ = 0;  // bytes per slot: the largest payload cached
  std::uint16_t floor_ = 0, max_ = 0;
};

}  // namespace grapevine::views
