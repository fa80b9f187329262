// HyParView (Leitão, Pereira, Rodrigues, DSN 2007): hybrid partial view membership.
//
// Algorithm. Each node keeps a small symmetric *active view* (default 5: the overlay's links,
// used for broadcast) and a larger *passive view* (default 30: a reserve of addresses, never
// used for traffic). A joiner sends JOIN to a contact; the contact adds it to its active view
// and sends FORWARDJOIN along random walks of length ARWL through its other neighbours: the
// walk's end (or a node with a single neighbour) adds the joiner to its active view, the node at
// hop PRWL to its passive view. Adding to a full active view drops a random neighbour
// (DISCONNECT; both ends move the link to passive). When a neighbour fails, a node promotes a
// random passive peer: NEIGHBOR with high priority (must be accepted) if it has no neighbour
// left, low priority (accepted only into a non-full view) otherwise. A periodic SHUFFLE random
// walk exchanges samples of both views, keeping passive views fresh and mixed.
//
// Deviations and choices:
//  - Failure detection. The paper uses TCP connections as the failure detector of the active
//    view. Datagrams give no such signal, and neither the simulator nor the runtime report a
//    failed send, so every active link carries a keepalive: a node sends a HEARTBEAT on a link
//    where it sent nothing else for a while (Plumtree traffic counts, so busy links cost
//    nothing; keepalive_idle_periods = keepalive_misses - 1 halves the heartbeats of idle
//    links at misses 3) and drops a neighbour it heard nothing from for keepalive_misses
//    periods.
//    A NEIGHBOR request unanswered within neighbor_timeout counts as a failed connect: the
//    candidate leaves the passive view.
//  - Symmetry is explicit: a node that adds a peer on its own (JOIN, FORWARDJOIN end) tells it
//    with JOIN_ACCEPT, which is always honoured. A HEARTBEAT from a node outside the active view
//    is answered with DISCONNECT, repairing links left one-sided by lost messages.
//  - A node with an empty passive view and at most one neighbour re-sends JOIN to its contact
//    each keepalive period (a pair stranded by a mass failure has each other but nobody else).
//  - Closed cliques. Under fast joins a few nodes can end up with active views pointing only at
//    each other (and tiny passive views, since their shuffles never leave the clique): the
//    overlay is then split for good. A node with a full active view but a passive view under
//    half its size asks a random passive peer for a link (low priority) at each shuffle;
//    acceptance drops a random link of ours. Nodes with full passive views never do it.
//  - NEIGHBOR_REJECT carries a sample of the refuser's passive view (see send_reject).
//  - Passive view eviction is random (the paper prefers entries just sent in a shuffle).
//  - Addresses are compact IPv4 peers (core/views/peer.h); IPv6 peers are ignored.
// Broadcast is Plumtree (core/views/plumtree.h) over the active view.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/views/peer.h"
#include "core/views/plumtree.h"
#include "grapevine/view.h"
#include "util/rng.h"

namespace grapevine::views {

/// Timers of HyParView and Plumtree that ViewConfig does not carry.
struct HyParViewTuning {
  /// A link idle this long (nothing sent on it) gets a HEARTBEAT.
  Duration keepalive_period = Duration::seconds(1);
  /// A neighbour silent for this many keepalive periods is taken as failed.
  std::uint32_t keepalive_misses = 3;
  /// Heartbeats leave at most this many periods of silence on a link (any traffic carries
  /// liveness). 1 = a HEARTBEAT in every period we sent nothing (silence up to 2 periods, as
  /// the paper's TCP-less variants do); 2 or more = a link that stays idle gets one every that
  /// many periods, a link that went idle after traffic no later. keepalive_misses - 1 keeps a
  /// lossless link alive at the fewest datagrams (0 = keepalive_misses - 1).
  std::uint32_t keepalive_idle_periods = 1;
  /// An unanswered NEIGHBOR request fails after this long.
  Duration neighbor_timeout = Duration::milliseconds(500);
  PlumtreeConfig plumtree;
};

struct HyParViewCounters {
  std::uint64_t failures_detected = 0;  // neighbours dropped after keepalive_misses silent periods
  std::uint64_t promotions = 0;         // passive peers that became neighbours on request
  std::uint64_t neighbor_timeouts = 0;  // NEIGHBOR requests never answered
  std::uint64_t shuffles = 0;           // shuffles this node started
  std::uint64_t escapes = 0;            // link requests from a full, passive-starved node
  std::uint64_t heartbeats = 0;         // HEARTBEATs sent on idle links
};

class alignas(64) HyParView final : public ViewMachine, private PlumtreeTransport {
 public:
  static constexpr std::size_t kActiveMax = Plumtree::kPeersMax;
  static constexpr std::size_t kPassiveMax = 64;

  HyParView(const ViewConfig& config, const HyParViewTuning& tuning, const Address& self,
            std::uint64_t seed);

