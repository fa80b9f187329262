// ConsistentNode: consistent membership (Rapid; Suresh, Malkhi, Gopalan, Carreiro, Lokhandwala,
// "Stable and Consistent Membership at Scale with Rapid", USENIX ATC 2018) as a Membership
// machine. The pieces, each in its own file:
//   configuration.h  the member set, its id, the K rings (observers, subjects, gatekeepers)
//   edge_monitor.h   per-edge failure detection (the seam for other detectors)
//   cut_detector.h   H/L multi-process cut detection, implicit detection, stuck-subject drop
//   consensus.h      Fast Paxos over gossiped vote bitmaps + classic Paxos fallback
//   consistent_node.cc   probes, alert gossip, proposals, installing configurations
//   consistent_join.cc   joins through seeds, anti-entropy (catch-up), leave, rejoin
//   consistent_profiles.cc  members' names and metadata, gossiped outside the views
//
// Edge monitoring (ours; Rapid probes each of the K subjects every interval, 2K datagrams per
// member per interval): round-robin. Every probe_interval (at the member's own phase) a member
// probes the subject of ring (slot mod K), slot = now / probe_interval, so on each interval the
// members probe along one ring and each subject gets about one probe per interval from one of
// its observers: 2 datagrams per member per interval at rest. A probe that times out makes the
// subject *urgent* at that observer, which sends a suspect (alert kind 3, one datagram each,
// never gossiped nor counted) to the subject's other observers; they, and every observer that
// receives a REMOVE alert about one of its subjects (alert-triggered confirmation), probe it at
// once and then on each of their own ticks until it answers. The edge detector counts misses
// as before (probe_misses consecutive), so a crash is reported by all of its observers about
// probe_misses intervals after the first miss, spread over about one interval by their phases
// (which lets several failures of one interval cross L before any crosses H, as in Rapid).
// The first miss comes up to an interval after the fault (more when the observer of that slot
// is down too), so the failures of one moment would be first missed over several intervals:
// a member that receives a suspect also *sweeps* (probes every subject at once, at most once
// per probe_interval), which after a partition or a burst of crashes makes every observer miss
// its failed subjects within about one interval; a subject first reported during the settle
// time extends it to kSettleFresh propose_delays after that report (up to kSettleMax after
// the first alert); and REMOVE reports below L block the proposal for two probe intervals
// after the first (cut_detector.h, pending_window), the time its other observers need.
// At rest: 2 datagrams per member per interval; under heavy loss suspects and sweeps bring it
// back up to the K probes per interval of Rapid.
//
// Life of a view change: an observer's edge detector fires (or a gatekeeper is contacted by a
// joiner) -> the observer raises a REMOVE (JOIN) alert carrying (config, subject, rings) ->
// alerts spread by gossip: every gossip_interval a member sends its queued alerts (least-sent
// first, each sent retransmit_mult*ceil(log2(n+1)) rounds, one queue entry per subject with
// the rings of every report merged) to gossip_nodes random members, and re-queues alerts that
// add rings -> each member's cut detector waits until the alerts
// settle and votes its cut (or the most-voted cut, when it has >= L reports about each of its
// subjects: ours, it turns in-flight differences into agreement) -> votes spread as merged bitmaps -> a fast quorum decides, else a
// classic round -> every member installs config.next(cut), emits joined/failed/left for the
// toggled members and view_changed, resets detection and consensus, and monitors its new
// subjects.
//
// Anti-entropy (the reference's #24, merged then reverted): every probe and ack carries the
// sender's (epoch, config id). A member that sees a higher epoch sends sync_request; the peer
// answers with the decisions it kept since the asker's configuration (decision frames, last
// kHistoryMax), or the whole configuration on a stream (also when a decision's cut is over
// wire::kCutMembersMax). A member that decided a cut by digest without its list asks a voter
// for it (cut_request; answered with cut_state on a stream, from the current configuration's
// known cuts or from history). A member that installs a
// configuration without itself (removed while partitioned away, or a false removal) rejoins
// through the members of that configuration, unless it left. A member on the minority side of a
// partition cannot decide (no quorum): it keeps its configuration, emits view_stalled once per
// configuration and counts stats().view_stalls. The stall clock starts when a change is pending
// (a subject has >= L reports, or this member voted) and runs stall_timeout; it does not wait for
// a proposal, which a minority may never form (too few observers on its side to reach H).
// Alert gossip picks random members, and on a minority side most of them are cut off, so an
// observer sends its own standing REMOVE alerts again every probe_interval while the subject
// stays faulty and no configuration is installed (ours; found with 2 of 7 agents cut off in
// network namespaces, where one minority member missed the other's alerts 1 run in 6).
//
// Epochs only increase on a node: a configuration received whole is installed only if newer
// (or if the node never was in a chain), so a removed node cannot go back.
//
// Deviations and choices: a seed holds joiners and answers them in batches (join_batch_window,
// join_batch_quiet; at most kJoinsParkedMax held); alerts are merged per subject by relays
// (the ring masks of all its observers' reports OR-ed), so a batch of J joiners costs J alert
// entries, not K*J; cuts larger than wire::kCutMembersMax travel by digest and their member
// list on a stream (consensus.h); member identity is the address (node id =
// node_id_of(address)) and the configuration id hashes the member set only: names and metadata
// travel as profiles beside the views (consistent_profiles.cc: with the joins, by gossip, in
// every config_state), so a metadata change (update_meta) is not a view change, and a member
// whose profile has not arrived is named by its address (a preloaded roster carries none);
// force_leave and broadcast are unsupported (invalid_argument).
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <optional>
#include <vector>

