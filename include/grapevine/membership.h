// Group membership: configuration, member records and the membership machine's interface.
//
// Every node keeps a list of the members it knows, each alive, suspect, failed or left, with an
// incarnation number only the member itself may raise. A failure detector (selectable) decides
// who failed; a dissemination component (updates piggybacked on protocol packets, plus periodic
// full-state anti-entropy over a stream) spreads every change. A *failure* (the detector gave up
// on a member) and a voluntary *leave* (the member said goodbye) are different states, different
// events and different counters everywhere.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "grapevine/limits.h"
#include "grapevine/address.h"
#include "grapevine/group.h"
#include "grapevine/machine.h"
#include "grapevine/query.h"
#include "grapevine/result.h"
#include "grapevine/time.h"

namespace grapevine {

using NodeId = std::uint64_t;

enum class MemberState : std::uint8_t { alive = 0, suspect = 1, failed = 2, left = 3 };
const char* member_state_name(MemberState s) noexcept;

enum class Detector : std::uint8_t {
  swim,              // SWIM: ping, ping-req through k members, suspicion, incarnations
  lifeguard,         // SWIM + Lifeguard: local health, nacks, dynamic suspicion, buddy system
  gossip_heartbeat,  // van Renesse et al. 1998: heartbeat counters gossiped with the list
  all_to_all,        // every member heartbeats every other member
  phi,               // gossip-style heartbeating judged by a phi-accrual detector (Akka's model)
};
const char* detector_name(Detector d) noexcept;
bool parse_detector(std::string_view text, Detector& out) noexcept;

/// Which membership protocol runs: `eventual` (the detector above, weakly consistent lists) or
/// `consistent` (Rapid: every member installs the same sequence of configurations, decided by
/// consensus; src/core/consistent/). Consistent mode speaks the native dialect only.
enum class MembershipMode : std::uint8_t { eventual, consistent };
const char* membership_mode_name(MembershipMode m) noexcept;
bool parse_membership_mode(std::string_view text, MembershipMode& out) noexcept;

/// Settings of consistent membership (Rapid, Suresh et al., ATC 2018); defaults are the paper's
/// K, H, L and our edge detector, gossip and consensus timings (src/core/consistent/*.h).
struct ConsistentOptions {
  std::uint32_t rings = 10;  // K: observers and subjects per member
  std::uint32_t high = 9;    // H: reports that make a subject stable
  std::uint32_t low = 3;     // L: reports that make a subject unstable (blocks proposals)
  /// Each member probes one of its K subjects per interval, round-robin over the rings, and
  /// every subject that missed a probe (or is suspected by another observer) every interval.
  Duration probe_interval = Duration::seconds(1);
  Duration probe_timeout = Duration::milliseconds(500);
  /// Consecutive unanswered probes before an edge alert (the reference counts 10 failures,
  /// cumulatively). 10 keeps false alerts rare at 30% loss: (1 - 0.7^2)^10 ~ 1e-3 per probe.
  std::uint32_t probe_misses = 10;
  Duration gossip_interval = Duration::milliseconds(200);  // alert and vote gossip rounds
  std::uint32_t gossip_nodes = 3;                           // targets per round
  std::uint32_t retransmit_mult = 1;  // an alert is gossiped retransmit_mult*ceil(log2(n+1)) rounds
  Duration propose_delay = Duration::milliseconds(500);     // settle time before voting
  Duration unstable_timeout = Duration::seconds(10);        // a stuck subject is dropped after
  Duration classic_timeout = Duration::seconds(4);          // + jitter in [0, classic_timeout)
  Duration stall_timeout = Duration::seconds(20);           // undecided this long: view_stalled
  /// Join batching at a seed: joiners asking in one configuration are held and answered
  /// together once no new joiner came for join_batch_quiet, or join_batch_window after the
  /// first, so that a join storm becomes a few large view changes.
  Duration join_batch_window = Duration::seconds(5);
  Duration join_batch_quiet = Duration::seconds(1);
};

enum class Dialect : std::uint8_t {
  native,      // grapevine's compact binary frames
  memberlist,  // HashiCorp memberlist's protocol (versions 2-5): joins Go/serf/Consul clusters
};
const char* dialect_name(Dialect d) noexcept;
bool parse_dialect(std::string_view text, Dialect& out) noexcept;

/// Options of the memberlist dialect (memberlist's Config fields of the same meaning).
struct MemberlistOptions {
  /// AES-GCM keys of 16, 24 or 32 bytes; the first is the primary (used to encrypt), all are
  /// tried to decrypt. Empty: no encryption. Keys need the cipher linked in (grapevine::crypto,
  /// grapevine/crypto.h): without it validate() refuses them (invalid_argument).
  std::vector<std::vector<std::byte>> keys;
  /// Cluster label (memberlist >= 0.3): sent on every packet and stream, and required on input.
  std::string label;
  bool gossip_verify_incoming = true;  // with keys: refuse unencrypted input
  bool gossip_verify_outgoing = true;  // with keys: encrypt what we send
  bool compression = true;             // EnableCompression
  /// Delegate protocol versions advertised in Vsn [dmin, dmax, dcur]: serf uses 2, 5, 4 and
  /// refuses members whose range does not overlap its own.
  std::uint8_t delegate_min = 0, delegate_max = 0, delegate_cur = 0;
  /// Serf's protocol layer on top (src/core/serf/; `--dialect serf`): join/leave intents,
  /// user events, queries and serf's internal queries ride memberlist's user messages and
  /// push-pull user state, so this node is a full member of a serf cluster. Set the delegate
  /// versions to serf's agent's 2, 5, 5 with it.
  bool serf = false;
  /// serf: fixed answers to user queries, query name -> response payload ("" = any query);
  /// queries not listed are acked (when asked) but not answered.
  std::vector<std::pair<std::string, std::string>> serf_responses;
};

struct MembershipConfig {
  MembershipMode mode = MembershipMode::eventual;
  ConsistentOptions consistent;  // used when mode == consistent
  Detector detector = Detector::lifeguard;
  Dialect dialect = Dialect::native;
  MemberlistOptions memberlist;
  /// Human-readable name carried in alive messages and events. Required by the memberlist
  /// dialect, where the name is the member's identity.
  std::string name;
  std::vector<std::byte> meta;  // at most kMetaBytesMax (512) bytes, carried with the member
  /// Zone (a network behind one router, a rack, a datacenter): topology-aware multicast sends
  /// across zones with probability 1/n_i (group.h). At most 64 bytes; empty = none. Carried in
  /// the member's alive/push-pull entries in the native dialect; the memberlist dialect has no
  /// room for it on the wire and refuses a non-empty zone (use zone_prefix there).
  std::string zone;
  /// Derive zones from addresses: a member without a zone of its own is in the zone named by
  /// its address masked to this many bits ("10.0.1.0/24"). IPv4 only (1..32); an IPv6 member
  /// uses the same number of leading bits of its 128-bit address. 0 = off. Works in both
  /// dialects, computed locally by every node, so all nodes of a group should use the same.
  std::uint8_t zone_prefix = 0;

