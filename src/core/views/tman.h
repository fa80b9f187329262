// T-MAN: gossip-based overlay topology management (Jelasity, Babaoglu, ESOA 2005; Jelasity,
// Montresor, Babaoglu, Computer Networks 2009), with the sorted ring as target topology.
//
// Algorithm. Each node holds a view of at most c descriptors. The ranking function orders
// candidate peers on the ring of 64-bit node ids (node_id_of(address)) around a base node:
// successors by clockwise distance and predecessors by counter-clockwise distance, interleaved,
// so a node's best-ranked peers are its ring neighbours on both sides and any prefix of the
// ranking keeps half of each side (Jelasity et al. 2009 rank the sorted ring per direction).
// Every period a node P:
//  1. ranks its view by distance to itself and picks Q at random among the psi best;
//  2. sends Q the m best descriptors of (view + P + a few random samples) ranked for Q;
//  3. Q answers the same way ranked for P, then keeps the c best of (view + received) for
//     itself; P does the same with the answer.
// The random samples come from an embedded Cyclon (the peer sampling service the paper
// assumes): they bootstrap the view and keep T-MAN from settling in a local optimum. Before
// each exchange the node also merges its current samples into its own view (keeping the c
// best): the paper starts every view from random samples at once, but here nodes join over
// time, and a node that no early view ranked had no in-links at all; once its neighbourhood
// has converged such a node only learns entries within m ids of the peers it asks, so it
// walks to its place about m ids per cycle (measured at N = 16384: the last 3 nodes needed
// 40+ cycles while 99% were placed by cycle 15; docs/experiments.md, Partial views).
//
// Deviations: the descriptors carry no ids; ids are derived from addresses (node_id_of). No
// failure detection: a dead neighbour stays in the view until better-ranked live ones push it
// out, as in the paper.
#pragma once

#include <vector>

#include "core/ticker.h"
#include "core/views/cyclon.h"
#include "grapevine/view.h"
#include "util/rng.h"

namespace grapevine::detail {

class TmanView final : public ViewMachine {
 public:
  TmanView(const ViewConfig& config, const Address& self, std::uint64_t seed);

  [[nodiscard]] ViewKind kind() const noexcept override { return ViewKind::tman; }
  void join(Time now, const Address& contact, Effects& fx) override;
  void leave(Time now, Effects& fx) override;
  [[nodiscard]] std::span<const Address> view() const noexcept override { return view_; }
  void on_datagram(Time now, const Address& from, std::span<const std::byte> bytes,
                   Effects& fx) override;
  void on_timeout(Time now, Effects& fx) override;
  [[nodiscard]] Time next_deadline() const noexcept override;

  /// The embedded peer sampling layer.
  [[nodiscard]] const CyclonView& sampling() const noexcept { return sampling_; }

 private:
  void exchange(Effects& fx);
  void on_tman(const Address& from, const wire::EntriesFrame& f, Effects& fx);
  void send_buffer(const Address& to, std::uint8_t kind, Effects& fx);
  /// View + self + samples, best `count` for `base`, never `base` itself.
  std::vector<Address> ranked_buffer(const Address& base, std::size_t count) const;
  void merge(std::span<const wire::ViewEntry> got);
  void rank_for(std::vector<Address>& peers, std::uint64_t base_id) const;

  ViewConfig config_;
  Address self_;
  Rng rng_;
  Ticker ticker_;
  CyclonView sampling_;
  std::vector<Address> view_;
  bool joined_ = false;
  bool left_ = false;
};

}  // namespace grapevine::detail
