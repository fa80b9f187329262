// Runtime: runs grapevine nodes on real UDP and TCP sockets (Linux). One thread, one epoll loop,
// one deadline queue for every hosted node; datagrams batched with recvmmsg/sendmmsg; streams
// (state sync) over TCP, one length-prefixed request and optional reply per connection.
//
// A process may host one node (the agent) or thousands (the demo, tests, benchmarks), each on
// its own address. Everything a node does happens on the loop thread: callbacks run there, and
// NodeHandle methods must be called there (from a callback, before run(), or through post()).
//
// The driver contract (machine.h), checked on every call into a node (util/driver_contract.h,
// assertions that stay on in release): no call into a node's machine re-enters it, `now` never
// decreases for a node, and a stream is answered only while it is being handled.
// Effects leave after the call: what a node sends during a call is sent when the call returns,
// and the events it raises (deliveries, membership changes) are queued, their payloads and names
// copied, and handed to the callbacks only once the call has returned, in the order raised.
// So a callback may call back into its own node, or any other (join, multicast, leave,
// force_leave, members, crash, Runtime::remove_node): the events of such a call join the end of
// the queue and are delivered by the same loop after the ones already queued, never
// recursively. A callback that raises events forever (a multicast from every delivery) is
// carried on at the node's next call, not spun on.
//
//   grapevine::Runtime rt;
//   auto node = rt.add_node(config, *grapevine::Address::parse("127.0.0.1:7946"), callbacks);
//   (*node)->join(seeds);
//   std::thread loop([&] { rt.run(); });
//   rt.post([&] { (void)(*node)->multicast(payload); });
//   ...; rt.stop(); loop.join();
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <span>
#include <vector>

#include "grapevine/address.h"
#include "grapevine/cidr.h"
#include "grapevine/event.h"
#include "grapevine/log.h"
#include "grapevine/membership.h"
#include "grapevine/multicast.h"
#include "grapevine/node.h"
#include "grapevine/result.h"
#include "grapevine/state.h"
#include "grapevine/time.h"

