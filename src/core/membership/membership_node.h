// MembershipNode: the membership machine. It owns the member list, the merge rules (memberlist's
// aliveNode / suspectNode / deadNode / mergeState, so mixed clusters agree), dissemination
// (updates piggybacked on every datagram through a transmit-limited queue, a gossip loop, and
// full-state push-pull anti-entropy over streams), join through seeds, graceful leave,
// reconnection to failed members and reaping. The failure detector is a separate object chosen
// by config (detector.h).
//
// Deviation from memberlist (native dialect): the periodic push-pull first sends a summary of the
// list (a count and an order-independent hash, wire::ListDigestFrame); only a peer whose list
// differs answers with a full exchange. At rest anti-entropy costs one datagram per period
// instead of O(N) bytes, so an idle node's traffic does not grow with the group.
//
// Deviation from memberlist: a push-pull server merges the initiator's state *before* replying,
// so a member that learns it was declared failed refutes in the reply itself and a healed
// partition merges back in one round trip (memberlist replies first and needs a second one).
//
// Like memberlist, every accepted entry of a push-pull is re-broadcast, with one exception in
// the native dialect: the members a joiner learns from its seed's join reply
// (MembershipConfig::join_reply_gossip, off by default). The seed knows them all and each was
// gossiped when it joined; re-gossiping them made every join cost N x retransmit_limit()
// frames of news everybody had (N^2 log N over a join of N). Suppressing the re-broadcast of
// *every* push-pull (tried earlier, measured) left early joiners' news with a small retransmit
// limit and convergence waited for anti-entropy (13-20 s at 32-64 members instead of 0.5 s):
// anti-entropy's news (a push-pull that is not a join reply) is still re-broadcast, so is the
// joiner's own record at the seed. With every detector: the phi false failure that once kept
// it SWIM-only is phi's own tail under a mass crash, at the same rate with or without it
// (membership.h, phi_acceptable_pause). Measured: docs/performance.md, "Toward 10,000 nodes".
//
// Identity across restarts. The memberlist dialect keys members by name (memberlist's rule: a
// live name heard at another address is a conflict, refused and reported as a `conflict` event
// once per address; a left member's name may move). The native dialect keys members by address
// (ids are node_id_of(address): the simulator and the heartbeat detectors rely on it), so a
// process restarted under the same name at a new address is a new id. When an alive message
// introduces an id whose name another member already holds:
//  - the holder is failed or left: the newcomer replaces it at once (`replaced` event for the
//    old entry, which is forgotten; its id is remembered with its incarnation, so stale alive
//    gossip about it cannot bring it back);
//  - the holder is live: it may be the crashed previous instance not yet detected, or a second
//    live process with that name. We suspect the holder (or the newcomer, when the holder is
//    this node): a dead instance cannot refute and fails after the suspicion timeout, and is
//    then replaced; a live one refutes, and the refutation is reported as a `conflict` event
//    (and counted), once per claim. Both entries then stay, nothing more is suspected on that
//    account: no flapping. Serf instead asks every member which address it believes (its
//    `_serf_conflict` query) and shuts the minority down; we report and leave the decision to
//    the operator. A restart at the same address keeps its id and refutes its own death with a
//    higher incarnation, as in memberlist.
#pragma once

#include <array>
#include <functional>
#include <map>
#include <set>
#include <memory>
#include <vector>

#include "core/membership/broadcast_queue.h"
#include "core/membership/codec.h"
#include "core/membership/detector.h"
#include "core/membership/member_list.h"
#include "core/membership/queries.h"
#include "core/membership/user_events.h"
#include "core/serf/serf_layer.h"
#include "core/ticker.h"
#include "grapevine/membership.h"
#include "util/rng.h"
#include "wire/native.h"
#include "wire/native_membership.h"

namespace grapevine::detail {

std::unique_ptr<FailureDetector> make_swim_detector(class MembershipNode& node, bool lifeguard);
std::unique_ptr<FailureDetector> make_gossip_heartbeat_detector(class MembershipNode& node);
std::unique_ptr<FailureDetector> make_all_to_all_detector(class MembershipNode& node);
std::unique_ptr<FailureDetector> make_phi_detector(class MembershipNode& node);

class MembershipNode final : public Membership {
 public:
  MembershipNode(const MembershipConfig& config, const Address& self, std::uint64_t seed);
  ~MembershipNode() override;