  // --- SWIM / Lifeguard (memberlist's LAN defaults) ---
  Duration probe_interval = Duration::seconds(1);
  Duration probe_timeout = Duration::milliseconds(500);
  std::uint32_t indirect_checks = 3;  // k
  std::uint32_t suspicion_mult = 4;
  std::uint32_t suspicion_max_timeout_mult = 6;
  std::uint32_t retransmit_mult = 4;  // updates piggybacked retransmit_mult * ceil(log10(n+1))
  std::uint32_t awareness_max = 8;    // Lifeguard local health multiplier cap
  /// TCP fallback probe (memberlist's DisableTcpPings = false): when a ping gets no ack within
  /// probe_timeout, the target is also pinged over a stream, in parallel with the indirect
  /// probes; an ack on that stream by the end of the probe counts as success. Streams survive
  /// datagram loss that would otherwise get live members suspected. memberlist members are
  /// pinged this way only if their Vsn says protocol >= 3.
  bool tcp_fallback_ping = true;
  /// Each node starts its probe periods at a random offset (memberlist's stagger). False: the
  /// periods start at the node's first on_timeout, so nodes started together probe in lockstep,
  /// the synchronous rounds of SWIM's analysis (for experiments; a real group should stagger).
  bool probe_random_phase = true;
  /// Separate gossip of queued updates every gossip_interval to gossip_nodes members
  /// (memberlist does this besides piggybacking; 0 = piggyback only, as in the SWIM paper).
  Duration gossip_interval = Duration::milliseconds(200);
  std::uint32_t gossip_nodes = 3;
  Duration gossip_to_the_dead = Duration::seconds(30);

