// Cyclon: inexpensive membership management for unstructured P2P overlays (Voulgaris, Gavidia,
// van Steen, J. Network and Systems Management 2005).
//
// Algorithm. A view of at most c entries (address, age). Every period a node P:
//  1. increases the age of every entry by one;
//  2. picks Q, the oldest entry, and removes it from the view;
//  3. sends Q a shuffle request with l - 1 other random entries plus a fresh entry for itself
//     (age 0);
//  4. Q answers with l random entries of its own, then merges what it got; P merges the answer.
// Merging discards entries for oneself and for peers already held, fills empty slots first,
// then overwrites the entries it just sent to the other side. Each shuffle moves pointers
// rather than copying them, so the number of pointers to a node stays close to c (narrow
// in-degree), and a dead Q is dropped the moment it becomes the oldest: dead links leave within
// about c cycles.
//
// Join (paper, sec. 3.3): the joiner asks its introducer, which starts c random walks of
// cyclon_walk_ttl hops. The node where a walk ends swaps one of its entries for the joiner: it
// sends the joiner that entry and takes the joiner (age 0) in its place. A node with a free slot
// (a young overlay) adds the joiner and gives it a pointer to itself instead.
//
// Deviations: a shuffle answer arriving after the next shuffle started may only fill empty slots
// (the entries to overwrite are those of the latest request).
#pragma once

#include <vector>

#include "core/ticker.h"
#include "grapevine/view.h"
#include "util/rng.h"
#include "wire/native_views.h"

namespace grapevine::detail {

class CyclonView final : public ViewMachine {
 public:
  /// `view_size` and `shuffle_length` are given apart from `config` so T-MAN can embed a
  /// Cyclon of its own size.
  CyclonView(const ViewConfig& config, std::uint32_t view_size, std::uint32_t shuffle_length,
             const Address& self, std::uint64_t seed);

  [[nodiscard]] ViewKind kind() const noexcept override { return ViewKind::cyclon; }
  void join(Time now, const Address& contact, Effects& fx) override;
  void leave(Time now, Effects& fx) override;
  [[nodiscard]] std::span<const Address> view() const noexcept override { return peers_; }
  void on_datagram(Time now, const Address& from, std::span<const std::byte> bytes,
                   Effects& fx) override;
  void on_timeout(Time now, Effects& fx) override;
  [[nodiscard]] Time next_deadline() const noexcept override;

  /// Handles one frame of our family; false if it is not a Cyclon frame (for embedding).
  bool on_frame(const Address& from, const wire::Frame& frame, Effects& fx);
  /// Age of the entry for view()[i].
  [[nodiscard]] std::uint32_t age(std::size_t i) const noexcept { return ages_[i]; }

 private:
  void shuffle(Effects& fx);
  void on_walk(const Address& from, const wire::WalkFrame& f, Effects& fx);
  void walk_step(const Address& joiner, std::uint32_t ttl, Effects& fx);
  void end_walk(const Address& joiner, Effects& fx);
  void on_shuffle(const Address& from, const wire::EntriesFrame& f, Effects& fx);
  void merge(std::span<const wire::ViewEntry> got, std::vector<Address>& replaceable);
  std::vector<wire::ViewEntry> sample(std::size_t count, const Address& exclude);
  void add(const Address& a, std::uint32_t age);
  void remove_at(std::size_t i);
  [[nodiscard]] std::ptrdiff_t index_of(const Address& a) const noexcept;

  ViewConfig config_;
  std::uint32_t view_size_;
  std::uint32_t shuffle_length_;
  Address self_;
  Rng rng_;
  Ticker ticker_;
  std::vector<Address> peers_;  // view(), parallel to ages_
  std::vector<std::uint32_t> ages_;
  Address pending_peer_{};             // target of the latest shuffle request
  std::vector<Address> pending_sent_;  // entries we sent it (may be overwritten by its answer)
  bool joined_ = false;
  bool left_ = false;
};

}  // namespace grapevine::detail