  // Machine
  void on_datagram(Time now, const Address& from, std::span<const std::byte> bytes,
                   Effects& fx) override;
  void on_stream(Time now, const Address& from, std::span<const std::byte> message,
                 StreamId stream, Effects& fx) override;
  void on_timeout(Time now, Effects& fx) override;
  [[nodiscard]] Time next_deadline() const noexcept override;
  [[nodiscard]] Result<std::size_t> stream_message_length(
      std::span<const std::byte> received) const override;

  // Membership
  Result<void> join(Time now, std::span<const Address> seeds, Effects& fx) override;
  Result<void> join_with(Time now, std::span<const Address> seeds, const JoinOptions& options,
                         Effects& fx) override;
  void leave(Time now, Effects& fx) override;
  void preload(Time now, std::span<const Address> members) override;
  Result<void> update_meta(Time now, std::span<const std::byte> meta, Effects& fx) override;
  Result<std::uint64_t> user_event(Time now, std::string_view name,
                                   std::span<const std::byte> payload, bool coalesce,
                                   Effects& fx) override;
  Result<void> force_leave(Time now, std::string_view name, Effects& fx) override;
  void witness_event_clock(std::uint64_t ltime) override { user_events_.witness(ltime); }
  // queries (queries.h, queries.cc)
  Result<QueryTicket> query(Time now, std::string_view name, std::span<const std::byte> payload,
                            const QueryParams& params, Effects& fx) override;
  Result<QueryTicket> internal_query(Time now, std::string_view name,
                                     std::span<const std::byte> payload,
                                     const QueryParams& params, Effects& fx) override;
  Result<void> respond(Time now, std::uint64_t ltime, std::uint32_t id,
                       std::span<const std::byte> payload, Effects& fx) override;
  void set_internal_queries(InternalQueryHandler* handler) override {
    internal_queries_ = handler;
  }
  Result<MessageId> broadcast(Time now, std::span<const std::byte> payload,
                              Effects& fx) override;
  [[nodiscard]] NodeId self_id() const noexcept override { return self_id_; }
  [[nodiscard]] std::vector<MemberInfo> members() const override;
  [[nodiscard]] std::size_t member_count(MemberState s) const noexcept override {
    return list_.count(s);
  }
  [[nodiscard]] const Group& live_group() const noexcept override { return list_; }
  [[nodiscard]] const MembershipStats& stats() const noexcept override { return stats_; }
  [[nodiscard]] std::uint32_t health_score() const noexcept override;
  [[nodiscard]] std::size_t queue_depth() const noexcept override { return queue_.size(); }
  Result<std::uint64_t> serf_query(Time now, std::string_view name,
                                   std::span<const std::byte> payload,
                                   const SerfQueryOptions& options, Effects& fx) override;
  bool serf_query_result(std::uint64_t ltime, SerfQueryResult& out) const override;
  /// Serf's protocol layer (MemberlistOptions::serf), or nullptr.
  [[nodiscard]] serf::Layer* serf_layer() noexcept { return serf_.get(); }

  // ---- for the failure detectors ----
  [[nodiscard]] const MembershipConfig& config() const noexcept { return config_; }
  MemberList& list() noexcept { return list_; }
  Rng& rng() noexcept { return rng_; }
  MembershipStats& mutable_stats() noexcept { return stats_; }
  [[nodiscard]] bool leaving() const noexcept { return leaving_; }
  // Sending, in the configured dialect; each datagram is topped up with queued updates.
  void send_ping(Effects& fx, const Address& to, const wire::PingFrame& f,
                 const wire::AccuseFrame* buddy);
  void send_ping_req(Effects& fx, const Address& to, const wire::PingReqFrame& f);
  void send_ack(Effects& fx, const Address& to, std::uint32_t seq);
  void send_nack(Effects& fx, const Address& to, std::uint32_t seq);
  /// SWIM's TCP fallback: `f` to member `target` over a stream, answered on it (the answer
  /// reaches the detector's on_stream_ack). False (nothing sent) when tcp_fallback_ping is off,
  /// the member is unknown, or, in the memberlist dialect, its Vsn says protocol < 3.
  bool send_stream_ping(Effects& fx, NodeId target, const wire::PingFrame& f);
  void send_heartbeat(Effects& fx, const Address& to, const wire::HeartbeatFrame& f);
  /// The rows in as many budget-sized datagrams as they need.
  void send_hb_rows(Effects& fx, const Address& to, std::span<const wire::HeartbeatEntry> rows);