namespace grapevine {

struct NodeCallbacks {
  /// A multicast payload arrived (the origin also delivers its own). Span valid during the call.
  std::function<void(const MessageId& id, std::span<const std::byte> payload, std::uint32_t hops)>
      on_delivery;
  /// A membership event (joined, suspected, failed, left, alive, updated). With
  /// `membership.mode = consistent` also view_changed (a configuration was installed: its id in
  /// Event::configuration_id, its epoch, its members in Event::members, valid during the call;
  /// every member sees the same sequence) and view_stalled (no decision within stall_timeout).
  std::function<void(const Event& event)> on_member_event;
  /// A query reached this node and passed its filters (grapevine/query.h): Event::user_name is
  /// its name, payload its payload, subject_* the querier (valid during the call). Return the
  /// response (sent to the querier through NodeHandle::respond) or nullopt to stay silent. The
  /// event also goes to on_member_event first. Internal queries never come here.
  std::function<std::optional<std::vector<std::byte>>(const Event& query)> on_query;
};

/// Acks (`query_ack`), responses (`query_response`: subject_name the member, payload its
/// answer) and finally `query_done` of one query this node issued; valid during the call.
using QueryCallback = std::function<void(const Event& update)>;

/// Socket-level counters of one node.
struct IoStats {
  std::uint64_t datagrams_in = 0, datagrams_out = 0, bytes_in = 0, bytes_out = 0;
  std::uint64_t streams_in = 0, streams_out = 0, stream_bytes_in = 0, stream_bytes_out = 0;
  std::uint64_t send_errors = 0, stream_errors = 0, oversized_dropped = 0;
  // Limits (RuntimeOptions) biting: each a count of what was refused or dropped.
  /// Inbound connections closed at once: RuntimeOptions::inbound_streams_max were open.
  std::uint64_t streams_refused = 0;
  /// Inbound streams dropped because their next bytes would have passed
  /// RuntimeOptions::inbound_stream_bytes_max (buffered across all inbound streams).
  std::uint64_t streams_over_budget = 0;
  /// Streams (either direction) dropped at RuntimeOptions::stream_timeout.
  std::uint64_t streams_timed_out = 0;
  /// Datagrams and inbound connections from outside RuntimeOptions::allowed_cidrs.
  std::uint64_t datagrams_denied = 0, streams_denied = 0;
  /// Datagrams over RuntimeOptions::datagrams_per_source_per_second.
  std::uint64_t datagrams_rate_limited = 0;
  // Gauges.
  /// Inbound streams open now, and the bytes they buffer now.
  std::uint64_t inbound_streams_open = 0, inbound_stream_bytes = 0;
  // Mutual TLS (RuntimeOptions::tls): handshakes completed, and streams refused, by reason.
  std::uint64_t tls_handshakes = 0;
  /// The TLS handshake failed otherwise: not TLS (a plain-TCP client), not TLS 1.3, a broken
  /// record or another alert.
  std::uint64_t tls_failed_handshake = 0;
  /// The peer's certificate is missing or does not verify against the CA, or the peer's alert
  /// says it refused ours (unknown CA, bad or missing certificate).
  std::uint64_t tls_failed_certificate = 0;
  /// The certificate's name is not the member's name (outbound: the member at the address we
  /// dialled; either way: the sender a push-pull names, checked by Node).
  std::uint64_t tls_failed_name = 0;
  /// The handshake had not completed at stream_timeout (also counted in streams_timed_out).
  std::uint64_t tls_failed_timeout = 0;
};

/// Every counter and gauge of one node, as one value: what the agent's Prometheus endpoint
/// (/metrics) serves, rendered from this same struct (tools/node_json.cc). A snapshot: copied
/// out on the loop thread by NodeHandle::metrics(), then safe to read anywhere.
struct NodeMetrics {
  /// Members this node lists, by state, indexed by MemberState (alive, suspect, failed, left).
  std::uint64_t members[4] = {};
  [[nodiscard]] std::uint64_t member_count(MemberState s) const noexcept {
    return members[std::size_t(s)];
  }
  MembershipStats membership;  ///< probes, suspicions, failures, push-pulls, malformed...
  MulticastStats multicast;    ///< sent, received, duplicates, delivered...
  IoStats io;                  ///< sockets, and the RuntimeOptions limits biting
  SealStats seal;              ///< native seal: sealed, opened, rejected by reason
  StateStats state;            ///< replicated state (zeros when off)
  /// Membership updates waiting to be piggybacked (gauge).
  std::uint64_t queue_depth = 0;
  /// Lifeguard local health score, 0 = healthy (gauge).
  std::uint32_t health_score = 0;
  /// Consistent mode's installed configuration (valid = false in eventual mode).
  ConfigurationInfo configuration;
};

/// One node hosted by a Runtime. Owned by the Runtime: valid from add_node() until
/// Runtime::remove_node() (or the Runtime's destruction); never delete it.
///
/// Threading: every method runs on the loop thread only: inside a callback, before run() is
/// first called, or through Runtime::post(). None is thread-safe; none blocks. Spans passed in
/// are read during the call only (payloads, names and keys are copied before it returns);
/// references returned (membership(), io_stats(), ...) live as long as the handle and change
/// as the loop runs. After crash() calls still reach the machine and answer as documented, but
/// nothing is sent. Errors are Result values (grapevine/result.h), never exceptions; what each
/// call returns is listed on it (the Errc, then when).
class NodeHandle {
 public:
  virtual ~NodeHandle() = default;
  /// The bound address (with the real port when 0 was asked for). Never fails.
  [[nodiscard]] virtual Address address() const = 0;
  /// Joins the group through `seeds` (any members' addresses), retrying until one answers.
  /// Errors: invalid_argument (no seed other than this node's own address).
  virtual Result<void> join(std::span<const Address> seeds) = 0;
  /// join() with options (JoinOptions::replay: deliver the seed's buffered user events, as
  /// serf's `join -replay`). Errors: as join().
  virtual Result<void> join(std::span<const Address> seeds, const JoinOptions& options) = 0;
  /// Starts out knowing `members` as alive, as if joined (Membership::preload): for static
  /// rosters and steady-state benchmarks. Call before the loop first runs this node.
  virtual void preload(std::span<const Address> members) = 0;
  /// Graceful leave: the group sees this node *left*. The node keeps running (answering probes)
  /// so the news spreads; stop it afterwards with crash() or Runtime::remove_node.
  virtual void leave() = 0;
  /// Multicasts `payload` (copied; at most kMulticastPayloadBytesMax, 1200 bytes) to the live
  /// members; this node delivers it to itself through on_delivery at once (hops 0). Returns the
  /// message id. Errors: too_large (payload over kMulticastPayloadBytesMax; in the memberlist
  /// dialect over the packet budget with framing), not_ready (native gossip: no other live
  /// member yet).
  virtual Result<MessageId> multicast(std::span<const std::byte> payload) = 0;
  /// Marks a failed member (by name) as left everywhere, as serf's force-leave does.
  /// Errors: invalid_argument (no member of that name, the member is not failed, or
  /// consistent mode).
  virtual Result<void> force_leave(std::string_view name) = 0;
  /// Replaces this node's metadata (e.g. encode_tags() of its tags) and announces it with a new
  /// incarnation: an `updated` event on every other member. `meta` is copied. Errors:
  /// too_large (over kMetaBytesMax, 512 bytes), invalid_argument (consistent mode).
  virtual Result<void> update_meta(std::span<const std::byte> meta) = 0;
  /// A serf-style user event (Membership::user_event): every member, this one included, gets
  /// a `user_event` through on_member_event once. Returns its Lamport time. Errors:
  /// invalid_argument (empty name, memberlist dialect, consistent mode), too_large (name +
  /// payload over kUserEventBytesMax, 512 bytes).
  virtual Result<std::uint64_t> user_event(std::string_view name,
                                           std::span<const std::byte> payload, bool coalesce) = 0;
  /// A serf query (Membership::serf_query; serf dialect). Returns its Lamport time; read what
  /// it collected with serf_query_result.
  virtual Result<std::uint64_t> serf_query(std::string_view /*name*/,
                                           std::span<const std::byte> /*payload*/,
                                           const SerfQueryOptions& /*options*/) {
    return make_error(Errc::invalid_argument, "serf queries need the serf dialect");
  }
  virtual bool serf_query_result(std::uint64_t /*ltime*/, SerfQueryResult& /*out*/) {
    return false;
  }
  /// Membership::witness_event_clock: the user-event clock moves to at least `ltime` (restored
  /// from the agent's snapshot). Loop thread.
  virtual void witness_event_clock(std::uint64_t ltime) { (void)ltime; }
  /// Issues a serf-style query (Node::query); `on_update` gets its acks and responses as they
  /// arrive (each member once, this node included), then query_done at the deadline. Errors as
  /// Membership::query (invalid_argument, too_large, not_ready).
  virtual Result<QueryTicket> query(std::string_view name, std::span<const std::byte> payload,
                                    const QueryParams& params, QueryCallback on_update) {
    (void)name, (void)payload, (void)params, (void)on_update;
    return make_error(Errc::invalid_argument, "queries not supported here");
  }
  /// Cluster-wide keyring command (Node::keyring_query): each member's KeyringAnswer arrives
  /// as a query_response (decode_keyring_answer), then query_done. Errors as Node::keyring_query.
  /// `params.timeout` as there (zero: the default, at least kKeyringQueryTimeoutMin); other
  /// fields of `params` are ignored: every live member answers.
  virtual Result<QueryTicket> keyring_query(KeyringCommand command, std::span<const std::byte> key,
                                            const QueryParams& params, QueryCallback on_update) {
    (void)command, (void)key, (void)params, (void)on_update;
    return make_error(Errc::invalid_argument, "queries not supported here");
  }
  Result<QueryTicket> keyring_query(KeyringCommand command, std::span<const std::byte> key,
                                    QueryCallback on_update) {
    return keyring_query(command, key, QueryParams{}, std::move(on_update));
  }
  /// Answers a received query (Node::respond); on_query's answer is sent this way. Errors as
  /// Membership::respond (invalid_argument: unknown or answered; rejected: past its deadline;
  /// too_large).
  virtual Result<void> respond(std::uint64_t ltime, std::uint32_t id,
                               std::span<const std::byte> payload) {
    (void)ltime, (void)id, (void)payload;
    return make_error(Errc::invalid_argument, "queries not supported here");
  }
  /// Every member this node knows, itself included (a copy).
  [[nodiscard]] virtual std::vector<MemberInfo> members() const = 0;
  /// The membership machine, read-only (member counts, stats, configuration...).
  [[nodiscard]] virtual const Membership& membership() const = 0;
  [[nodiscard]] virtual const MulticastStats& multicast_stats() const = 0;
  [[nodiscard]] virtual const IoStats& io_stats() const = 0;
  /// The partial-view overlay (NodeConfig::view), or nullptr.
  [[nodiscard]] virtual const ViewMachine* view() const { return nullptr; }
  /// The native seal's counters (Node::seal_stats; all zero in the memberlist dialect).
  [[nodiscard]] virtual const SealStats& seal_stats() const = 0;
  /// Node::change_keyring and Node::keyring, on the loop thread. `key` is copied. Errors:
  /// invalid_argument (memberlist dialect, a key not kNativeKeyBytes (32) long, use/remove of a
  /// key not installed, removing the primary), not_ready (started without keys).
  virtual Result<void> change_keyring(KeyringOp op, std::span<const std::byte> key) = 0;
  [[nodiscard]] virtual std::vector<std::vector<std::byte>> keyring() const = 0;
  // ---- replicated node state (NodeConfig::state; native dialect) ----
  /// Called on the loop thread for each change of a watched key (set, update or delete, local
  /// or learnt from a peer). `e.key`, `e.payload` (the value) are valid during the call only;
  /// `e.subject` is the owner's address, `e.version` the key's version, `e.state_op` the change.
  /// It runs after the node's call returned, so it may call back into the node.
  using StateWatch = std::function<void(const Event& e)>;
  /// Sets this node's `key` to `value` (both copied; any bytes); `ttl` > 0 deletes it after
  /// `ttl` (wall time). Returns the key's version. Errors: invalid_argument (state off,
  /// memberlist dialect, empty key, or a handle that does not host state),
  /// too_large (a StateConfig limit: key_bytes_max, value_bytes_max, keys_per_node_max,
  /// node_bytes_max).
  virtual Result<std::uint64_t> set(std::string_view key, std::string_view value,
                                    Duration ttl = Duration::zero()) {
    (void)key, (void)value, (void)ttl;
    return make_error(Errc::invalid_argument, "replicated state not supported here");
  }
  /// Deletes this node's `key`. Errors: invalid_argument (state off), rejected (no such key).
  virtual Result<std::uint64_t> erase(std::string_view key) {
    (void)key;
    return make_error(Errc::invalid_argument, "replicated state not supported here");
  }
  /// `key` of the node named `node` (member name, "ip:port", or "" / "self"), as this node
  /// knows it (a copy); nullopt when unknown.
  [[nodiscard]] virtual std::optional<StateEntry> get(std::string_view node,
                                                      std::string_view key) const {
    (void)node, (void)key;
    return std::nullopt;
  }
  /// Every live key starting with `prefix`, of every node this node holds.
  [[nodiscard]] virtual std::vector<StateEntry> entries(std::string_view prefix) const {
    (void)prefix;
    return {};
  }
  /// Calls `callback` for every change of a key starting with `prefix` from now on. Returns an
  /// id for unwatch(), 0 when state is off.
  virtual std::uint64_t watch(std::string_view prefix, StateWatch callback) {
    (void)prefix, (void)callback;
    return 0;
  }
  virtual void unwatch(std::uint64_t id) { (void)id; }
  /// Counters of the state component (rounds, bytes, refusals by limit...); zeros when off.
  [[nodiscard]] virtual StateStats state_stats() const { return {}; }