#include "core/consistent/configuration.h"
#include "core/consistent/consensus.h"
#include "core/consistent/cut_detector.h"
#include "core/consistent/edge_monitor.h"
#include "grapevine/membership.h"
#include "util/rng.h"

namespace grapevine::detail {

/// The live members as a Group: self at index 0, then the others in id order.
class ConfigGroup final : public Group {
 public:
  void assign(const Address& self, std::span<const Address> members);
  [[nodiscard]] std::uint32_t size() const noexcept override { return std::uint32_t(list_.size()); }
  [[nodiscard]] Address address(std::uint32_t i) const noexcept override { return list_[i]; }
  [[nodiscard]] std::optional<std::uint32_t> index_of(const Address& a) const noexcept override;

 private:
  std::vector<Address> list_;
  std::vector<std::pair<Address, std::uint32_t>> sorted_;
};

class ConsistentNode final : public Membership, private ConsensusHost {
 public:
  static constexpr std::size_t kHistoryMax = 64;
  static constexpr std::size_t kAlertQueueMax = 4096;
  static constexpr std::size_t kSeedsMax = 16;
  /// Alert frames (kAlertsPerFrameMax alerts, one datagram each) per gossip target per round.
  static constexpr std::size_t kAlertFramesPerRound = 16;
  /// Joiners a seed holds for its next batch; more are not answered (they retry).
  static constexpr std::size_t kJoinsParkedMax = 4096;
  /// How often a member that decided a cut it lacks asks another voter for it.
  static constexpr Duration kCutFetchInterval = Duration::milliseconds(300);
  /// Profiles gossiped per target per round (kProfilesPerFrameMax each at most).
  static constexpr std::size_t kProfileFramesPerRound = 4;
  /// Profiles kept of non-members (joiners announced before their view change).
  static constexpr std::size_t kProfilesNonMembersMax = 4096;
  /// The settle time before voting is extended by new subjects up to this many propose_delays.
  static constexpr std::int64_t kSettleMax = 8;
  /// A subject first reported during the settle time extends it to this many propose_delays
  /// after that report (its other observers report it over about one probe_interval).
  static constexpr std::int64_t kSettleFresh = 3;

  ConsistentNode(const MembershipConfig& config, const Address& self, std::uint64_t seed);