  /// This node's own suspicion of a member after a failed probe.
  void suspect(Time now, NodeId id, Effects& fx);
  /// This node's own verdict that a member failed (suspicion timeout, heartbeat timeout).
  void declare_failed(Time now, NodeId id, Effects& fx);
  /// A member heard directly (heartbeat detectors): adds it if unknown.
  std::uint32_t learn(Time now, NodeId id, const Address& address, Effects& fx);
  /// A heartbeat detector's local verdict: failed, without telling anyone.
  void mark_failed_locally(Time now, std::uint32_t slot, Effects& fx);
  /// A heartbeat detector brings a member it had marked failed back (fresh direct evidence).
  void revive_locally(Time now, std::uint32_t slot, Effects& fx);
  /// Queue retransmit limit: retransmit_mult * ceil(log10(n + 1)).
  [[nodiscard]] std::uint32_t retransmit_limit() const noexcept;

 private:
  // merge rules
  class Inbound;
  /// Where an alive record came from: gossip (or a detector), a push-pull, or a seed's join
  /// reply whose records are not re-gossiped (MembershipConfig::join_reply_gossip off).
  enum class AliveFrom : std::uint8_t { gossip, push_pull, quiet_join_reply };
  void apply_alive(Time now, const wire::AliveFrame& a, Effects& fx, std::uint8_t pmax = 0,
                   AliveFrom from = AliveFrom::gossip);
  // Queues r's alive record for gossip (counted by source), unless `from` says not to.
  void regossip_alive(const MemberRecord& r, AliveFrom from);
  void apply_suspect(Time now, const wire::AccuseFrame& s, Effects& fx);
  void apply_dead(Time now, const wire::AccuseFrame& d, Effects& fx);
  void refute(Time now, std::uint32_t accused_incarnation, Effects& fx);
  /// `join_reply`: an entry of a seed's reply to our join, not among its newest.
  void merge_member(Time now, const wire::MemberEntry& m, std::uint8_t pmax, Effects& fx,
                    bool join_reply = false);
  void on_user(std::span<const std::byte> payload, Effects& fx);
  void on_user_event(const wire::UserEventFrame& f, Effects& fx, bool replayed = false);
  // A seed's reply to our join (push-pull flag 8): its event clock, then its recent events.
  void on_join_events_clock(std::uint64_t event_clock);
  // Anti-entropy of user events (user_events.cc): any other native push-pull carries the
  // sender's event clock and recent events, which repair what gossip missed here.
  [[nodiscard]] bool takes_repair_events() const noexcept;
  void on_repair_events_clock(std::uint64_t event_clock);
  void on_repair_event(const wire::UserEventFrame& f, Effects& fx);
  [[nodiscard]] bool sends_events(bool join, bool reply) const noexcept;
  [[nodiscard]] std::uint64_t event_digest() const noexcept;
  void deliver_user_event(const wire::UserEventFrame& f, Effects& fx);
  Result<QueryTicket> issue_query(Time now, std::string_view name,
                                  std::span<const std::byte> payload, const QueryParams& params,
                                  Effects& fx);
  void on_query(Time now, const wire::QueryFrame& f, Effects& fx);
  [[nodiscard]] bool passes_query_filters(const wire::QueryFrame& f) const;
  [[nodiscard]] bool passes_query_filters(const wire::QueryFrame& f, std::string_view name,
                                          std::span<const std::byte> meta) const;
  void reask_queries(Time now, Effects& fx);  // queries.h "re-ask"
  void reask_query(const QueryTable::Pending& p, Effects& fx);
  void handle_query(Time now, const wire::QueryFrame& f, Effects& fx);
  Result<void> send_query_answer(Time now, const QueryTable::Received& q, bool ack,
                                 std::span<const std::byte> payload, Effects& fx);
  void relay_query_answer(const QueryTable::Received& q, wire::QueryResponseFrame r,
                          Effects& fx);
  void on_query_response(Time now, const wire::QueryResponseFrame& f, Effects& fx);
  void expire_queries(Time now, Effects& fx);
  void remember_user(std::uint64_t hash);
  NodeId next_user_key();
  void deliver_user(const MessageId& id, std::span<const std::byte> payload, std::uint32_t hops,
                    Effects& fx);
  Bytes& primary(std::size_t i);
  /// `piggyback` false: only the primaries (query answers, as memberlist's SendTo: topping
  /// them up would spend the updates' transmissions on the querier, who has them).
  void send_messages(Effects& fx, const Address& to, std::size_t primaries,
                     bool piggyback = true);
  [[nodiscard]] Peer peer(const Address& to) const;
  // dissemination
  void broadcast_alive(const MemberRecord& r);
  void broadcast_accuse(wire::MemberFrame type, const wire::AccuseFrame& f);
  /// Rumor mongering's counter (rumor_stop_after): an update about `id` was received again,
  /// unchanged (`version`: rumor_version()); `accusation`: suspect, failed or left.
  void heard_again(NodeId id, std::uint64_t version, bool accusation);
  void emit(Effects& fx, EventKind kind, const MemberRecord& r);
  void gossip_round(Time now, Effects& fx);
  void send_push_pull(Effects& fx, const Address& to, bool join);
  // A join attempt: a push-pull to every seed, or to the next join_seeds_per_attempt of them.
  void contact_seeds(Effects& fx);
  // The wait before the next join attempt (join_seeds_per_attempt > 0: with backoff).
  Duration join_retry_delay() const noexcept;
  // join_gossip_delay: arms the prompt round when a member joins; runs it when due.
  void arm_join_gossip();
  void join_gossip_round(Time now, Effects& fx);
  // join_answers_per_second: takes a token if one is left (true), else false.
  bool take_join_answer(Time now);
  void anti_entropy(Effects& fx, const Address& to);
  [[nodiscard]] wire::ListDigestFrame state_digest() const noexcept;
  void on_state_digest(Time now, const wire::ListDigestFrame& f, const Address& from,
                       Effects& fx);
  Bytes encode_state(bool join, bool reply) const;
  void housekeeping(Time now, Effects& fx);
  [[nodiscard]] Duration push_pull_period() const noexcept;
  void depart(std::uint32_t slot, MemberState state, Time now);
  // identity across restarts (see the top of this file)
  void on_name_claim(Time now, NodeId claimant, Effects& fx);
  void contest(Time now, NodeId id, Effects& fx);
  void settle_name(Time now, NodeId departed, Effects& fx);
  void replace(NodeId old_id, Effects& fx);
  void report_conflict(Effects& fx, const MemberRecord& r, const Address& claimed_at);
  [[nodiscard]] bool retired(NodeId id, std::uint32_t incarnation) const;
  void list_recent_failed(Time now);
  [[nodiscard]] bool departed_walk_current() const noexcept;
  bool pick_gossip_target(NodeId& out);