  // --- heartbeat detectors ---
  Duration heartbeat_interval = Duration::seconds(1);
  /// T_fail: a member whose heartbeat has not risen for this long is failed. Zero = automatic:
  /// all-to-all 5 intervals; gossip-style 4 (log2 n + ln n) + 4 intervals, twice the time a
  /// heartbeat needs to reach everyone when half the group is dead, plus slack.
  Duration fail_timeout = Duration::zero();
  /// T_cleanup = cleanup_factor x T_fail (van Renesse: 2, so stale gossip cannot resurrect).
  double cleanup_factor = 2.0;
  std::uint32_t heartbeat_fanout = 1;  // gossip-style: targets per interval

  // --- phi-accrual (Detector::phi; core/membership/phi_accrual.h) ---
  // Gossip-style heartbeating as above; a member is failed (locally) once phi(now - the last
  // rise of its counter here) reaches phi_threshold, phi fitted to that member's recent
  // inter-arrival times (Akka's normal model) instead of a fixed T_fail. A member listed whose
  // counter never rose here is judged by T_fail (nothing to fit yet).
  // Defaults, ours | Akka cluster | Cassandra:
  //   threshold          8      | 8       | phi_convict_threshold 8 (exponential model: fails
  //                                          after 18.4 mean intervals)
  //   window             100    | 1000    | 1000
  //   min std deviation  500 ms | 100 ms  | - (exponential model: no deviation)
  //   acceptable pause   10 s   | 3 s     | - (intervals over 2 s are not recorded)
  //   first estimate     3 s    | 1 s     | the first interval is taken as 2 s
  // Why ours differ: a gossiped counter does not arrive like a direct heartbeat. It rises here
  // when some gossip carries a newer one, so with heartbeat_fanout 1 the inter-arrival times
  // have mean ~2.5 s, deviation ~1.9 s and a right tail far heavier than a normal law's
  // (p99.99 13.7 s, max 17.6 s over 2 million samples at N = 300, 10% loss), nearly the same
  // at any N; and an observer that happens to receive little gossip for a while sees every
  // member go quiet at once. The pause absorbs that tail (Akka's 3 s gave 1,946 false failures
  // at N = 100, 10% loss, 4 runs; 10 s gave 0), the larger first estimate covers the join
  // phase, when few intervals are known. With heartbeat_fanout 3 the intervals are regular
  // enough for Akka's 3 s pause (docs/experiments.md, phi). A window of 100 costs 400 bytes
  // per member watched (Akka's 1000: 4 KB, times N members at each of N observers).
  // A mass crash stretches the tail further: while the crashed are still gossip targets, half
  // of every member's gossip is lost, and a live member's counter may not rise at some
  // observer for 15-16 s. Half of 100 crashing 20 s after a 2 s join (DetectorScenarios): 36
  // of 100 seeds had 1-35 false failures (accuracy >= 0.92, most 15-20 s after the crash,
  // unrefuted until T_cleanup as gossip-style's), with or without join_reply_gossip and
  // churn_anti_entropy_delay; a 15 s pause, or fanout 3 with a 3 s pause, had none in 50.
  double phi_threshold = 8.0;
  std::uint32_t phi_window = 100;
  Duration phi_min_std_deviation = Duration::milliseconds(500);
  Duration phi_acceptable_pause = Duration::seconds(10);
  Duration phi_first_heartbeat_estimate = Duration::seconds(3);