  /// Every counter of this node in one value (NodeMetrics): the same numbers the agent's
  /// /metrics endpoint serves. Loop thread only, as every NodeHandle method (from a callback,
  /// or through Runtime::post); the result is a copy, safe to hand to another thread. Valid
  /// after crash() too (the last counts). Never fails.
  [[nodiscard]] NodeMetrics metrics() const {
    NodeMetrics out;
    const Membership& m = membership();
    for (std::size_t i = 0; i < 4; ++i) out.members[i] = m.member_count(MemberState(i));
    out.membership = m.stats();
    out.multicast = multicast_stats();
    out.io = io_stats();
    out.seal = seal_stats();
    out.state = state_stats();
    out.queue_depth = m.queue_depth();
    out.health_score = m.health_score();
    out.configuration = m.configuration();
    return out;
  }

  /// Stops the node abruptly, sending nothing: to everyone else it has crashed. Its sockets are
  /// closed; the handle stays valid (queries answer from the last state) until remove_node.
  virtual void crash() = 0;
  [[nodiscard]] virtual bool running() const = 0;
};

/// Mutual TLS on the runtime's TCP streams (docs/security.md): TLS 1.3 only, both sides present
/// a certificate that must verify against `ca_file`, and the certificate's name (a DNS
/// subjectAltName, or the subject CN when it has none) must be the member's name. Datagrams are
/// unchanged (seal them with a key). All three files, or none (off).
struct TlsOptions {
  std::string cert_file;  ///< PEM: this member's certificate, then any intermediates
  std::string key_file;   ///< PEM: its private key
  std::string ca_file;    ///< PEM: the CA certificate(s) peers' certificates must chain to
  /// A refused handshake is logged at most once per peer IP per interval (counted always).
  Duration log_interval = Duration::seconds(60);
  /// Where those log lines go (loop thread); unset = not logged.
  std::function<void(const std::string& line)> log;
  [[nodiscard]] bool enabled() const noexcept {
    return !cert_file.empty() || !key_file.empty() || !ca_file.empty();
  }
};

/// Checks `tls` as the runtime will load it: "" when off or usable, else one line naming the
/// file that cannot be read or parsed, or what is missing (all three files or none; the key
/// must match the certificate).
std::string check_tls_options(const TlsOptions& tls);

struct RuntimeOptions {
  /// Datagrams per recvmmsg/sendmmsg call.
  std::uint32_t batch = 64;
  /// Give-up time for a TCP stream (connect, send, reply), as memberlist's TCPTimeout. It runs
  /// per stream from connect or accept, for the whole stream (not reset by progress): a stream
  /// that trickles bytes (slowloris) holds its slot at most this long. Counted in
  /// IoStats::streams_timed_out.
  Duration stream_timeout = Duration::seconds(10);