  void on_datagram(Time now, const Address& from, std::span<const std::byte> bytes,
                   Effects& fx) override;
  void on_stream(Time now, const Address& from, std::span<const std::byte> message,
                 StreamId stream, Effects& fx) override;
  void on_timeout(Time now, Effects& fx) override;
  [[nodiscard]] Time next_deadline() const noexcept override;

  Result<void> join(Time now, std::span<const Address> seeds, Effects& fx) override;
  void preload(Time now, std::span<const Address> members) override;
  void leave(Time now, Effects& fx) override;
  Result<void> force_leave(Time now, std::string_view name, Effects& fx) override;
  Result<MessageId> broadcast(Time now, std::span<const std::byte> payload, Effects& fx) override;
  Result<void> update_meta(Time now, std::span<const std::byte> meta, Effects& fx) override;

  [[nodiscard]] NodeId self_id() const noexcept override { return node_id_of(self_); }
  [[nodiscard]] std::vector<MemberInfo> members() const override;
  [[nodiscard]] std::size_t member_count(MemberState state) const noexcept override;
  [[nodiscard]] const Group& live_group() const noexcept override { return group_; }
  [[nodiscard]] const MembershipStats& stats() const noexcept override { return stats_; }
  [[nodiscard]] std::size_t queue_depth() const noexcept override { return alerts_.size(); }
  [[nodiscard]] std::uint32_t health_score() const noexcept override { return 0; }
  [[nodiscard]] ConfigurationInfo configuration() const noexcept override;

 private:
  struct Subject {
    Address address;
    std::uint16_t rings = 0;
    std::unique_ptr<EdgeDetector> detector;
    std::uint32_t seq = 0;
    bool waiting = false;  // probe outstanding
    bool urgent = false;   // probed every interval until it answers (a miss, a suspect, a REMOVE)
    Time calm_at;          // an answer ends urgency only from then on (probe_misses after a miss)
    bool alerted = false;  // REMOVE raised in this configuration
    bool leaving = false;  // the subject said it leaves
    Time sent;
    Time realert_at = Time::max();  // a standing REMOVE is gossiped again (check_probes)
  };
  struct QueuedAlert {
    wire::Alert alert;
    std::uint32_t transmits = 0;
  };
  struct Parked {
    Address joiner;
    Time last;  // its last pre_join
  };
  struct Decision {
    wire::ConfigRef from;
    std::vector<Address> cut;
  };

  // consistent_node.cc: dispatch, monitoring, gossip, proposals, installs.
  void dispatch(Time now, const Address& from, const wire::RapidMessage& m);
  void on_probe(Time now, const Address& from, const wire::RapidMessage& m);
  void on_probe_ack(Time now, const Address& from, const wire::RapidMessage& m);
  void probe_subjects(Time now);
  void probe(Time now, Subject& s);
  void check_probes(Time now);
  void send_suspect(const Subject& s);
  void confirm(Time now, const Address& subject);
  void sweep(Time now);
  void raise_alert(Time now, const Address& subject, wire::AlertKind kind, std::uint16_t rings);
  void on_alerts(Time now, const wire::RapidMessage& m);
  bool accept_alert(Time now, wire::Alert a);
  void enqueue_alert(const wire::Alert& a);
  void gossip(Time now);
  void schedule_propose(Time now);
  void try_propose(Time now);
  void after_consensus(Time now, bool catch_up = false);
  void fetch_cut(Time now);
  void on_cut_request(Time now, const Address& from, const wire::RapidMessage& m);
  void on_cut_state(Time now, std::span<const std::byte> message);
  void install(Time now, const Configuration& next, std::span<const Address> cut, bool catch_up);
  void reset_for_config(Time now);
  void emit_view(Time now, EventKind kind);
  void send(const Address& to, const wire::RapidMessage& m);
  void send_to(const Address& to, const wire::RapidMessage& m) override { send(to, m); }
  void send_to_members(const wire::RapidMessage& m) override;
  [[nodiscard]] std::uint32_t retransmit_limit() const noexcept;