  // --- anti-entropy, join, reaping ---
  Duration push_pull_interval = Duration::seconds(30);
  /// Failed members are retried (a push-pull to one of them) this often, so a healed partition
  /// merges back by itself, and forgotten after reap_failed_after. Left members stay as
  /// tombstones for tombstone_timeout so stale gossip cannot bring them back.
  Duration reconnect_interval = Duration::seconds(30);
  Duration reap_failed_after = Duration::seconds(3600);
  Duration tombstone_timeout = Duration::seconds(3600);
  /// How often a joining node retries its seeds while it knows nobody.
  Duration join_retry_interval = Duration::seconds(1);
  /// Seeds a joining node contacts per attempt. 0 = every seed at once (memberlist's Join).
  /// k > 0: k of them, starting at a position drawn from the node's id, and each retry moves on
  /// to the next k, so a joiner that a busy seed did not answer tries another seed, and S seeds
  /// share N joiners' push-pulls instead of each answering all of them. The retries back off:
  /// join_retry_interval doubles after each pass over all seeds (at most 16x), plus up to half
  /// an interval of jitter.
  std::uint32_t join_seeds_per_attempt = 0;
  /// Join push-pulls this node answers per second, as a seed (a token bucket holding at most
  /// one second's worth). A join past it is merged (the joiner's own record: cheap) but not
  /// answered: the stream closes without the full state, which at 10,000 members is ~0.5 MB
  /// to encode and send; the joiner retries (another seed, with join_seeds_per_attempt) or,
  /// once gossip has taught it a member, fetches the state by catch-up anti-entropy from a
  /// random member. Counted in MembershipStats::joins_refused. 0 = no limit (memberlist's).
  std::uint32_t join_answers_per_second = 0;
  /// Catch-up anti-entropy after churn: a node that learns of a new member does one extra
  /// anti-entropy round (a digest, a full push-pull only if the lists differ) with a random
  /// member once it has learned of no new member for this long, and at most 5x this long
  /// after the first (then again if it learned more since): in a join storm one round at its
  /// end, not one a second while the lists differ by the joins in flight. A member that missed the
  /// gossip of a few joiners (a lost datagram in a join storm) is repaired in about this long
  /// instead of waiting for the periodic push-pull (30-60 s; the demo's 12-28 s join outliers).
  /// At rest it costs nothing. Zero = off (memberlist's behaviour). Applied with every
  /// detector (it was once SWIM/Lifeguard only, for a phi false failure that turned out to be
  /// phi's own under a mass crash: see the phi settings).
  Duration churn_anti_entropy_delay = Duration::seconds(1);
  /// Prompt gossip of joins: a node that learns of a new member gossips its queued updates to
  /// 2 x gossip_nodes random members (at most 16) this long after (one such round pending at a
  /// time, rounds at least gossip_interval / 10 apart) instead of at its next gossip tick. A
  /// joiner's news then spreads at about this per hop, not gossip_interval / 2
  /// (docs/performance.md, "Join convergence beside memberlist"): the updates are the same,
  /// each still sent at most retransmit_limit() times by each node, only sooner. At rest it
  /// costs nothing. Zero = off (memberlist's behaviour).
  Duration join_gossip_delay = Duration::milliseconds(10);
  /// Native dialect: re-gossip the members learned from a seed's reply to our join, as
  /// memberlist's mergeState does. Off by default: the seed knows every one of them, and each
  /// was gossiped when it joined, so a joiner queueing all N records (N x retransmit_limit()
  /// frames, N^2 log N over a join of N) repeats news everybody has (docs/performance.md,
  /// "Toward 10,000 nodes"). The joiner's own record (gossiped by the seed), refutations, and
  /// news from any other push-pull (anti-entropy) are queued either way. The memberlist and
  /// serf dialects always re-gossip (behaviour toward Go peers unchanged). Applies with every
  /// detector (heartbeat counters travel in the detectors' own rows, not in these records).
  bool join_reply_gossip = false;
  /// With join_reply_gossip off, the last this many entries of a join reply are still
  /// re-gossiped: a seed lists its members in the order it added them, so these are the ones
  /// it learned last, whose news may still be spreading (in a join storm, the joiners just
  /// before this one). Without them a burst of joins (200 at once through 3 seeds) converged
  /// only by anti-entropy (10-28 s instead of 1 s). Each join then costs at most this many
  /// records x retransmit_limit(), whatever the group's size.
  std::uint32_t join_reply_gossip_newest = 64;

