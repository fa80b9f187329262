// Plumtree: epidemic broadcast trees (Leitão, Pereira, Rodrigues, SRDS 2007) over the symmetric
// active view HyParView keeps.
//
// Algorithm. Each node splits its neighbours into eager and lazy peers (all start eager). A new
// message is pushed in full (GOSSIP) to the eager peers and announced by id (IHAVE) to the lazy
// ones. A duplicate GOSSIP moves its sender to lazy and answers PRUNE, so the eager links
// converge to a spanning tree; the lazy links keep the tree repairable: a node that hears IHAVE
// for a message it lacks starts a timer, and when it fires sends GRAFT to an announcer, which
// makes that link eager again and answers with the payload.
//
// Deviations and choices:
//  - IHAVEs are batched per lazy peer and flushed every ihave_interval (the paper's "lazy
//    queue" policy left open), one datagram per peer per flush.
//  - Bounded memory for a million nodes: seen ids in a hashed ring of received_ids entries
//    (recent_ids.h), payloads in a ring of cache_messages entries over one flat arena (no heap
//    allocation per message), at most missing_max pending GRAFT timers. An IHAVE or duplicate
//    older than the ring is taken as new (ids must not be reused by callers).
//  - A cached payload outlives the GRAFTs its announcement can draw: the cache ring grows past
//    cache_messages (up to 4x) rather than evict an entry younger than ihave_interval +
//    graft_timeout + 4 graft_retry (payload_cache.h). With a plain ring, a message that arrived
//    late was evicted by the burst behind it before the GRAFTs came, and whole subtrees missed
//    it (98/100 broadcasts complete at 10^5 nodes after a 50% crash).
//  - Optional (prune_after_duplicates, 1 = the paper): a link is pruned only at its Nth
//    duplicate in a row. With ~10 broadcasts in flight, two can each cut a different edge of one
//    cycle and split the tree, which lazy repairs then GRAFT back; N = 3 took GRAFTs at 3*10^4
//    nodes from 525k to 8k and events -8%, every broadcast delivered (docs/performance.md).
//  - HyParView passes a FrameBatch (frame_batch.h) as the transport, so the frames one handler
//    sends to a peer share a datagram (several payloads on an eager link, grafts, answers).
//  - Announcers are not dropped too early. The paper GRAFTs the announcers of a missing id in
//    turn and gives up when they run out; a node whose only announcer's link closed gave up at
//    once and missed the message for good (traced at 10^5 nodes: every give-up had one
//    announcer, whose link HyParView had closed). A peer whose link was closed (DISCONNECT: it
//    is alive) stays an announcer, since a GRAFT to a non-neighbour is answered; only a failed
//    peer is dropped. (GRAFTing the other neighbours when the announcers run out was tried and
//    dropped: it fired only after a crash, on ids re-announced on new links that had already
//    left the seen ring, where a revived id is delivered twice; docs/performance.md.)
//  - A new link is announced the newest cached ids (up to 8, one batched IHAVE). The paper
//  announces each
//    message once, when first received, so a part of the overlay cut off by failures misses
//    for good whatever was broadcast before HyParView re-linked it; with the announcement the
//    healed links GRAFT it.
//  - The paper's optimisation is optional (optimize_hops, off by default): an IHAVE announcing a
//  path at least optimize_hops shorter
//    than the one a cached message took swaps links (GRAFT without ids to the announcer, PRUNE to
//    the parent). Without it, trees built by pruning under many origins grow deep.
// Plumtree is not a Machine: HyParView owns it, reports neighbour changes, and routes its frames.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/views/payload_cache.h"
#include "core/views/peer.h"
#include "core/views/recent_ids.h"
#include "grapevine/event.h"
#include "grapevine/time.h"
#include "wire/native_hyparview.h"

namespace grapevine::views {

struct PlumtreeConfig {
  /// How long lazy announcements wait to be batched into one IHAVE per peer.
  Duration ihave_interval = Duration::milliseconds(50);
  /// Wait for the eager copy this long after the first IHAVE before sending GRAFT.
  Duration graft_timeout = Duration::milliseconds(300);
  /// Then GRAFT the next announcer this often until the payload arrives.
  Duration graft_retry = Duration::milliseconds(150);
  std::uint16_t received_ids = 64;    // ids remembered as seen (duplicate detection)
  std::uint16_t cache_messages = 16;  // payloads kept to answer GRAFTs (up to 4x while held)
  std::uint16_t missing_max = 64;     // messages announced but not received, with timers
  /// Swap the tree parent for a lazy peer announcing a path this many hops shorter (0 = never).
  /// Off by default: with random origins one shared tree serves every origin, and a swap that
  /// shortens one origin's path lengthens another's (at 30k nodes, 100 broadcasts from random
  /// origins, optimize_hops = 3 raised RMR from 0.10 to 0.37 and the last delivery hop too).
  std::uint32_t optimize_hops = 0;
  /// A link is pruned at this many duplicates in a row over it (1 = the paper: at the first).
  /// A link that delivers a new message starts its count again.
  std::uint8_t prune_after_duplicates = 1;
};

/// Where Plumtree sends: HyParView, which notes the traffic as keepalive on the link.
class PlumtreeTransport {
 public:
  virtual ~PlumtreeTransport() = default;
  virtual void send_to(Peer to, std::span<const std::byte> datagram, Effects& fx) = 0;
};

struct PlumtreeStats {
  std::uint64_t payload_sent = 0;  // GOSSIP frames sent (eager pushes and graft answers)
  std::uint64_t ihave_ids_sent = 0;
  std::uint64_t ihave_sent = 0;  // IHAVE datagrams
  std::uint64_t graft_sent = 0;
  std::uint64_t prune_sent = 0;
  std::uint64_t delivered = 0;
  std::uint64_t duplicates = 0;        // GOSSIP for an id already seen
  std::uint64_t payload_received = 0;  // GOSSIP frames received (first or duplicate)
  std::uint64_t optimizations = 0;     // parent swapped for a shorter announced path
  std::uint64_t graft_misses = 0;      // GRAFTed ids no longer cached here (not answered)
  std::uint64_t gave_up = 0;           // missing ids dropped: every announcer GRAFTed in vain
};

class Plumtree {
 public:
  static constexpr std::size_t kPeersMax = 8;  // the largest active view
  /// `config` must outlive the Plumtree (HyParView keeps it).
  explicit Plumtree(const PlumtreeConfig& config);