  // ---- limits on what peers can make a node spend (docs/limits.md) ----
  /// Inbound TCP streams open at once, per node (memberlist caps concurrent push-pulls at 128).
  /// Connections beyond it are accepted and closed at once (IoStats::streams_refused).
  /// 0 = no inbound streams at all.
  std::uint32_t inbound_streams_max = 128;
  /// Bytes buffered across all inbound streams of a node, in bytes. A stream whose next bytes
  /// would pass it is dropped (IoStats::streams_over_budget). Each message is also capped by the
  /// wire at 20 MiB (kStreamBytesMax in limits.h, memberlist's limit), so set this >= 20 MiB to accept
  /// the largest legal push-pull.
  std::size_t inbound_stream_bytes_max = std::size_t(64) << 20;
  /// Datagrams per second accepted from one source IP (any port), with a burst of as many;
  /// the rest are dropped before parsing (IoStats::datagrams_rate_limited). 0 = no limit (the
  /// default: a busy cluster's peers legitimately send tens per second each).
  std::uint32_t datagrams_per_source_per_second = 0;
  /// Source IPs the rate limiter tracks at once (its memory bound); beyond it the source seen
  /// first is forgotten (and starts again with a full bucket).
  std::uint32_t rate_limited_sources_max = 4096;
  /// A process short of CPU (thousands of nodes in one loop): the clock the hosted nodes see
  /// advances at most this much across one loop turn (input and timers). A longer turn is a
  /// stall of the whole process, as Lifeguard's local health treats a node that cannot keep
  /// up: its excess is withheld from the nodes' clock (Runtime::withheld()), so their probe,
  /// suspicion and gossip timers are measured in time the loop could serve and stretch instead
  /// of expiring while a refutation waits for the next turn. The sealed timestamps follow the
  /// wall clock still (the offset is corrected). 0 (the default): the nodes see the monotonic
  /// clock, however long a turn takes (one node per process: a stall there is a real one).
  Duration turn_time_max{};
  /// Shared sockets, for thousands of nodes in one process (the default, false: each node binds
  /// its own UDP socket and TCP listener, two descriptors a node). When true every node must be
  /// added with its own IPv4 address in 127.0.0.0/8 (local on Linux without setup), all on one
  /// port: `shared_udp_sockets` UDP sockets (SO_REUSEPORT) and one TCP listener on 0.0.0.0:port,
  /// bound to the loopback device, serve them all (the port: the first node's bind port, or a
  /// free one for port 0; later nodes' port must be 0 or the same). Arriving datagrams go to the
  /// node their destination address names (IP_PKTINFO), streams to the node of their local
  /// address; a node sends from its own address. Peers see the same bytes and addresses as from
  /// per-node sockets. add_node fails (Errc::invalid_argument) for an address outside
  /// 127.0.0.0/8, another port, or an address already hosted. src/io/shared_sockets.h.
  bool shared_sockets = false;
  /// With shared_sockets: UDP sockets sharing the port (the kernel spreads arriving flows over
  /// them), so their receive buffers together hold what arrives during a long loop turn.
  std::uint32_t shared_udp_sockets = 8;
  /// If not empty, datagrams and connections from addresses outside these networks are dropped
  /// before parsing (IoStats::datagrams_denied, streams_denied), as memberlist's CIDRsAllowed.
  /// Empty (the default) = every address. IPv4-mapped IPv6 sources match IPv4 networks.
  std::vector<Cidr> allowed_cidrs;
  /// Mutual TLS for streams (off by default). A bad setting makes add_node fail (Errc::io).
  TlsOptions tls;
  /// Loop threads (default 1). With K > 1 the nodes are spread round-robin over K event loops,
  /// each with its own epoll, timers and streams (and, with shared_sockets, its own shared
  /// sockets on a port of its own: loop 0 on the port asked for, the others on free ones);
  /// run() drives them on K threads (the caller's and K - 1 it starts) and returns when all have.
  /// Threading with K > 1: a node's callbacks run on its loop's thread, so callbacks of nodes on
  /// different loops run at the same time and state they share needs a lock; a callback may call
  /// its own node only. post()'s tasks run with every loop paused, so a task may call any node.
  /// Calls documented "loop thread" are made outside run() (or from a posted task).
  /// RuntimeOptions::log may be called from several threads at once. 0 is taken as 1.
  std::uint32_t threads = 1;
  /// Where the runtime's messages go (grapevine/log.h: threading and what it may call). Empty
  /// (the default) = log_to_stderr, info and above. To silence: `[](LogLevel, std::string_view) {}`.
  LogHandler log;
};

class Runtime {
 public:
  explicit Runtime(const RuntimeOptions& options = {});
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  /// Binds UDP and TCP on `bind` (port 0 = any free port) and starts a node there. `config`
  /// is copied; `callbacks` are moved in and run on the loop thread. Call on the loop thread or
  /// before run(). Returns a handle owned by the Runtime (see NodeHandle). Errors:
  /// invalid_argument (validate(config) fails: the detail names the field; `bind` unset; a
  /// partial view on an IPv6 address; with RuntimeOptions::shared_sockets an address outside
  /// 127.0.0.0/8, another port or one already hosted), io (UDP or TCP cannot be bound on that
  /// address, e.g. in use; RuntimeOptions::log hears the system's reason).
  Result<NodeHandle*> add_node(const NodeConfig& config, const Address& bind,
                               NodeCallbacks callbacks = {});
  /// Stops `node` (as NodeHandle::crash: sockets closed, streams dropped, nothing more sent or
  /// delivered) and forgets it: node_count() no longer counts it and `node` is invalid once
  /// this returns (its memory is freed at the loop's next turn, so a node's own callback may
  /// remove it). Call on the loop thread, once per node. Leave gracefully first (leave(), then
  /// run the loop a little) if the group should see *left* rather than *failed*.
  void remove_node(NodeHandle* node);
  /// Runs the loop until stop() (a stop() before run() makes the next run() return at once).
  /// The calling thread becomes the loop thread; one thread at a time. With
  /// RuntimeOptions::threads > 1, the loops run on that many threads until this returns.
  void run();
  /// Runs the loop for `d` of wall time (or until stop()); as run() otherwise.
  void run_for(Duration d);
  /// Thread-safe: makes run()/run_for() return soon.
  void stop();
  /// Thread-safe: runs `task` on the loop thread (moved in; tasks run in the order posted, at
  /// the loop's next turn; tasks still queued when the Runtime is destroyed never run). With
  /// RuntimeOptions::threads > 1 every loop pauses at its turn's end while the tasks run.
  void post(std::function<void()> task);
  /// The monotonic clock (the nodes see it minus withheld(); see RuntimeOptions::turn_time_max).
  [[nodiscard]] static Time now();
  /// Loop turns' time withheld from the nodes' clock so far (RuntimeOptions::turn_time_max;
  /// zero when it is 0; with several loops, the most any loop withheld). Loop thread.
  [[nodiscard]] Duration withheld() const;
  /// Nodes added and not removed (crashed ones count). Loop thread.
  [[nodiscard]] std::size_t node_count() const;
  /// With RuntimeOptions::shared_sockets: datagrams that arrived for an address no running node
  /// holds (a crashed or removed one), dropped; 0 otherwise. Loop thread.
  [[nodiscard]] std::uint64_t unroutable_datagrams() const;

 private:
  class Impl;   // one event loop and its nodes (src/io/runtime_impl.h)
  class Loops;  // the loops and their threads (src/io/runtime_loops.cc)
  std::unique_ptr<Loops> loops_;
};

}  // namespace grapevine