  /// Rumor mongering with a counter (Demers et al. 1987, the counter variant): a queued alive
  /// record that this node then receives again, unchanged (same member, same incarnation),
  /// from rumor_stop_after other messages is dropped from its queue, however few of its
  /// retransmit_mult * ceil(log10(n + 1)) transmissions it has made: the rumor is already
  /// common. In a join storm every member otherwise piggybacks each joiner's record 16 times
  /// at 10,000 members (N^2 x 16 records in all); what it leaves undelivered the catch-up
  /// anti-entropy (churn_anti_entropy_delay) and the periodic push-pull repair.
  /// 0 = off (memberlist's TransmitLimitedQueue). Applied from 256 members listed (below, the
  /// cost is small and the residue's repair would add ~1 s to a join), and then two digest
  /// anti-entropy rounds follow a node's last stop, 1x and 3x churn_anti_entropy_delay later.
  /// Native dialect only: the memberlist and serf
  /// dialects keep memberlist's behaviour (it is a local send policy and wire-compatible, but
  /// not measured beside Go members). Default 0 (off); 2 is the measured choice when on: 0.5-0.6x
  /// the updates and 0.6-0.7x the bytes of a join storm, 0 false failures, but the join's CPU
  /// unchanged beside the trailing-edge catch-up and its convergence 2-3 s later in the
  /// simulator at 1,000 members (docs/performance.md, branch rumorcount).
  std::uint32_t rumor_stop_after = 0;
  /// The same for suspect, failed and left updates (k for them; 0 = off, the default: they
  /// are few, and a missed one costs a false suspicion or a leave seen as a failure).
  std::uint32_t rumor_stop_after_accusations = 0;

  std::size_t packet_budget_bytes = 1400;

  /// Members to make room for at start (a capacity hint, not a limit; 0, the default: grow as
  /// members arrive). A list past 1,024 members grows by a quarter, reallocating and copying
  /// each time; a process hosting thousands of nodes that all fill their lists at once (a join
  /// storm) spent ~18% of its CPU on those copies and on the kernel zeroing the fresh pages
  /// (docs/performance.md, "Two loop threads"). A deployment that knows its size sets it; the
  /// room is reserved but touched only as members arrive. At most 4,194,304 (kMembersMax).
  std::uint32_t expected_members = 0;

  /// A query's default timeout is gossip_interval * query_timeout_mult * ceil(log10(n + 1))
  /// (serf's QueryTimeoutMult; grapevine/query.h).
  std::uint32_t query_timeout_mult = 16;

