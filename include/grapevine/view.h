// Partial-view membership protocols: each node knows a small sample of the group, not all of it.
//
// The family (one class each, under src/core/views/):
//  - scamp: SCAMP (Ganesh, Kermarrec, Massoulie 2001/2003). Subscriptions are forwarded with c
//    extra copies and kept with probability 1/(1+|view|); views self-size to (c+1) ln N.
//  - cyclon: Cyclon (Voulgaris, Gavidia, van Steen 2005). Periodic shuffles with the oldest
//    neighbour; fixed view size, narrow in-degree, dead links aged out.
//  - tman: T-MAN (Jelasity, Babaoglu 2005). Ranking-driven gossip that builds a ring sorted by
//    node id, bootstrapped from an embedded Cyclon sampling layer.
//  - hyparview: HyParView (Leitao, Pereira, Rodrigues 2007): small symmetric active view kept
//    by TCP-like failure detection, larger passive view for healing; broadcast is Plumtree.
//
// Every protocol is a Machine: deterministic, no I/O, per-node Rng, sends through Effects.
// Frames live in the native wire format, family 0x30 (src/wire/native_views.h).
//
// Broadcast over the view. ViewMachine::broadcast() floods a payload over the overlay: each node
// forwards a message the first time it sees it, to all (or `fanout` random) peers of view(), and
// remembers the id (last kSeenIdsMax ids) to drop duplicates. Protocols may override it
// (HyParView uses Plumtree). Delivery is an Event of kind `delivered` emitted through Effects:
//   message = MessageId{origin = msg_id, seq = 0}   (view broadcasts are named by the caller's
//             64-bit id, carried in `origin`),
//   payload = the payload (valid during emit), hops = overlay hops from the broadcaster (0 there).
// ViewStats::payload_sent counts every payload copy a node put on the wire, so a harness can
// compute redundancy (RMR) without looking inside packets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "grapevine/limits.h"
#include "grapevine/address.h"
#include "grapevine/machine.h"
#include "grapevine/result.h"
#include "grapevine/time.h"

namespace grapevine {

enum class ViewKind : std::uint8_t { scamp, cyclon, tman, hyparview };

/// "scamp", "cyclon", "tman", "hyparview".
const char* view_kind_name(ViewKind kind) noexcept;
/// Inverse of view_kind_name; false if unknown.
bool parse_view_kind(const char* text, ViewKind& out) noexcept;

struct ViewConfig {
  ViewKind kind = ViewKind::cyclon;
  /// The introducer a joining node contacts (the harness may override per join()).
  Address contact{};
  /// Master seed; make_view() takes a per-node seed derived from it by the driver.
  std::uint64_t seed = 1;

  /// Gossip period: Cyclon shuffle, T-MAN exchange, HyParView shuffle. One period = one cycle.
  Duration period = Duration::seconds(1);
  /// First tick at a random offset in (0, period] (asynchronous cycles, as in the papers).
  bool random_phase = true;
  /// Each period is period * (1 +- jitter), uniformly; 0 = exact.
  double period_jitter = 0.0;

  // --- broadcast over the view (default flooding) ---
  /// Peers a node forwards a new message to: 0 = every peer of view().
  std::uint32_t fanout = 0;

  // --- SCAMP ---
  /// c: extra copies of each new subscription the contact forwards (fault-tolerance knob).
  std::uint32_t scamp_c = 1;
  /// A forwarded subscription is dropped after this many hops (bounds a pathological walk).
  std::uint32_t scamp_forward_hops_max = 200;
  /// Bound on SCAMP's PartialView and InView, against peers that would grow them without end
  /// ((c+1) ln N is ~40 for c = 1 and N = 10^9): subscriptions beyond it are forwarded on.
  std::uint32_t scamp_view_max = 256;

  // --- Cyclon ---
  /// c: view size (also the in-degree every node converges to).
  std::uint32_t cyclon_view_size = 20;
  /// l: entries exchanged per shuffle.
  std::uint32_t cyclon_shuffle_length = 5;
  /// Length of each of the c random walks an introducer starts for a joining node.
  std::uint32_t cyclon_walk_ttl = 5;

  // --- T-MAN (ranking: ring distance by node id) ---
  std::uint32_t tman_view_size = 16;
  /// m: descriptors per exchanged message.
  std::uint32_t tman_message_size = 8;
  /// psi: a node gossips with a random one of its psi best-ranked neighbours.
  std::uint32_t tman_psi = 2;
  /// Embedded Cyclon that feeds T-MAN random samples (view size, shuffle length).
  std::uint32_t tman_sampling_view_size = 8;
  std::uint32_t tman_sampling_shuffle_length = 4;

