// Runtime::Impl, private to the runtime's files: the event loop's state (runtime.cc), its
// shared sockets (runtime_shared.cc) and its streams (runtime_streams.cc); the hosted node is
// in runtime_hosted.h. Split from one file only for size: nothing here is public API.
#pragma once

#include <sys/epoll.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "grapevine/runtime.h"
#include "io/inbound_guard.h"
#include "io/shared_sockets.h"
#include "io/socket_util.h"
#include "io/stream_conn.h"
#include "io/tls.h"

namespace grapevine {
namespace runtime_detail {
enum Tag : std::uint64_t {
  kWake = 1, kUdp = 2, kListener = 3, kConn = 4,
  kSharedUdp = 5, kSharedListener = 6  // RuntimeOptions::shared_sockets; id: the socket's index
};
inline constexpr std::uint64_t tag(Tag t, std::uint64_t id) {
  return std::uint64_t(t) << 56 | id;
}
inline constexpr std::size_t kRecvBytes = 65536;
// Ready descriptors taken per epoll_wait, and how many such batches a turn may take before it
// fires timers (so at most kEpollEvents * kDrainBatchesMax descriptors served per turn).
inline constexpr int kEpollEvents = 256;
inline constexpr int kDrainBatchesMax = 64;
// A turn (input and timers) longer than this is logged, at most once per kSlowTurnLogInterval:
// the hosted nodes' probes and timeouts are measured against it, so a process short of CPU
// says so instead of only showing suspicions.
inline constexpr Duration kSlowTurn = Duration::seconds(1);
inline constexpr Duration kSlowTurnLogInterval = Duration::seconds(10);
// Shared sockets: recvmmsg batches read from one shared UDP socket per ready event, and
// connections accepted from the shared listener per ready event. A shared socket holds every
// node's input, so it is drained (up to these bounds) before timers fire, as the per-node sockets
// are by the turn's drain.
inline constexpr int kSharedReadRoundsMax = 1024;
inline constexpr int kSharedAcceptsMax = 4096;

/// The wall clock minus the monotonic one.
Duration wall_offset();
/// The seal's nonces from the OS CSPRNG and its timestamps from the wall clock (node_seal.h);
/// `withheld`: how far the nodes' clock is behind the monotonic one (turn_time_max).
void seed_seal(Node& node, Duration withheld);
}  // namespace runtime_detail

using io::Fd;
using io::StreamConn;

class Runtime::Impl {
 public:
  class Hosted;

  explicit Impl(const RuntimeOptions& o);
  ~Impl();
  Result<NodeHandle*> add_node(const NodeConfig& config, const Address& bind, NodeCallbacks cb);
  void remove_node(NodeHandle* node);
  void run(Time until);
  void post(std::function<void()> task);
  void stop() {
    stop_.store(true);
    wake();
  }
  /// Forgets a stop() that came after run() had returned (Runtime::Loops: a round's end).
  void clear_stop() { stop_.store(false); }
  /// Is `node` one of this loop's live nodes?
  [[nodiscard]] bool hosts(const NodeHandle* node) const;
  [[nodiscard]] std::size_t node_count() const {
    return std::size_t(std::count_if(nodes_.begin(), nodes_.end(),
                                     [](const auto& n) { return n != nullptr; }));
  }

  // --- used by Hosted ---
  void watch(int fd, std::uint64_t data, std::uint32_t events);
  void unwatch(int fd);
  void schedule(Hosted& n);
  void open_stream(Hosted& n, const Address& to, std::span<const std::byte> message);
  void reply_stream(Hosted& n, StreamId id, std::span<const std::byte> message);
  void drop_streams_of(const Hosted& n);
  [[nodiscard]] std::uint32_t batch() const { return options_.batch; }
  /// The clock the nodes see: the monotonic clock minus withheld_, and within a turn at most
  /// turn_time_max past the turn's start (RuntimeOptions::turn_time_max).
  [[nodiscard]] Time node_now() const { return std::min(Runtime::now() - withheld_, ceiling_); }
  [[nodiscard]] Duration withheld() const { return withheld_; }
  [[nodiscard]] std::uint64_t unroutable_datagrams() const {
    return shared_ ? shared_->unroutable_datagrams : 0;
  }
  /// RuntimeOptions::log, or stderr.
  void log(LogLevel level, const std::string& message) const {
    if (options_.log) {
      options_.log(level, message);
    } else {
      log_to_stderr(level, message);
    }
  }