  void on_datagram(Time now, const Address& from, std::span<const std::byte> bytes,
                   Effects& fx) override;
  void on_timeout(Time now, Effects& fx) override;
  [[nodiscard]] Time next_deadline() const noexcept override;
  /// Prefetches the hot part of this object past the two lines the simulator fetches, and
  /// Plumtree's seen set and cache slot (see Machine::prefetch).
  void prefetch() const noexcept override;

  [[nodiscard]] ViewKind kind() const noexcept override { return ViewKind::hyparview; }
  void join(Time now, const Address& contact, Effects& fx) override;
  void leave(Time now, Effects& fx) override;
  [[nodiscard]] std::span<const Address> view() const noexcept override {
    return {view_.data(), active_n_};
  }
  [[nodiscard]] std::size_t passive_size() const noexcept override { return passive_n_; }
  void broadcast(Time now, std::uint64_t msg_id, std::span<const std::byte> payload,
                 Effects& fx) override;

  [[nodiscard]] std::span<const Peer> active() const noexcept {
    return {active_.data(), active_n_};
  }
  [[nodiscard]] std::span<const Peer> passive() const noexcept {
    return {passive_.data(), passive_n_};
  }
  [[nodiscard]] const Plumtree& plumtree() const noexcept { return tree_; }
  [[nodiscard]] const HyParViewCounters& counters() const noexcept { return counters_; }

 private:
  struct Params {  // ViewConfig and tuning, narrowed to what a node needs (kept per node)
    std::uint8_t active_size, passive_size, arwl, prwl, ka, kp, shuffle_ttl, misses, idle;
    Duration shuffle_period, keepalive_period, neighbor_timeout;
    PlumtreeConfig plumtree;
  };

  void send_to(Peer to, std::span<const std::byte> datagram, Effects& fx) override;
  void send_control(Peer to, wire::hpv::ControlKind kind, Effects& fx);
  void send_reject(Peer to, Effects& fx);
  void on_frame(Time now, Peer from, std::uint8_t type, std::span<const std::byte> body,
                PlumtreeTransport& tx, Effects& fx);
  void on_control(Time now, Peer from, wire::hpv::ControlKind kind, Effects& fx);
  void on_forward_join(Peer from, const wire::hpv::ForwardJoinFrame& f, Effects& fx);
  void on_shuffle(Peer from, const wire::hpv::ShuffleFrame& f, Effects& fx);

  int active_slot(Peer p) const noexcept;
  int passive_slot(Peer p) const noexcept;
  int pending_slot(Peer p) const noexcept;
  void add_active(Peer p, Effects& fx);
  void remove_active(std::size_t slot, bool to_passive);
  void add_passive(Peer p);
  void remove_passive(Peer p) noexcept;
  void remove_pending(std::size_t slot) noexcept;
  void refresh_view_cache() noexcept;
  Peer random_active_except(Peer a, Peer b);
  void fill_active(Time now, Effects& fx);
  void keepalive_tick(Time now, Effects& fx);
  void expire_pending(Time now, Effects& fx);
  void start_shuffle(Time now, Effects& fx);
  void sync_stats() noexcept;
  void start_timers(Time now);

  // In the object's second line, which the simulator prefetches with the first: where the next
  // new message's cache slot is, refreshed after every call, so prefetch() need not read it.
  std::array<const void*, 2> cache_hint_{};
  Params p_;
  Peer self_;
  Peer contact_ = kNoPeer;
  std::array<Peer, kActiveMax> active_{};
  std::array<std::uint8_t, kActiveMax> silent_{};  // keepalive periods without hearing
  std::array<std::uint8_t, kActiveMax> idle_{};    // keepalive periods without sending
  std::uint8_t active_n_ = 0;
  std::uint8_t heard_mask_ = 0;  // per active slot: heard since the last keepalive tick
  std::uint8_t sent_mask_ = 0;   // per active slot: sent since the last keepalive tick
  std::uint8_t passive_n_ = 0;
  std::uint8_t pending_n_ = 0;
  bool left_ = false;
  Time next_keepalive_ = Time::zero();  // zero: timers not started (first on_timeout starts them)
  Time next_shuffle_ = Time::max();
  Time now_{};
  // Last of the hot part: Plumtree's small fields, then its inline seen set (prefetch()).
  Plumtree tree_;
  // Cold: read by joins, shuffles, promotions and view(), not per datagram (after the hot part).
  Rng rng_;
  std::array<Peer, kActiveMax> pending_{};  // NEIGHBOR requests awaiting an answer
  std::array<Time, kActiveMax> pending_deadline_{};
  HyParViewCounters counters_;
  std::array<Peer, kPassiveMax> passive_{};
  std::array<Address, kActiveMax> view_{};  // the active view as Addresses, for view()
};

}  // namespace grapevine::views

namespace grapevine {
/// Builds a HyParView node (the factory's case ViewKind::hyparview). `config` is validated by
/// the caller; sizes above kActiveMax / kPassiveMax are clamped.
std::unique_ptr<ViewMachine> make_hyparview(const ViewConfig& config, const Address& self,
                                            std::uint64_t seed,
                                            const views::HyParViewTuning& tuning = {});
}  // namespace grapevine