  MembershipConfig config_;
  NodeId self_id_;
  Address self_address_;
  Rng rng_;
  MemberList list_;
  std::unique_ptr<Codec> codec_;
  BroadcastQueue queue_;
  std::vector<Bytes> out_;  // messages of the datagram being built (reused)
  Bytes datagram_;          // the datagram being built (reused)
  // User messages already delivered (by payload hash), the newest kSeenUsersMax.
  static constexpr std::size_t kSeenUsersMax = 4096;
  FlatIndex seen_users_;
  std::vector<std::uint64_t> seen_user_ring_;
  std::size_t seen_user_next_ = 0;
  std::uint64_t user_seq_ = 0;
  std::unique_ptr<FailureDetector> detector_;
  MembershipStats stats_;
  Ticker gossip_ticker_, push_pull_ticker_, house_ticker_, join_ticker_, reconnect_ticker_;
  Time catch_up_at_ = Time::max();  // churn_anti_entropy_delay: the pending catch-up round
  Time catch_up_first_ = Time::max();  // when the news that armed it began
  /// A catch-up round waits at most catch_up_wait_max_ churn_anti_entropy_delay after the
  /// first news not yet covered by a full state exchange (catch_up_first_): kCatchUpWaitMax,
  /// doubled for each round in a row that a storm outlasted (up to kCatchUpWaitCeiling), back
  /// to kCatchUpWaitMax after one that found it over.
  static constexpr std::int64_t kCatchUpWaitMax = 5;
  static constexpr std::int64_t kCatchUpWaitCeiling = 60;
  std::int64_t catch_up_wait_max_ = kCatchUpWaitMax;
  bool catch_up_capped_ = false;  // the pending round is at its cap: the news had not stopped
  void arm_catch_up();
  void fire_catch_up(Time now, Effects& fx);
  Time join_gossip_at_ = Time::max();  // join_gossip_delay: the pending prompt gossip round
  // rumor_stop_after: anti-entropy rounds 1 and 3 churn_anti_entropy_delay after the last
  // rumor stopped here (heard_again); the number still to run.
  Time rumor_settle_at_ = Time::max();
  std::uint32_t rumor_settles_left_ = 0;
  Time join_gossip_last_ = Time::zero();  // when the last prompt round ran
  Time clock_ = Time::zero();       // the latest `now` this machine was given
  std::vector<Address> seeds_;
  std::size_t seed_next_ = 0;  // join_seeds_per_attempt: the next seed to contact
  std::size_t join_attempts_ = 0;  // since join(): the retry backoff
  // join_answers_per_second: the token bucket (in answers) and when it was last refilled.
  double join_tokens_ = -1.0;  // < 0: not used yet (starts full)
  Time join_tokens_at_ = Time::zero();
  /// Failed and left members, oldest first (may hold stale entries for revived members):
  /// reaping and gossip-to-the-dead look here instead of scanning the whole list.
  std::vector<NodeId> departed_;
  std::vector<NodeId> recent_failed_;  // gossip_round's failed targets (list_recent_failed)
  // list_recent_failed's walk of departed_ (newest first, up to the first member older than
  // gossip_to_the_dead; stored oldest first), kept while no member departs, comes back or is
  // forgotten: ages only grow, so a later walk stops at the same entry or earlier. depart()
  // appends to it. Saves a list lookup (two cache misses) per departed member and gossip round
  // in a partition.
  struct DepartedSeen {
    Time since;
    NodeId id;
    bool failed;
  };
  std::vector<DepartedSeen> departed_walk_;
  std::uint64_t departed_changes_ = 0;  // bumped whenever departed_ changes
  std::uint64_t walk_list_changes_ = UINT64_MAX, walk_departed_changes_ = UINT64_MAX;
  Time digest_push_pull_after_ = Time::zero();  // rate limit of digest-triggered push-pulls
  bool started_ = false;
  bool leaving_ = false;
  // Entries replaced by a newer instance of their name: id -> incarnation (the newest
  // kRetiredMax, oldest first in retired_order_).
  static constexpr std::size_t kRetiredMax = 1024;
  std::map<NodeId, std::uint32_t> retired_;
  std::vector<NodeId> retired_order_;
  // Members suspected because another id claimed their name, until they fail or refute.
  std::set<NodeId> contested_;
  // memberlist dialect: the last conflicting address reported per member (at most kRetiredMax).
  std::map<NodeId, Address> conflict_reported_;
  UserEventLog user_events_;  // serf's event clock and recent-event buffer (user_events.h)
  RecentEvents recent_events_;  // what a joiner may replay (native; sent in join replies)
  std::uint64_t event_min_time_ = 0;  // events older were sent before our join (serf's)
  bool join_replay_ = false;          // JoinOptions::replay of the current join
  bool join_events_pending_ = false;  // a join's reply (with its events) not taken yet
  // Serf's protocol layer and its view of this node (serf_bridge.cc); the layer goes first.
  class SerfBridge;
  void start_serf();
  std::unique_ptr<serf::Host> serf_bridge_;  // a SerfBridge
  std::unique_ptr<serf::Layer> serf_;
  std::unique_ptr<QueryTable> queries_;  // allocated on the first query (queries.h)
  InternalQueryHandler* internal_queries_ = nullptr;
};

}  // namespace grapevine::detail