 private:
  void wake();
  void handle(const epoll_event& ev);
  void read_udp(Hosted& n);
  void accept_streams(Hosted& n);
  // An accepted connection `fd` from `peer` for node `n`: limits, then watched.
  void adopt_inbound(Hosted& n, int fd, const Address& peer);
  // ---- RuntimeOptions::shared_sockets (io/shared_sockets.h) ----
  // Opens the shared sockets on first use; the address node `index` gets for `bind`.
  Result<Address> share_address(const Address& bind, std::uint32_t index);
  void read_shared_udp(std::size_t k);
  void accept_shared();
  // Creates node `index` on `addr` (its own sockets, or none with shared ones) and schedules it.
  NodeHandle* host(const NodeConfig& config, const Address& addr, Fd udp, Fd tcp,
                   NodeCallbacks cb);
  void on_conn(std::uint64_t id, std::uint32_t events);
  void finish_conn(std::uint64_t id);
  std::size_t read_budget(const StreamConn& c) const;
  void fire_timers(Time now);
  // Logs a turn longer than kSlowTurn (rate-limited); `served`: ready descriptors it took.
  void note_turn(Time start, std::size_t served);
  // turn_time_max: caps the nodes' clock for the turn starting at `start` (monotonic), and at
  // its end withholds what the turn took beyond the cap.
  void begin_turn(Time start);
  void end_turn();
  void run_posted();
  void expire_conns(Time now);
  int timeout_ms(Time now) const;

  RuntimeOptions options_;
  Fd epoll_;
  Fd wake_;
  // Indexed by the node's index (heap entries and connections name nodes by it); a removed
  // node leaves a null slot, and its object waits in graveyard_ until the loop's next turn, so
  // a callback of that very node can remove it.
  std::vector<std::unique_ptr<Hosted>> nodes_;
  std::vector<std::unique_ptr<Hosted>> graveyard_;
  std::vector<io::InboundGuard> guards_;  // per node: allowed_cidrs, datagram rate
  std::unique_ptr<io::SharedSockets> shared_;  // RuntimeOptions::shared_sockets, once opened
  std::vector<std::uint32_t> touched_;         // read_shared_udp: nodes that got datagrams
  struct Due {
    std::int64_t t;
    std::uint32_t node;
    bool operator>(const Due& o) const { return t > o.t; }
  };
  std::vector<Due> heap_;  // min-heap by time; stale entries skipped
  Duration timers_late_max_{};  // this turn: how late the latest-fired deadline was
  Time slow_turn_logged_{};     // note_turn's last log line
  Duration withheld_{};         // turn time withheld from the nodes' clock (turn_time_max)
  Time ceiling_ = Time::max();  // during a turn: where the nodes' clock stops (turn_time_max)
  std::map<std::uint64_t, std::unique_ptr<StreamConn>> conns_;
  std::uint64_t next_conn_ = 1;
  std::mutex post_mu_;
  std::vector<std::function<void()>> posted_;
  std::atomic<bool> stop_{false};
  std::vector<std::byte> recv_buf_;
  StreamConn* delivering_ = nullptr;  // inbound stream whose message is being handled
  // Mutual TLS (RuntimeOptions::tls): the context (null when off or not loadable), and the
  // rate-limited log of refusals.
  std::unique_ptr<io::TlsContext> tls_;
  io::TlsLog tls_log_;
  void tls_refused(Hosted& n, const StreamConn& c, io::TlsFailure why, std::string_view detail);
};

}  // namespace grapevine