  /// memberlist's DefaultLANConfig, DefaultWANConfig and DefaultLocalConfig timings.
  static MembershipConfig lan();
  static MembershipConfig wan();
  static MembershipConfig local();
};

Result<void> validate(const MembershipConfig& config) noexcept;

/// `--dialect serf`: the memberlist dialect with serf's protocol layer on
/// (MemberlistOptions::serf), advertising serf's agent's delegate versions 2, 5, 5 unless
/// delegate versions are already set.
void use_serf_dialect(MembershipConfig& config) noexcept;

/// One member as the application sees it.
struct MemberInfo {
  NodeId id = 0;
  std::string name;
  Address address;
  MemberState state = MemberState::alive;
  std::uint32_t incarnation = 0;
  std::vector<std::byte> meta;
  std::string zone;  // empty = none
};

struct MembershipStats {
  std::uint64_t datagrams_sent = 0, bytes_sent = 0;
  std::uint64_t datagrams_received = 0, bytes_received = 0;
  std::uint64_t streams_sent = 0, stream_bytes_sent = 0, streams_received = 0;
  std::uint64_t malformed_received = 0, unknown_frames = 0;
  /// Datagrams that failed the wire's checks: wrong key, label or CRC.
  std::uint64_t rejected_received = 0;
  std::uint64_t user_messages_received = 0;
  std::uint64_t probes = 0, probes_failed = 0, indirect_probes = 0, nacks_received = 0;
  /// TCP fallback pings sent, and probes their stream ack saved from failing.
  std::uint64_t stream_pings = 0, stream_ping_acks = 0;
  std::uint64_t suspicions = 0, refutations = 0, failures = 0, leaves = 0, joins = 0;
  std::uint64_t push_pulls = 0;
  /// As a seed: join push-pulls answered with the full state, and those left unanswered
  /// (MembershipConfig::join_answers_per_second).
  std::uint64_t joins_answered = 0, joins_refused = 0;
  /// Prompt gossip rounds run after learning of new members (MembershipConfig::join_gossip_delay).
  std::uint64_t join_gossip_rounds = 0;
  /// Catch-up anti-entropy rounds run after churn (MembershipConfig::churn_anti_entropy_delay).
  std::uint64_t catch_up_rounds = 0;
  /// Alive records about other members queued for gossip, by where they were learned: gossip
  /// (or a heartbeat detector), a push-pull; and those a join reply taught but that were not queued
  /// (MembershipConfig::join_reply_gossip off). `updates_sent`: queued updates piggybacked on
  /// datagrams, every transmission counted (alive, suspect, dead, user events...).
  std::uint64_t alive_queued_gossip = 0, alive_queued_push_pull = 0, alive_join_reply_quiet = 0;
  std::uint64_t updates_sent = 0;
  /// Updates dropped from the queue by rumor mongering's counter
  /// (MembershipConfig::rumor_stop_after) before their transmit limit.
  std::uint64_t rumors_stopped = 0;
  // consistent mode:
  std::uint64_t view_changes = 0, fast_decisions = 0, classic_decisions = 0;
  std::uint64_t classic_rounds = 0;  // classic rounds this member coordinated
  std::uint64_t view_stalls = 0;     // configurations undecided after stall_timeout
  std::uint64_t alerts_sent = 0;     // alerts this member raised (edge or join)
  std::uint64_t catch_ups = 0;  // installed from a peer (decision frame or whole configuration)
  std::uint64_t removed_self = 0;    // times this member found itself removed (then rejoined)
  /// Identity across restarts (membership_node.cc): live members found claiming one name, and
  /// entries replaced by a newer instance of the same name (native dialect).
  std::uint64_t name_conflicts = 0, replaced = 0;
  /// User events (native dialect): delivered here (own included), and copies dropped as
  /// duplicates, too old (Lamport time below clock - 512) or over a slot's bound.
  std::uint64_t user_events = 0, user_event_duplicates = 0, user_events_dropped = 0;
  /// Of `user_events`, those first learned from a push-pull's recent events (anti-entropy:
  /// gossip had missed this member), not from gossip or a join's replay.
  std::uint64_t user_events_repaired = 0;
  /// Queries (grapevine/query.h): received and handled here (own included), copies dropped as
  /// duplicates, dropped as too old or over a bound, filtered out; responses relayed for
  /// others; acks and responses gathered for our queries, duplicates of them dropped, and
  /// those arriving for no pending query (late or unknown).
  std::uint64_t queries = 0, query_duplicates = 0, queries_dropped = 0, queries_filtered = 0;
  std::uint64_t query_relays = 0, query_acks = 0, query_responses = 0;
  std::uint64_t query_response_duplicates = 0, query_responses_unmatched = 0;
  /// Direct re-sends of our own queries to members that had neither acked nor answered by a
  /// fraction of the timeout (one datagram each; queries.h "re-ask"), native and serf dialects.
  std::uint64_t query_reasks = 0;
};

/// A serf query from this node (serf dialect; Membership::serf_query).
struct SerfQueryOptions {
  std::vector<std::string> nodes;                         // only these members answer
  std::vector<std::pair<std::string, std::string>> tags;  // tag -> regular expression
  bool request_ack = true;
  std::uint8_t relay_factor = 0;        // answers also come back through this many members
  Duration timeout = Duration::zero();  // zero: serf's default (16 gossip intervals x log10 n)
};
/// What a serf query collected: acks and responses by member name, until `deadline`.
struct SerfQueryResult {
  Time deadline;
  bool done = false;
  std::vector<std::string> acks;
  std::vector<std::pair<std::string, std::vector<std::byte>>> responses;
};

/// The installed configuration of consistent membership (valid = false in eventual mode).
struct ConfigurationInfo {
  bool valid = false;
  bool member = false;  // is this node in it (false while joining)
  std::uint64_t id = 0;
  std::uint64_t epoch = 0;  // view changes since the first configuration of the chain
  std::uint32_t size = 0;
  /// A change to this configuration is pending past stall_timeout (view_stalled was emitted and
  /// nothing was installed since): the minority side of a partition. Cleared by an install.
  bool stalled = false;
};

/// Options of one join (Membership::join_with, NodeHandle::join).
struct JoinOptions {
  /// Deliver the user events the seed still buffers (sent before this node joined), as serf's
  /// `join -replay`. Off (serf's default): events older than the seed's event clock at the join
  /// are not delivered here, ever. Either way no event is delivered twice.
  bool replay = false;
};

/// The membership machine. Create with make_membership().
class Membership : public Machine {
 public:
  /// Starts joining through `seeds` (addresses of any members; unknown ones are fine; the span
  /// is read during the call only, the addresses copied). The node keeps retrying every
  /// join_retry_interval until it knows someone. Errors: invalid_argument (no seed other than
  /// this node's own address; nothing is sent).
  virtual Result<void> join(Time now, std::span<const Address> seeds, Effects& fx) = 0;
  /// join() with options (JoinOptions::replay). The default ignores them.
  virtual Result<void> join_with(Time now, std::span<const Address> seeds,
                                 const JoinOptions& options, Effects& fx) {
    (void)options;
    return join(now, seeds, fx);
  }
  /// Starts out knowing `members` as alive (no events, nothing sent), as if a join had already
  /// converged. For simulations of large steady-state groups, where a join storm of every
  /// member at once is not what is being measured. Call before the first on_timeout.
  virtual void preload(Time now, std::span<const Address> members) = 0;
  /// Leaves gracefully: tells the group this member *left* (not failed). The node keeps
  /// answering until the driver stops it, so the news spreads.
  virtual void leave(Time now, Effects& fx) = 0;
  /// Tells the group that the failed member named `name` is gone for good: it becomes *left*
  /// everywhere (serf's force-leave). `name` is read during the call only. Errors:
  /// invalid_argument (no member of that name other than this node, a member that is not
  /// failed, or consistent mode, where removals are decided by the cut detector).
  virtual Result<void> force_leave(Time now, std::string_view name, Effects& fx) = 0;
  /// Broadcasts an application message through the membership's own dissemination (memberlist
  /// user messages; the memberlist dialect's multicast). The sender and every receiver emit a
  /// `delivered` event. `payload` is copied. Errors: invalid_argument (the native dialect,
  /// which multicasts through MulticastProtocol; consistent mode), too_large (the payload and
  /// its framing over MembershipConfig::packet_budget_bytes).
  virtual Result<MessageId> broadcast(Time now, std::span<const std::byte> payload,
                                      Effects& fx) = 0;
  /// Sends a user event with serf's semantics (native dialect): stamped with this node's
  /// Lamport event clock, spread through the membership's piggybacked broadcasts, re-broadcast
  /// by every member that sees it first, and delivered once per member as a `user_event` event
  /// (this node included, before this call returns). `name` and `payload` are copied. Returns
  /// the event's Lamport time. Errors: invalid_argument (empty name; the memberlist dialect,
  /// where user events are serf's layer; consistent mode), too_large (name + payload over
  /// kUserEventBytesMax, 512 bytes).
  virtual Result<std::uint64_t> user_event(Time /*now*/, std::string_view /*name*/,
                                           std::span<const std::byte> /*payload*/,
                                           bool /*coalesce*/, Effects& /*fx*/) {
    return make_error(Errc::invalid_argument, "user events are not supported here");
  }
  /// Serf dialect (MemberlistOptions::serf): sends a serf query, answered by serf agents'
  /// handlers and grapevine members alike (this node too); acks and responses are collected
  /// until the timeout (serf_query_result). Returns the query's Lamport time, its key.
  /// Errors: invalid_argument (not the serf dialect, empty name, `_serf_` prefix), too_large.
  virtual Result<std::uint64_t> serf_query(Time /*now*/, std::string_view /*name*/,
                                           std::span<const std::byte> /*payload*/,
                                           const SerfQueryOptions& /*options*/,
                                           Effects& /*fx*/) {
    return make_error(Errc::invalid_argument, "serf queries need the serf dialect");
  }
  /// A serf query's acks and responses so far; false when unknown (or forgotten, 64 later).
  virtual bool serf_query_result(std::uint64_t /*ltime*/, SerfQueryResult& /*out*/) const {
    return false;
  }
  /// Moves the user-event Lamport clock to at least `ltime` (serf's restore from a snapshot): a
  /// restarted node's next event is stamped after the ones it handled before. Never moves back.
  virtual void witness_event_clock(std::uint64_t /*ltime*/) {}
  /// Replaces this node's metadata (copied) and announces it with a new incarnation (an
  /// `updated` event elsewhere). Errors: too_large (over kMetaBytesMax, 512 bytes; the old
  /// metadata stays). In consistent mode the metadata is gossiped outside the views (not a
  /// view change; consistent_profiles.cc), with the same `updated` event elsewhere.
  virtual Result<void> update_meta(Time now, std::span<const std::byte> meta, Effects& fx) = 0;