  // consistent_profiles.cc: members' names and metadata.
  struct QueuedProfile {
    Address address;
    std::uint32_t transmits = 0;
  };
  void on_profiles(Time now, const Address& from, const wire::RapidMessage& m);
  bool learn_profile(const wire::ProfileView& p, bool relay);
  void queue_profile(const Address& a);
  void send_own_profile(const Address& to);
  void gossip_profiles(std::span<const std::uint32_t> targets);
  void learn_config_profiles(std::span<const Address> members,
                             std::span<const wire::Profile> profiles);
  void prune_profiles();
  [[nodiscard]] std::string name_of(const Address& a) const;
  [[nodiscard]] std::span<const std::byte> meta_of(const Address& a) const;
  [[nodiscard]] std::vector<wire::ProfileView> member_profiles() const;

  // consistent_join.cc: joins, anti-entropy, leave.
  void join_tick(Time now);
  void on_pre_join(Time now, const Address& from, const wire::RapidMessage& m);
  void on_join_info(Time now, const Address& from, const wire::RapidMessage& m);
  void on_join(Time now, const Address& from, const wire::RapidMessage& m);
  void on_leave(Time now, const Address& from, const wire::RapidMessage& m);
  void compare_config(Time now, const Address& peer, wire::ConfigRef theirs);
  void on_sync_request(Time now, const Address& from, const wire::RapidMessage& m);
  void on_decision_frame(Time now, const Address& from, const wire::RapidMessage& m);
  void send_config_state(const Address& to);
  void install_whole(Time now, const Configuration& next);
  void start_rejoin(Time now);
  void fill_join_info(const Address& joiner, wire::RapidMessage& out) const;
  void schedule_release(Time now);
  void release_joiners(Time now);
  void reopen_batch(Time now);

  MembershipConfig config_;
  ConsistentOptions opts_;
  Address self_;
  Rng rng_;
  Effects* fx_ = nullptr;  // set for the duration of each call
  MembershipStats stats_;

  Configuration view_;
  bool member_ = true;
  bool joining_ = false;
  bool left_ = false;
  bool in_chain_ = false;  // installed or preloaded a configuration (vs. its own singleton)
  std::vector<Address> seeds_;
  std::uint32_t seed_cursor_ = 0;
  wire::ConfigRef joined_under_;  // configuration of the last join round sent, and when
  Time joined_at_;
  ConfigGroup group_;

  std::vector<Address> granted_;  // joiners this seed gave gatekeepers in this configuration
  std::vector<Parked> parked_;    // joiners held for the next batch
  bool released_ = false;         // this configuration's batch went out (at released_at_)
  Time released_at_ = Time::zero();
  Time batch_open_ = Time::max(), last_parked_ = Time::zero(), release_at_ = Time::max();
  std::vector<Subject> subjects_;
  std::vector<QueuedAlert> alerts_;
  CutDetector cut_;
  Consensus consensus_;
  std::deque<Decision> history_;

  Time next_probe_ = Time::max(), probe_check_ = Time::max(), next_gossip_ = Time::max();
  Time propose_at_ = Time::max(), classic_at_ = Time::max(), stall_at_ = Time::max();
  Time join_at_ = Time::max(), sync_allowed_at_ = Time::zero();
  Time drop_check_ = Time::max();  // when a stuck subject's drop may unblock the proposal
  Time cut_fetch_at_ = Time::max();
  Time sweep_allowed_ = Time::zero();  // the next sweep of every subject (sweep)
  Address cut_hint_;               // who sent the decision whose cut we lack
  bool catch_up_pending_ = false;
  Time settle_from_ = Time::max();  // first alert of this configuration
  bool fresh_subject_ = false;      // the last alerts named a subject new to the detector
  Time config_since_;
  bool stalled_ = false;
  std::map<Address, wire::Profile> profiles_;  // names and metadata (self's is authoritative)
  std::vector<QueuedProfile> profile_queue_;     // profiles to gossip (least-sent first)
  wire::RapidMessage in_, out_;  // scratch frames (large; one of each per node)
};

}  // namespace grapevine::detail
