// FrameBatch: packs what Plumtree sends while one event is handled into one datagram per peer.
//
// HyParView hands Plumtree a FrameBatch instead of itself for the length of a handler (a
// received datagram, a timer, a broadcast) and flushes it at the end: GOSSIP, IHAVE, GRAFT and
// PRUNE frames for the same peer leave as one datagram (up to kBatchBytesMax). Nothing waits
// past the handler, so no latency and no timer is added. What it saves: a GRAFT for several
// ids is answered with one datagram; a datagram carrying several payloads is forwarded as one
// per eager peer (so broadcasts that met once travel on together); the grafts one timer fires
// at the same peer share a datagram.
//
//   FrameBatch batch(*this);             // *this: the real PlumtreeTransport
//   tree_.on_gossip(now, from, g, batch, fx);
//   batch.flush(fx);
#pragma once

#include <array>
#include <cstddef>
#include <cstring>

#include "core/views/plumtree.h"
#include "grapevine/limits.h"

namespace grapevine::views {

class FrameBatch final : public PlumtreeTransport {
 public:
  /// Largest batched datagram: stays under a 1500-byte Ethernet MTU with IP/UDP headers.
  static constexpr std::size_t kBatchBytesMax = 1400;
  /// Datagrams merged into one batch at most. Plumtree sends one frame per datagram, so a
  /// batch stays far below the receiver's limit of frames per datagram (limits.h).
  static constexpr std::size_t kBatchDatagramsMax = 64;
  static_assert(kBatchDatagramsMax * 2 <= kFramesPerDatagramMax);

  explicit FrameBatch(PlumtreeTransport& out) noexcept : out_(out) {}
  FrameBatch(const FrameBatch&) = delete;
  FrameBatch& operator=(const FrameBatch&) = delete;

  /// `datagram` is a whole datagram (version byte, then frames): its frames are appended to
  /// the one pending for `to`. Datagrams that cannot be batched go out at once, in order.
  void send_to(Peer to, std::span<const std::byte> datagram, Effects& fx) override {
    if (datagram.empty()) return;
    std::size_t i = 0;
    while (i < n_ && pending_[i].to != to) ++i;
    if (i < n_ && (pending_[i].size + datagram.size() - 1 > kBatchBytesMax ||
                   pending_[i].count == kBatchDatagramsMax)) {
      send_pending(pending_[i], fx);  // full: what is there goes first
      pending_[i].size = 0;
      pending_[i].count = 0;
    }
    if (i == n_) {
      if (n_ == pending_.size() || datagram.size() > kBatchBytesMax) {
        return out_.send_to(to, datagram, fx);  // no room to batch: unbatched, still in order
      }
      pending_[n_].to = to;
      pending_[n_].size = 0;
      pending_[n_].count = 0;
      ++n_;
    }
    Pending& p = pending_[i];
    if (p.size == 0) {
      if (datagram.size() > kBatchBytesMax) return out_.send_to(to, datagram, fx);
      std::memcpy(p.buf.data(), datagram.data(), datagram.size());
      p.size = datagram.size();
      p.count = 1;
      return;
    }
    std::memcpy(p.buf.data() + p.size, datagram.data() + 1, datagram.size() - 1);
    p.size += datagram.size() - 1;
    ++p.count;
  }

  /// Sends every pending datagram, in the order their peers were first sent to.
  void flush(Effects& fx) {
    for (std::size_t i = 0; i < n_; ++i) send_pending(pending_[i], fx);
    n_ = 0;
  }

 private:
  struct Pending {
    Peer to;
    std::size_t size;                           // bytes in buf
    std::size_t count;                          // datagrams merged into buf
    std::array<std::byte, kBatchBytesMax> buf;  // left uninitialised until written
  };

  void send_pending(const Pending& p, Effects& fx) {
    if (p.size > 0) out_.send_to(p.to, std::span(p.buf.data(), p.size), fx);
  }

  PlumtreeTransport& out_;
  std::array<Pending, Plumtree::kPeersMax> pending_;
  std::size_t n_ = 0;
};

}  // namespace grapevine::views