  /// A new neighbour starts eager and is announced every cached message (see above).
  void neighbor_up(Time now, Peer p);
  /// `reachable`: the link was closed (DISCONNECT), the peer is alive and can still answer a
  /// GRAFT; otherwise (failure, leave) it is dropped as an announcer.
  void neighbor_down(Peer p, bool reachable = false) noexcept;

  /// Delivers `payload` here (hops 0) and starts spreading it. `id` must be unique per message.
  void broadcast(Time now, std::uint64_t id, std::span<const std::byte> payload,
                 PlumtreeTransport& tx, Effects& fx);
  void on_gossip(Time now, Peer from, const wire::hpv::GossipFrame& f, PlumtreeTransport& tx,
                 Effects& fx);
  void on_ihave(Time now, Peer from, const wire::hpv::IHaveFrame& f, PlumtreeTransport& tx,
                Effects& fx);
  void on_graft(Peer from, const wire::hpv::GraftFrame& f, PlumtreeTransport& tx, Effects& fx);
  void on_prune(Peer from) noexcept;
  void on_timeout(Time now, PlumtreeTransport& tx, Effects& fx);
  [[nodiscard]] Time next_deadline() const noexcept;

  [[nodiscard]] std::size_t eager_count() const noexcept;
  [[nodiscard]] bool is_eager(Peer p) const noexcept;
  [[nodiscard]] const PlumtreeStats& stats() const noexcept { return stats_; }
  /// A hint (no state change, no reads): starts loading this object's fields and the seen set's
  /// inline table, the lines a received frame touches first.
  void prefetch() const noexcept;
  /// Where the next new message's cache slot is (PayloadCache::next_slot), for prefetch hints.
  [[nodiscard]] std::array<const void*, 2> cache_hint() const noexcept {
    return cache_.next_slot();
  }

 private:
  struct Missing {
    std::uint64_t id = 0;
    Time deadline;
    std::array<Peer, 3> sources{};  // announcers still to GRAFT, first first
    std::uint8_t source_count = 0;
  };
  struct Queued {  // one id waiting to be announced to the peers in `mask`
    std::uint64_t id = 0;
    std::uint32_t hops = 0;
    std::uint8_t mask = 0;
  };

  int slot_of(Peer p) const noexcept;
  bool seen(std::uint64_t id) const noexcept { return received_.contains(id); }

  void remember(Time now, std::uint64_t id, std::uint32_t hops, Peer parent,
                std::span<const std::byte> payload);
  void maybe_optimize(Peer from, const wire::hpv::IHaveEntry& e, PlumtreeTransport& tx,
                      Effects& fx);
  void spread(Time now, std::uint64_t id, std::uint32_t hops, std::span<const std::byte> payload,
              int except_slot, PlumtreeTransport& tx, Effects& fx);
  void send_gossip(Peer to, std::uint64_t id, std::uint32_t hops,
                   std::span<const std::byte> payload, PlumtreeTransport& tx, Effects& fx);
  void flush_ihave(PlumtreeTransport& tx, Effects& fx);
  void fire_missing(Time now, PlumtreeTransport& tx, Effects& fx);
  void drop_missing(std::uint64_t id) noexcept;

  const PlumtreeConfig& cfg_;
  std::array<Peer, kPeersMax> peers_{};  // slots are stable; kNoPeer = free
  std::uint8_t eager_mask_ = 0;
  std::array<std::uint8_t, kPeersMax> dups_{};  // per slot: duplicates in a row (for pruning)
  PayloadCache cache_;  // payloads for GRAFTs, each kept through its GRAFT window
  std::vector<Missing> missing_;
  std::vector<Queued> queue_;
  Time flush_at_ = Time::max();
  PlumtreeStats stats_;
  RecentIds received_;  // the last cfg_.received_ids ids, hashed (inline up to 64: kept last)
};

}  // namespace grapevine::views