  /// Issues a serf-style query (grapevine/query.h; native dialect): stamped with this node's
  /// Lamport query clock, spread like a user event, handled by this node too (it may answer its
  /// own query). `name`, `payload` and `params` are copied. Acks and responses arrive as
  /// `query_ack` / `query_response` events, one per member, until the ticket's deadline, then
  /// `query_done`. Errors: invalid_argument (empty name, a name starting with
  /// kInternalQueryPrefix, relay factor over 5, a filter over its limits, the memberlist
  /// dialect), too_large (the encoded query over kQueryBytesMax), not_ready (kQueriesPendingMax
  /// of this node's queries are still pending).
  virtual Result<QueryTicket> query(Time /*now*/, std::string_view /*name*/,
                                    std::span<const std::byte> /*payload*/,
                                    const QueryParams& /*params*/, Effects& /*fx*/) {
    return make_error(Errc::invalid_argument, "queries are not supported here");
  }
  /// Answers the received query (`ltime`, `id`: the `query` event's ltime and query_id) with
  /// `payload` (copied): sent to the querier, and through the query's relay factor of random
  /// members. Errors: invalid_argument (no such query held, or already answered), rejected (its
  /// deadline passed), too_large (the response over kQueryResponseBytesMax with this node's
  /// name and header: keep payloads under ~700 bytes).
  virtual Result<void> respond(Time /*now*/, std::uint64_t /*ltime*/, std::uint32_t /*id*/,
                               std::span<const std::byte> /*payload*/, Effects& /*fx*/) {
    return make_error(Errc::invalid_argument, "queries are not supported here");
  }
  /// The answerer of internal queries (names starting with kInternalQueryPrefix), called inside
  /// the machine call; not owned. Node sets it (keyring queries). Null: they go unanswered.
  virtual void set_internal_queries(InternalQueryHandler* /*handler*/) {}
  /// Issues an internal query (a name starting with kInternalQueryPrefix); as query() otherwise.
  virtual Result<QueryTicket> internal_query(Time /*now*/, std::string_view /*name*/,
                                             std::span<const std::byte> /*payload*/,
                                             const QueryParams& /*params*/, Effects& /*fx*/) {
    return make_error(Errc::invalid_argument, "queries are not supported here");
  }