  // --- HyParView (Leitao et al., DSN 2007, defaults from the paper) ---
  std::uint32_t hyparview_active_size = 5;
  std::uint32_t hyparview_passive_size = 30;
  std::uint32_t hyparview_arwl = 6;             // active random walk length
  std::uint32_t hyparview_prwl = 3;             // passive random walk length
  std::uint32_t hyparview_shuffle_active = 3;   // ka
  std::uint32_t hyparview_shuffle_passive = 4;  // kp
  std::uint32_t hyparview_shuffle_walk_length = 6;
};

/// Checks ranges; the error's detail names the field.
Result<void> validate(const ViewConfig& config) noexcept;

/// Counters one view node keeps (all monotonic).
struct ViewStats {
  std::uint64_t payload_sent = 0;      // broadcast payload copies put on the wire
  std::uint64_t payload_received = 0;  // payload copies received (first or duplicate)
  std::uint64_t duplicates = 0;        // payload copies received for an id already seen
  std::uint64_t control_sent = 0;      // membership frames sent (subscribe, shuffle, ...)
  std::uint64_t malformed = 0;         // datagrams or frames dropped as malformed
  std::uint64_t unknown_frames = 0;    // frames of an unknown type in our family
};

class ViewMachine : public Machine {
 public:
  /// Most broadcast ids remembered for duplicate suppression (oldest forgotten first).
  static constexpr std::size_t kSeenIdsMax = 1024;

  [[nodiscard]] virtual ViewKind kind() const noexcept = 0;
  /// Joins the overlay through `contact` (an existing member; an invalid address, or our own,
  /// makes this node the first member). Call once, before anything else is expected to work.
  virtual void join(Time now, const Address& contact, Effects& fx) = 0;
  /// Leaves gracefully where the protocol has an unsubscription (SCAMP, HyParView); otherwise
  /// just goes quiet. The machine sends nothing afterwards.
  virtual void leave(Time now, Effects& fx) = 0;
  /// The peers a broadcast may send to (HyParView: the active view). The span points into the
  /// machine and is valid until the next call into it.
  [[nodiscard]] virtual std::span<const Address> view() const noexcept = 0;
  /// Passive view size (HyParView); 0 for protocols without one.
  [[nodiscard]] virtual std::size_t passive_size() const noexcept { return 0; }
  /// Broadcasts `payload` (copied; at most kMulticastPayloadBytesMax (limits.h) bytes: the
  /// caller checks, as Node::multicast does with too_large) named `msg_id` over the overlay;
  /// delivers locally first (hops = 0). Ids must be unique per broadcast. Never fails.
  virtual void broadcast(Time now, std::uint64_t msg_id, std::span<const std::byte> payload,
                         Effects& fx);
  [[nodiscard]] const ViewStats& stats() const noexcept { return stats_; }

 protected:
  /// `fanout`: 0 = all peers of view(); `seed` feeds the flooding's own small PRNG.
  ViewMachine(std::uint32_t fanout, std::uint64_t seed) noexcept;
  /// For subclasses' on_datagram: handles a flood frame body (native type 0x36, view_gossip)
  /// from `from`: delivers and forwards if new. Malformed bodies are counted.
  void on_flood_frame(std::span<const std::byte> body, Effects& fx);
  /// True (and remembers it) if `msg_id` was not seen before.
  bool first_sight(std::uint64_t msg_id);

  ViewStats stats_;

 private:
  void forward(std::uint64_t msg_id, std::uint32_t hops, std::span<const std::byte> payload,
               Effects& fx);
  std::uint64_t next_random() noexcept;

  std::uint32_t fanout_;
  std::uint64_t flood_rng_;          // splitmix64 state: target choice only
  std::vector<std::uint64_t> seen_;  // ring of the last kSeenIdsMax ids
  std::size_t seen_next_ = 0;
};

/// Builds the protocol `config.kind` for the node at `self`, with its own PRNG seeded by `seed`.
/// Returns nullptr for a protocol not built into this library. `config` is copied.
std::unique_ptr<ViewMachine> make_view(const ViewConfig& config, const Address& self,
                                       std::uint64_t seed);

}  // namespace grapevine