  [[nodiscard]] virtual NodeId self_id() const noexcept = 0;
  /// Every member known, self included, in no particular order (a copy; never fails).
  [[nodiscard]] virtual std::vector<MemberInfo> members() const = 0;
  [[nodiscard]] virtual std::size_t member_count(MemberState state) const noexcept = 0;
  /// The live members (alive or suspect), self at index 0: the group a multicast draws from.
  /// The reference lives as long as the machine; its contents change on the next call.
  [[nodiscard]] virtual const Group& live_group() const noexcept = 0;
  [[nodiscard]] virtual const MembershipStats& stats() const noexcept = 0;
  /// Updates waiting to be piggybacked (memberlist's broadcast queue depth).
  [[nodiscard]] virtual std::size_t queue_depth() const noexcept = 0;
  /// Lifeguard's local health score (0 = healthy).
  [[nodiscard]] virtual std::uint32_t health_score() const noexcept = 0;
  /// Consistent mode: the installed configuration. Eventual mode: valid = false.
  [[nodiscard]] virtual ConfigurationInfo configuration() const noexcept { return {}; }
};

/// Builds the membership machine for a node at `self_address`. `config` is copied.
std::unique_ptr<Membership> make_membership(const MembershipConfig& config,
                                            const Address& self_address, std::uint64_t seed);

}  // namespace grapevine
