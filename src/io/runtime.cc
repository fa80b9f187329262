// The runtime's event loop: epoll over every hosted node's UDP socket, TCP listener and stream
// connections, an eventfd for posted tasks, and a min-heap of node deadlines (one entry per
// node, lazily invalidated, as in the simulator).
#include "grapevine/runtime.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <mutex>

#include "io/inbound_guard.h"
#include "io/shared_sockets.h"
#include "io/socket_util.h"
#include "io/state_watchers.h"
#include "io/stream_conn.h"
#include "io/tls.h"
#include "regex/re2_tag_matcher.h"
#include "util/assert.h"
#include "util/driver_contract.h"
#include "wire/native.h"

namespace grapevine {

using io::Fd;
using io::StreamConn;

namespace {
enum Tag : std::uint64_t {
  kWake = 1, kUdp = 2, kListener = 3, kConn = 4,
  kSharedUdp = 5, kSharedListener = 6  // RuntimeOptions::shared_sockets; id: the socket's index
};
constexpr std::uint64_t tag(Tag t, std::uint64_t id) {
  return std::uint64_t(t) << 56 | id;
}
constexpr std::size_t kRecvBytes = 65536;
// Ready descriptors taken per epoll_wait, and how many such batches a turn may take before it
// fires timers (so at most kEpollEvents * kDrainBatchesMax descriptors served per turn).
constexpr int kEpollEvents = 256;
constexpr int kDrainBatchesMax = 64;
// A turn (input and timers) longer than this is logged, at most once per kSlowTurnLogInterval:
// the hosted nodes' probes and timeouts are measured against it, so a process short of CPU
// says so instead of only showing suspicions.
constexpr Duration kSlowTurn = Duration::seconds(1);
constexpr Duration kSlowTurnLogInterval = Duration::seconds(10);
// Shared sockets: recvmmsg batches read from one shared UDP socket per ready event, and
// connections accepted from the shared listener per ready event. A shared socket holds every
// node's input, so it is drained (up to these bounds) before timers fire, as the per-node sockets
// are by the turn's drain.
constexpr int kSharedReadRoundsMax = 1024;
constexpr int kSharedAcceptsMax = 4096;

// The wall clock minus the monotonic one.
Duration wall_offset() {
  timespec wall{}, mono{};
  clock_gettime(CLOCK_REALTIME, &wall);
  clock_gettime(CLOCK_MONOTONIC, &mono);
  return Duration::seconds(wall.tv_sec - mono.tv_sec) +
         Duration::nanoseconds(wall.tv_nsec - mono.tv_nsec);
}

// The seal's nonces from the OS CSPRNG and its timestamps from the wall clock (node_seal.h);
// `withheld`: how far the nodes' clock is behind the monotonic one (turn_time_max).
void seed_seal(Node& node, Duration withheld) {
  std::byte entropy[32];
  std::size_t got = 0;
  while (got < sizeof entropy) {
    const ssize_t n = getrandom(entropy + got, sizeof entropy - got, 0);
    if (n > 0) got += std::size_t(n);
    else GV_ASSERT(errno == EINTR);
  }
  node.seed_nonces(entropy);
  node.set_clock_offset(wall_offset() + withheld);
}

}  // namespace

void log_to_stderr(LogLevel level, std::string_view message) {
  if (level < LogLevel::info) return;
  std::fprintf(stderr, "grapevine: %s: %.*s\n", log_level_name(level), int(message.size()),
               message.data());
}

Time Runtime::now() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return Time::from_ns(std::int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec);
}

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

// One hosted node: its sockets, its machine, and the Effects the machine writes into.
//
// Effects leave after the call: datagrams are batched and sent when the machine call returns,
// and events are queued (payload and name copied) and handed to the callbacks only then, in
// order. A callback may call back into its node (or any other): that call's events join the
// queue and are delivered by the same loop after those already queued, never recursively.
// Every machine call goes through contract_ (util/driver_contract.h).
class Runtime::Impl::Hosted final : public NodeHandle, public Effects {
 public:
  Hosted(Impl& rt, std::uint32_t index, const NodeConfig& config, const Address& addr, Fd udp,
         Fd tcp, NodeCallbacks cb, std::uint64_t seed)
      : rt_(rt),
        index_(index),
        node_(config, addr, seed),
        addr_(addr),
        udp_(std::move(udp)),
        tcp_(std::move(tcp)),
        cb_(std::move(cb)) {
    seed_seal(node_, rt_.withheld_);
  }

  // ---- Effects ----
  void send(const Address& to, std::span<const std::byte> datagram) override {
    if (!running_) return;
    if (datagram.size() > wire::kDatagramBytesMax) {
      ++io_.oversized_dropped;
      return;
    }
    out_.push_back(Out{to, std::uint32_t(out_bytes_.size()), std::uint32_t(datagram.size())});
    out_bytes_.insert(out_bytes_.end(), datagram.begin(), datagram.end());
    if (out_.size() >= rt_.batch()) flush();
  }
  void emit(const Event& e) override {
    if (e.kind == EventKind::state_changed) return state_.queue(e);  // watchers, after the call
    const bool query = e.kind >= EventKind::query && e.kind <= EventKind::query_done;
    if (!cb_.on_delivery && !cb_.on_member_event && !query) return;
    Queued& q = events_.emplace_back();
    q.event = e;
    q.payload.assign(e.payload.begin(), e.payload.end());
    q.name.assign(e.subject_name);
    q.user_name.assign(e.user_name);
  }
  void send_stream(const Address& to, std::span<const std::byte> message) override {
    if (running_) rt_.open_stream(*this, to, message);
  }
  void reply_stream(StreamId stream, std::span<const std::byte> message) override {
    contract_.check_reply(stream);  // only while that stream is being handled
    if (running_) rt_.reply_stream(*this, stream, message);
  }

  // ---- NodeHandle ----
  [[nodiscard]] Address address() const override { return addr_; }
  Result<void> join(std::span<const Address> seeds) override {
    return call([&](Time now) { return node_.join(now, seeds, *this); });
  }
  Result<void> join(std::span<const Address> seeds, const JoinOptions& options) override {
    return call([&](Time now) { return node_.join(now, seeds, options, *this); });
  }
  void preload(std::span<const Address> members) override {
    call([&](Time now) { node_.preload(now, members); });
  }
  void leave() override {
    call([&](Time now) { node_.leave(now, *this); });
  }
  Result<MessageId> multicast(std::span<const std::byte> payload) override {
    return call([&](Time now) { return node_.multicast(now, payload, *this); });
  }
  Result<void> force_leave(std::string_view name) override {
    return call([&](Time now) { return node_.force_leave(now, name, *this); });
  }
  Result<std::uint64_t> user_event(std::string_view name, std::span<const std::byte> payload,
                                   bool coalesce) override {
    return call([&](Time now) { return node_.user_event(now, name, payload, coalesce, *this); });
  }
  void witness_event_clock(std::uint64_t ltime) override { node_.witness_event_clock(ltime); }
  Result<void> update_meta(std::span<const std::byte> meta) override {
    return call([&](Time now) { return node_.update_meta(now, meta, *this); });
  }
  Result<std::uint64_t> serf_query(std::string_view name, std::span<const std::byte> payload,
                                   const SerfQueryOptions& options) override {
    return call([&](Time now) { return node_.serf_query(now, name, payload, options, *this); });
  }
  bool serf_query_result(std::uint64_t ltime, SerfQueryResult& out) override {
    return call([&](Time) { return node_.membership().serf_query_result(ltime, out); });
  }
  Result<QueryTicket> query(std::string_view name, std::span<const std::byte> payload,
                            const QueryParams& params, QueryCallback on_update) override {
    return call([&](Time now) {  // registered before the call's own events are delivered
      auto r = node_.query(now, name, payload, params, *this);
      if (r) query_callbacks_[r->id] = std::move(on_update);
      return r;
    });
  }
  Result<QueryTicket> keyring_query(KeyringCommand command, std::span<const std::byte> key,
                                    const QueryParams& params, QueryCallback on_update) override {
    return call([&](Time now) {
      QueryParams p;
      p.timeout = params.timeout;  // every live member answers: no filters, no relays
      auto r = node_.keyring_query(now, command, key, p, *this);
      if (r) query_callbacks_[r->id] = std::move(on_update);
      return r;
    });
  }
  Result<void> respond(std::uint64_t ltime, std::uint32_t id,
                       std::span<const std::byte> payload) override {
    return call([&](Time now) { return node_.respond(now, ltime, id, payload, *this); });
  }
  [[nodiscard]] std::vector<MemberInfo> members() const override {
    return node_.membership().members();
  }
  [[nodiscard]] const Membership& membership() const override { return node_.membership(); }
  [[nodiscard]] const MulticastStats& multicast_stats() const override {
    return node_.multicast_protocol().stats();
  }
  [[nodiscard]] const IoStats& io_stats() const override { return io_; }
  [[nodiscard]] const ViewMachine* view() const override { return node_.view(); }
  [[nodiscard]] const SealStats& seal_stats() const override { return node_.seal_stats(); }
  Result<void> change_keyring(KeyringOp op, std::span<const std::byte> key) override {
    return node_.change_keyring(op, key);
  }
  [[nodiscard]] std::vector<std::vector<std::byte>> keyring() const override {
    return node_.keyring();
  }
  Result<std::uint64_t> set(std::string_view key, std::string_view value,
                            Duration ttl) override {
    return call([&](Time now) { return node_.set(now, key, value, ttl, *this); });
  }
  Result<std::uint64_t> erase(std::string_view key) override {
    return call([&](Time now) { return node_.erase(now, key, *this); });
  }
  [[nodiscard]] std::optional<StateEntry> get(std::string_view node,
                                              std::string_view key) const override {
    return node_.get(node, key);
  }
  [[nodiscard]] std::vector<StateEntry> entries(std::string_view prefix) const override {
    return node_.entries(prefix);
  }
  std::uint64_t watch(std::string_view prefix, StateWatch cb) override {
    return state_.watch(node_, prefix, std::move(cb));
  }
  void unwatch(std::uint64_t id) override { state_.unwatch(node_, id); }
  [[nodiscard]] StateStats state_stats() const override { return node_.state_stats(); }
  void crash() override;
  [[nodiscard]] bool running() const override { return running_; }

  // ---- driven by the loop ----
  // The loop reads the clock once per batch; a callback's call in between may have read it
  // later, so each call takes the later of the two (time never decreases for a node).
  void on_datagram(Time now, const Address& from, std::span<const std::byte> bytes) {
    if (!running_) return;
    ++io_.datagrams_in;
    io_.bytes_in += bytes.size();
    now = std::max(now, contract_.last_now());
    detail::DriverContract::Call guard(contract_, now);
    node_.on_datagram(now, from, bytes, *this);
  }
  void on_stream(Time now, const Address& from, std::span<const std::byte> message,
                 StreamId stream) {
    if (!running_) return;
    ++io_.streams_in;
    io_.stream_bytes_in += message.size();
    now = std::max(now, contract_.last_now());
    detail::DriverContract::Call guard(contract_, now, stream);
    node_.on_stream(now, from, message, stream, *this);
    // The caller (on_conn) runs after_call() once it is done with the connection: a callback
    // may crash this node, which closes its connections.
  }
  void on_timeout(Time now) {
    if (!running_) return;
    now = std::max(now, contract_.last_now());
    if (now >= node_.next_deadline()) {
      detail::DriverContract::Call guard(contract_, now);
      node_.on_timeout(now, *this);
    }
    after_call();
  }
  /// One API call into the machine (NodeHandle), then its effects.
  template <class F>
  auto call(F&& f) -> decltype(f(Time{})) {
    const Time now = std::max(rt_.node_now(), contract_.last_now());
    if constexpr (std::is_void_v<decltype(f(now))>) {
      {
        detail::DriverContract::Call guard(contract_, now);
        f(now);
      }
      after_call();
    } else {
      auto r = [&] {
        detail::DriverContract::Call guard(contract_, now);
        return f(now);
      }();
      after_call();
      return r;
    }
  }
  /// After any call into the machine: send what it queued, re-arm its deadline, and hand the
  /// queued events to the callbacks.
  void after_call() {
    state_.deliver();
    flush();
    if (running_) rt_.schedule(*this);
    deliver_events();
  }
  void flush();
  void deliver_events();

  Impl& rt_;
  std::uint32_t index_;
  Node node_;
  Address addr_;
  Fd udp_, tcp_;
  NodeCallbacks cb_;
  io::StateWatchers state_;
  IoStats io_;
  bool running_ = true;
  bool removed_ = false;  // Runtime::remove_node: the handle is dead
  bool send_error_logged_ = false;  // the first send error is logged, the rest only counted
  std::int64_t scheduled_ = INT64_MAX;

 private:
  // An event raised during a machine call, with what it points at copied.
  struct Queued {
    Event event;
    std::vector<std::byte> payload;
    std::string name, user_name;
  };
  void deliver_query_event(const Event& e);
  // Callbacks of this node's pending queries, by query id (NodeHandle::query).
  std::map<std::uint32_t, QueryCallback> query_callbacks_;
  /// Rounds of "deliver what is queued" per after_call: callbacks that keep raising events
  /// (a multicast from every delivery) continue at the node's next call instead of spinning.
  static constexpr int kEventRoundsMax = 16;
  /// Queued events whose capacity a node keeps between calls (deliver_events).
  static constexpr std::size_t kEventsCapacityKept = 64;
  detail::DriverContract contract_;
  std::vector<Queued> events_;
  std::size_t events_head_ = 0;
  bool delivering_events_ = false;
  struct Out {
    Address to;
    std::uint32_t offset, length;
  };
  std::vector<Out> out_;
  std::vector<std::byte> out_bytes_;
};

void Runtime::Impl::Hosted::flush() {
  std::size_t done = 0;
  while (done < out_.size() && running_) {
    const std::size_t n = std::min<std::size_t>(out_.size() - done, 64);
    mmsghdr msgs[64];
    iovec iov[64];
    sockaddr_storage addrs[64];
    for (std::size_t i = 0; i < n; ++i) {
      const Out& o = out_[done + i];
      iov[i] = iovec{out_bytes_.data() + o.offset, o.length};
      std::memset(&msgs[i], 0, sizeof msgs[i]);
      msgs[i].msg_hdr.msg_name = &addrs[i];
      msgs[i].msg_hdr.msg_namelen = io::to_sockaddr(o.to, addrs[i]);
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int sent = rt_.shared_ ? rt_.shared_->send_from(addr_, msgs, unsigned(n))
                           : ::sendmmsg(udp_.get(), msgs, unsigned(n), 0);
    if (sent <= 0) {
      // A full send buffer or an unreachable peer: UDP may drop, and so do we (counted).
      ++io_.send_errors;
      if (!send_error_logged_) {
        send_error_logged_ = true;
        rt_.log(LogLevel::warn, "node " + addr_.to_string() + ": datagram send failed (" +
                                    std::strerror(errno) +
                                    "); further send errors are only counted (send_errors)");
      }
      sent = 1;
    } else {
      for (int i = 0; i < sent; ++i) {
        ++io_.datagrams_out;
        io_.bytes_out += out_[done + std::size_t(i)].length;
      }
    }
    done += std::size_t(sent);
  }
  out_.clear();
  out_bytes_.clear();
}

void Runtime::Impl::Hosted::deliver_events() {
  if (delivering_events_) return;  // a call from a callback: the loop below picks its events up
  delivering_events_ = true;
  for (int round = 0; round < kEventRoundsMax && events_head_ < events_.size(); ++round) {
    const std::size_t end = events_.size();  // events raised meanwhile wait for the next round
    while (events_head_ < end && !removed_) {
      Queued q = std::move(events_[events_head_++]);  // callbacks may grow events_
      q.event.payload = q.payload;
      q.event.subject_name = q.name;
      q.event.user_name = q.user_name;
      if (q.event.kind >= EventKind::query && q.event.kind <= EventKind::query_done) {
        deliver_query_event(q.event);
      } else if (q.event.kind == EventKind::delivered) {
        if (cb_.on_delivery) cb_.on_delivery(q.event.message, q.event.payload, q.event.hops);
      } else if (cb_.on_member_event) {
        cb_.on_member_event(q.event);
      }
    }
  }
  if (events_head_ == events_.size() || removed_) {
    events_.clear();
    events_head_ = 0;
    // A push-pull merge of N new members queues N `joined` events (~340 B each) in one call:
    // kept, that capacity is up to N^2 x 340 B over N hosted nodes (a 2,000-node join peaked at
    // 1.42 GiB with it kept, 0.92 GiB without; 34 GB at 10,000). Give it back past a small batch.
    if (events_.capacity() > kEventsCapacityKept) std::vector<Queued>().swap(events_);
  }
  delivering_events_ = false;
}

// A query event: `query` to on_member_event (monitors) and on_query, whose answer is sent with
// respond(); acks, responses and done to the callback of the query they belong to.
void Runtime::Impl::Hosted::deliver_query_event(const Event& e) {
  if (e.kind == EventKind::query) {
    if (cb_.on_member_event) cb_.on_member_event(e);
    if (!cb_.on_query || removed_) return;
    if (auto answer = cb_.on_query(e)) (void)respond(e.ltime, e.query_id, *answer);
    return;
  }
  auto it = query_callbacks_.find(e.query_id);
  if (it == query_callbacks_.end()) return;
  QueryCallback cb = it->second;  // a copy: the callback may issue queries
  if (e.kind == EventKind::query_done) query_callbacks_.erase(it);
  if (cb) cb(e);
}

void Runtime::Impl::Hosted::crash() {
  if (!running_) return;
  running_ = false;
  out_.clear();
  out_bytes_.clear();
  rt_.unwatch(udp_.get());
  rt_.unwatch(tcp_.get());
  udp_ = Fd();
  tcp_ = Fd();
  if (rt_.shared_ && rt_.shared_->find(addr_.ipv4_u32()) == index_) {
    rt_.shared_->remove(addr_.ipv4_u32());  // what arrives for it now is dropped
  }
  rt_.drop_streams_of(*this);
  scheduled_ = INT64_MAX;
}

// ---- Impl -----------------------------------------------------------------------------------

Runtime::Impl::Impl(const RuntimeOptions& o)
    : options_(o),
      epoll_(::epoll_create1(EPOLL_CLOEXEC)),
      wake_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
      recv_buf_(std::size_t(std::max<std::uint32_t>(o.batch, 1)) * kRecvBytes),
      tls_log_(o.tls) {
  GV_ASSERT(epoll_ && wake_);
  std::string tls_error;  // check_tls_options() says it; add_node refuses to start without it
  if (options_.tls.enabled()) tls_ = io::TlsContext::load(options_.tls, tls_error);
  if (options_.batch == 0) options_.batch = 1;
  if (options_.batch > 64) options_.batch = 64;
  io::raise_fd_limit();
  watch(wake_.get(), tag(kWake, 0), EPOLLIN);
}

Runtime::Impl::~Impl() = default;

void Runtime::Impl::watch(int fd, std::uint64_t data, std::uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = data;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0 && errno == EEXIST) {
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev);
  }
}

void Runtime::Impl::unwatch(int fd) {
  if (fd >= 0) ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
}

void Runtime::Impl::wake() {
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_.get(), &one, sizeof one);
}

void Runtime::Impl::remove_node(NodeHandle* node) {
  for (auto& slot : nodes_) {
    if (slot == nullptr || static_cast<NodeHandle*>(slot.get()) != node) continue;
    slot->crash();  // sockets closed, streams dropped, nothing more sent
    slot->removed_ = true;
    log(LogLevel::debug, "node " + slot->addr_.to_string() + " removed");
    graveyard_.push_back(std::move(slot));
    return;
  }
  GV_ASSERT(node == nullptr);  // not a live node of this runtime (removed twice?)
}

Result<NodeHandle*> Runtime::Impl::add_node(const NodeConfig& config, const Address& bind,
                                            NodeCallbacks cb) {
  if (auto ok = validate(config); !ok) return ok.error();
  if (!bind.valid()) return make_error(Errc::invalid_argument, "bind address is not set");
  if (options_.tls.enabled() && !tls_) {
    return make_error(Errc::io, "TLS: cannot load the certificate, key or CA (see "
                                "check_tls_options)");
  }
  if (config.view && bind.family != 4) {
    // HyParView keeps its views as compact 6-byte IPv4 peers (8 bytes with padding).
    return make_error(Errc::invalid_argument, "partial views need an IPv4 bind address");
  }
  if (options_.shared_sockets) {
    auto addr = share_address(bind, std::uint32_t(nodes_.size()));
    if (!addr) return addr.error();
    return host(config, *addr, Fd(), Fd(), std::move(cb));
  }
  std::string error;
  auto udp = io::bind_udp(bind, error);
  if (!udp) {
    log(LogLevel::warn, "cannot bind UDP on " + bind.to_string() + ": " + error);
    return make_error(Errc::io, "cannot bind UDP (address in use?)");
  }
  Address actual = io::local_address(udp->get());
  auto tcp = io::listen_tcp(actual, error);
  // Port 0: the kernel picked a free UDP port, whose TCP twin may be taken; pick again.
  for (int attempt = 0; !tcp && bind.port == 0 && attempt < 32; ++attempt) {
    udp = io::bind_udp(bind, error);
    if (!udp) return make_error(Errc::io, "cannot bind UDP (address in use?)");
    actual = io::local_address(udp->get());
    tcp = io::listen_tcp(actual, error);
  }
  if (!tcp) {
    log(LogLevel::warn, "cannot bind TCP on " + actual.to_string() + ": " + error);
    return make_error(Errc::io, "cannot bind TCP on the UDP port (in use?)");
  }
  return host(config, actual, std::move(*udp), std::move(*tcp), std::move(cb));
}

NodeHandle* Runtime::Impl::host(const NodeConfig& config, const Address& addr, Fd udp, Fd tcp,
                                NodeCallbacks cb) {
  const auto index = std::uint32_t(nodes_.size());
  const std::uint64_t seed = node_id_of(addr) ^ std::uint64_t(now().ns());
  auto h = std::make_unique<Hosted>(*this, index, io::with_state_generation(config), addr,
                                    std::move(udp), std::move(tcp), std::move(cb), seed);
  if (h->udp_) watch(h->udp_.get(), tag(kUdp, index), EPOLLIN);  // none with shared sockets
  if (h->tcp_) watch(h->tcp_.get(), tag(kListener, index), EPOLLIN);
  Hosted* raw = h.get();
  nodes_.push_back(std::move(h));
  guards_.emplace_back(options_);
  schedule(*raw);
  log(LogLevel::debug, "node started on " + addr.to_string());
  return static_cast<NodeHandle*>(raw);
}

Result<Address> Runtime::Impl::share_address(const Address& bind, std::uint32_t index) {
  if (!io::is_loopback_v4(bind)) {
    return make_error(Errc::invalid_argument,
                      "shared sockets host IPv4 addresses in 127.0.0.0/8 only");
  }
  if (!shared_) {
    std::string error;
    shared_ = io::SharedSockets::open(bind.port, options_.shared_udp_sockets, error);
    if (!shared_) {
      log(LogLevel::warn, "cannot open the shared sockets: " + error);
      return make_error(Errc::io, "cannot bind the shared sockets (port in use?)");
    }
    for (std::size_t k = 0; k < shared_->udp_count(); ++k) {
      watch(shared_->udp(k), tag(kSharedUdp, k), EPOLLIN);
    }
    watch(shared_->listener(), tag(kSharedListener, 0), EPOLLIN);
  }
  if (bind.port != 0 && bind.port != shared_->port()) {
    return make_error(Errc::invalid_argument, "shared sockets: every node on the same port");
  }
  if (!shared_->add(bind.ipv4_u32(), index)) {
    const std::uint32_t holder = shared_->find(bind.ipv4_u32());
    if (nodes_[holder] != nullptr && nodes_[holder]->running_) {
      return make_error(Errc::invalid_argument, "shared sockets: address already hosted");
    }
    shared_->remove(bind.ipv4_u32());  // a crashed node's address is free again
    shared_->add(bind.ipv4_u32(), index);
  }
  Address addr = bind;
  addr.port = shared_->port();
  return addr;
}

// Every hosted node's datagrams arrive here: each goes to the node its destination address
// names; each node that got some then sends, re-arms and delivers once (after_call), as after
// a recvmmsg batch of its own socket.
void Runtime::Impl::read_shared_udp(std::size_t k) {
  io::SharedSockets::Datagram got[64];
  const std::span<io::SharedSockets::Datagram> slots(got, options_.batch);
  for (int rounds = 0; rounds < kSharedReadRoundsMax; ++rounds) {
    const int count = shared_->receive(k, recv_buf_, kRecvBytes, slots);
    if (count <= 0) break;
    const Time now = Runtime::now(), node_now = this->node_now();
    for (int i = 0; i < count; ++i) {
      const io::SharedSockets::Datagram& d = got[i];
      const std::uint32_t index = shared_->find(d.to_ip);
      if (index == UINT32_MAX || nodes_[index] == nullptr || !nodes_[index]->running_) {
        ++shared_->unroutable_datagrams;
        continue;
      }
      Hosted& n = *nodes_[index];
      if (!guards_[index].admit_datagram(d.from, now, n.io_)) continue;  // before parsing
      n.on_datagram(node_now, d.from,
                    std::span<const std::byte>(recv_buf_.data() + std::size_t(i) * kRecvBytes,
                                               d.length));
      touched_.push_back(index);
    }
    std::sort(touched_.begin(), touched_.end());
    touched_.erase(std::unique(touched_.begin(), touched_.end()), touched_.end());
    for (std::uint32_t index : touched_) {
      if (nodes_[index] != nullptr) nodes_[index]->after_call();
    }
    touched_.clear();
    if (std::uint32_t(count) < options_.batch) break;
  }
}

// Connections to any hosted node: each goes to the node its local address names.
void Runtime::Impl::accept_shared() {
  for (int i = 0; i < kSharedAcceptsMax; ++i) {
    sockaddr_storage sa{};
    socklen_t len = sizeof sa;
    const int fd = ::accept4(shared_->listener(), reinterpret_cast<sockaddr*>(&sa), &len,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    const std::uint32_t index = shared_->find(io::local_address(fd).ipv4_u32());
    if (index == UINT32_MAX || nodes_[index] == nullptr || !nodes_[index]->running_) {
      ++shared_->unroutable_streams;
      const linger reset{1, 0};  // a reset, as a closed port refuses a connection
      ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
      ::close(fd);
      continue;
    }
    adopt_inbound(*nodes_[index], fd, io::from_sockaddr(sa));
  }
}

void Runtime::Impl::schedule(Hosted& n) {
  std::int64_t d = n.node_.next_deadline().ns();
  if (d >= n.scheduled_) return;
  n.scheduled_ = d;
  heap_.push_back(Due{d, n.index_});
  std::push_heap(heap_.begin(), heap_.end(), std::greater<>());
}

void Runtime::Impl::fire_timers(Time now) {
  while (!heap_.empty() && heap_.front().t <= now.ns()) {
    std::pop_heap(heap_.begin(), heap_.end(), std::greater<>());
    Due due = heap_.back();
    heap_.pop_back();
    if (nodes_[due.node] == nullptr) continue;  // removed
    Hosted& n = *nodes_[due.node];
    if (due.t != n.scheduled_) continue;  // superseded by an earlier deadline
    n.scheduled_ = INT64_MAX;
    // Time::zero() is "call me now" (a node not started yet), not a deadline to be late for.
    if (due.t > 0) timers_late_max_ = std::max(timers_late_max_, now - Time::from_ns(due.t));
    n.on_timeout(now);
  }
}

int Runtime::Impl::timeout_ms(Time now) const {
  std::int64_t ms = 1000;
  if (!heap_.empty())
    ms = std::min<std::int64_t>(ms, (heap_.front().t - now.ns() + 999999) / 1000000);
  if (!conns_.empty()) ms = std::min<std::int64_t>(ms, 100);  // stream timeouts
  return int(std::max<std::int64_t>(ms, 0));
}

// One turn: wait for input, serve every ready descriptor, then fire the due timers.
//
// Input before timers, all of it: with many nodes (the demo's thousand sockets and their
// streams) more descriptors are ready than one epoll_wait returns. Serving only one batch per
// turn, as before, read each socket every few turns while every due timer fired every turn: an
// ack that had been sitting in the prober's socket for several turns was not read when its
// probe timed out, so a busy loop made members suspect one another, whose refutations made the
// loop busier (a 1,000-node join through one seed never converged: docs/performance.md,
// "Toward 10,000 nodes"). Now a turn takes batches until one comes back short (bounded by
// kDrainBatchesMax), so a timeout fires only after what arrived before it was handled; a
// loaded loop then runs its periodic timers later (tickers skip missed ticks) instead of
// failing members. With RuntimeOptions::turn_time_max the nodes' clock (node_now) also stops
// that far past the turn's start, and end_turn() withholds the rest: at 5,000 nodes, turns of
// 14-17 s otherwise outran the suspicion timeouts (12 million false failures; docs/performance.md).
void Runtime::Impl::run(Time until) {
  epoll_event events[kEpollEvents];
  for (;;) {
    graveyard_.clear();  // nodes removed during the last turn: nothing refers to them now
    const Time real = Runtime::now();
    if (stop_.exchange(false) || real >= until) return;
    int timeout = std::min<std::int64_t>(timeout_ms(node_now()), (until - real).ms() + 1);
    int n = ::epoll_wait(epoll_.get(), events, kEpollEvents, timeout);
    if (n < 0 && errno != EINTR) return;
    const Time turn_start = Runtime::now();
    begin_turn(turn_start);
    std::size_t served = std::size_t(std::max(n, 0));
    for (int i = 0; i < n; ++i) handle(events[i]);
    for (int batch = 1; n == kEpollEvents && batch < kDrainBatchesMax; ++batch) {
      n = ::epoll_wait(epoll_.get(), events, kEpollEvents, 0);
      served += std::size_t(std::max(n, 0));
      for (int i = 0; i < n; ++i) handle(events[i]);
    }
    timers_late_max_ = Duration::zero();
    fire_timers(node_now());
    note_turn(turn_start, served);
    run_posted();
    end_turn();
    expire_conns(Runtime::now());
  }
}

void Runtime::Impl::begin_turn(Time start) {
  if (options_.turn_time_max > Duration::zero()) {
    ceiling_ = start - withheld_ + options_.turn_time_max;
  }
}

// The nodes' clock stood at ceiling_ from the moment the turn passed it; withholding the rest
// makes it go on from there, so it never steps back. The seal's timestamps stay on the wall
// clock: each node's offset grows by what was withheld.
void Runtime::Impl::end_turn() {
  if (ceiling_ == Time::max()) return;
  const Time unheld = Runtime::now() - withheld_;
  const Time ceiling = ceiling_;
  ceiling_ = Time::max();
  if (unheld <= ceiling) return;
  withheld_ += unheld - ceiling;
  const Duration offset = wall_offset() + withheld_;
  for (const auto& n : nodes_) {
    if (n != nullptr) n->node_.set_clock_offset(offset);
  }
}

void Runtime::Impl::note_turn(Time start, std::size_t served) {
  const Time end = Runtime::now();
  if (end - start < kSlowTurn) return;
  if (slow_turn_logged_ != Time{} && end < slow_turn_logged_ + kSlowTurnLogInterval) return;
  slow_turn_logged_ = end;
  char line[320];
  std::snprintf(line, sizeof line,
                "event loop turn took %.2f s (%zu ready descriptors, %zu nodes; timers fired up "
                "to %.2f s late; %.2f s withheld from the nodes' clock so far): the process is "
                "short of CPU, and its members' probes and timeouts run late",
                (end - start).to_seconds(), served, node_count(),
                timers_late_max_.to_seconds(), withheld_.to_seconds());
  log(LogLevel::warn, line);
}

void Runtime::Impl::handle(const epoll_event& ev) {
  const auto kind = Tag(ev.data.u64 >> 56);
  const std::uint64_t id = ev.data.u64 & ((std::uint64_t(1) << 56) - 1);
  switch (kind) {
    case kWake: {
      std::uint64_t v;
      [[maybe_unused]] auto r = ::read(wake_.get(), &v, sizeof v);
      break;
    }
    case kUdp:
      if (nodes_[id] != nullptr) read_udp(*nodes_[id]);  // null: removed this turn
      break;
    case kListener:
      if (nodes_[id] != nullptr) accept_streams(*nodes_[id]);
      break;
    case kConn:
      on_conn(id, ev.events);
      break;
    case kSharedUdp:
      read_shared_udp(std::size_t(id));
      break;
    case kSharedListener:
      accept_shared();
      break;
  }
}

void Runtime::Impl::read_udp(Hosted& n) {
  const std::uint32_t batch = options_.batch;
  mmsghdr msgs[64];
  iovec iov[64];
  sockaddr_storage from[64];
  for (int rounds = 0; rounds < 16 && n.running_; ++rounds) {  // bounded: others get a turn
    for (std::uint32_t i = 0; i < batch; ++i) {
      iov[i] = iovec{recv_buf_.data() + std::size_t(i) * kRecvBytes, kRecvBytes};
      std::memset(&msgs[i], 0, sizeof msgs[i]);
      msgs[i].msg_hdr.msg_name = &from[i];
      msgs[i].msg_hdr.msg_namelen = sizeof from[i];
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int got = ::recvmmsg(n.udp_.get(), msgs, batch, MSG_DONTWAIT, nullptr);
    if (got <= 0) break;
    const Time now = Runtime::now(), node_now = this->node_now();
    for (int i = 0; i < got; ++i) {
      auto bytes = std::span<const std::byte>(recv_buf_.data() + std::size_t(i) * kRecvBytes,
                                              msgs[i].msg_len);
      const Address source = io::from_sockaddr(from[i]);
      if (!guards_[n.index_].admit_datagram(source, now, n.io_)) continue;  // before parsing
      n.on_datagram(node_now, source, bytes);
    }
    n.after_call();
    if (std::uint32_t(got) < batch) break;
  }
}

void Runtime::Impl::post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(post_mu_);
    posted_.push_back(std::move(task));
  }
  wake();
}

void Runtime::Impl::run_posted() {
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard<std::mutex> lock(post_mu_);
    tasks.swap(posted_);
  }
  for (auto& t : tasks) t();
}

// ---- streams --------------------------------------------------------------------------------

void Runtime::Impl::open_stream(Hosted& n, const Address& to, std::span<const std::byte> message) {
  std::string error;
  // Shared sockets: from the node's own address, which the peer's side then names.
  auto fd = io::connect_tcp(to, error, shared_ ? &n.addr_ : nullptr);
  if (!fd) {
    ++n.io_.stream_errors;
    return;
  }
  const std::uint64_t id = next_conn_++;
  auto conn = std::make_unique<StreamConn>(std::move(*fd), n.index_, to, /*inbound=*/false,
                                           Runtime::now() + options_.stream_timeout, n.node_);
  if (tls_) {  // to a known member: its certificate must carry its name
    conn->use_tls(std::make_unique<io::TlsStream>(*tls_, conn->fd(), /*server=*/false,
                                                  io::member_name_at(n.node_.membership(), to)));
  }
  conn->queue_message(message);
  ++n.io_.streams_out;
  n.io_.stream_bytes_out += message.size();
  watch(conn->fd(), tag(kConn, id), EPOLLOUT | EPOLLIN);
  conns_.emplace(id, std::move(conn));
}

void Runtime::Impl::reply_stream(Hosted& n, StreamId id, std::span<const std::byte> message) {
  auto it = conns_.find(id);
  if (it == conns_.end() || it->second.get() != delivering_) return;  // only while handling it
  it->second->queue_message(message);
  ++n.io_.streams_out;
  n.io_.stream_bytes_out += message.size();
}

void Runtime::Impl::accept_streams(Hosted& n) {
  for (int i = 0; i < 64; ++i) {
    sockaddr_storage sa{};
    socklen_t len = sizeof sa;
    int fd = ::accept4(n.tcp_.get(), reinterpret_cast<sockaddr*>(&sa), &len,
                       SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    adopt_inbound(n, fd, io::from_sockaddr(sa));
  }
}

void Runtime::Impl::adopt_inbound(Hosted& n, int fd, const Address& peer) {
  // Limits first: outside allowed_cidrs, or inbound_streams_max open: closed unread.
  if (!guards_[n.index_].admit_stream(peer, n.io_)) {
    ::close(fd);
    return;
  }
  if (n.io_.inbound_streams_open >= options_.inbound_streams_max) {
    ++n.io_.streams_refused;
    ::close(fd);
    return;
  }
  ++n.io_.inbound_streams_open;
  const std::uint64_t id = next_conn_++;
  auto conn = std::make_unique<StreamConn>(Fd(fd), n.index_, peer, /*inbound=*/true,
                                           Runtime::now() + options_.stream_timeout, n.node_);
  if (tls_) conn->use_tls(std::make_unique<io::TlsStream>(*tls_, conn->fd(), true, ""));
  watch(conn->fd(), tag(kConn, id), EPOLLIN);
  conns_.emplace(id, std::move(conn));
}

void Runtime::Impl::on_conn(std::uint64_t id, std::uint32_t events) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  StreamConn& c = *it->second;
  Hosted& n = *nodes_[c.node()];
  const std::size_t held = c.buffered();
  const bool was_secured = c.tls() && c.tls()->established();
  auto step = c.on_ready(events, read_budget(c));
  if (c.inbound()) n.io_.inbound_stream_bytes += c.buffered() - held;
  if (!was_secured && c.tls() && c.tls()->established()) ++n.io_.tls_handshakes;
  if (step == StreamConn::Step::tls_failed) {
    tls_refused(n, c, c.tls()->failure(), c.tls()->failure_detail());
    finish_conn(id);
    return;
  }
  if (step == StreamConn::Step::over_budget) {
    ++n.io_.streams_over_budget;
    finish_conn(id);
    return;
  }
  const bool handled = step == StreamConn::Step::message;
  if (handled) {
    // A whole message arrived: inbound ones may be answered on this connection.
    delivering_ = &c;
    const std::uint64_t refused = n.node_.stream_identity_refused();
    if (c.tls()) n.node_.set_stream_peer_names(c.tls()->peer_names());
    n.on_stream(node_now(), c.peer(), c.message(), c.inbound() ? StreamId(id) : 0);
    delivering_ = nullptr;
    if (n.node_.stream_identity_refused() != refused) {
      tls_refused(n, c, io::TlsFailure::name, "the push-pull names another sender");
    }
    step = c.after_message();
    if (step == StreamConn::Step::tls_failed) step = StreamConn::Step::failed;  // reply failed
  }
  if (step == StreamConn::Step::failed) ++n.io_.stream_errors;
  if (step == StreamConn::Step::done || step == StreamConn::Step::failed) {
    finish_conn(id);
  } else {
    watch(c.fd(), tag(kConn, id), c.wants_write() ? (EPOLLOUT | EPOLLIN) : EPOLLIN);
  }
  if (handled) n.after_call();  // sends, deadline, callbacks: after we are done with `c`
}

void Runtime::Impl::finish_conn(std::uint64_t id) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  const StreamConn& c = *it->second;
  if (c.inbound()) {  // give back its slot and its buffered bytes
    IoStats& io = nodes_[c.node()]->io_;
    GV_ASSERT(io.inbound_streams_open > 0 && io.inbound_stream_bytes >= c.buffered());
    --io.inbound_streams_open;
    io.inbound_stream_bytes -= c.buffered();
  }
  unwatch(c.fd());
  conns_.erase(it);
}

// What inbound stream `c` may still buffer: the node's inbound_stream_bytes_max less what all
// its inbound streams hold now. Outbound streams (replies to our requests) are capped per
// message by the wire only.
std::size_t Runtime::Impl::read_budget(const StreamConn& c) const {
  if (!c.inbound()) return SIZE_MAX;
  const std::uint64_t held = nodes_[c.node()]->io_.inbound_stream_bytes;
  return held >= options_.inbound_stream_bytes_max
             ? 0
             : std::size_t(options_.inbound_stream_bytes_max - held);
}

void Runtime::Impl::drop_streams_of(const Hosted& n) {
  std::vector<std::uint64_t> ids;
  for (const auto& [id, c] : conns_) {
    if (c->node() == n.index_) ids.push_back(id);
  }
  for (auto id : ids) finish_conn(id);
}

void Runtime::Impl::expire_conns(Time now) {
  std::vector<std::uint64_t> ids;
  for (const auto& [id, c] : conns_) {
    if (now >= c->deadline()) ids.push_back(id);
  }
  for (auto id : ids) {
    const StreamConn& c = *conns_[id];
    Hosted& n = *nodes_[c.node()];
    ++n.io_.stream_errors;
    ++n.io_.streams_timed_out;
    if (c.tls() && !c.tls()->established()) {
      tls_refused(n, c, io::TlsFailure::timeout, "no completed handshake by stream_timeout");
    }
    finish_conn(id);
  }
}

void Runtime::Impl::tls_refused(Hosted& n, const StreamConn& c, io::TlsFailure why,
                                std::string_view detail) {
  io::count_tls_failure(n.io_, why);
  tls_log_.refused(Runtime::now(), c.peer(), c.inbound(), why, detail);
}

// ---- Runtime --------------------------------------------------------------------------------

Runtime::Runtime(const RuntimeOptions& options) : impl_(std::make_unique<Impl>(options)) {
  // Query tag filters arrive from the network: match them with RE2 (linear time), as the agent
  // does, rather than core's literal-only default (src/util/tag_regex.h).
  detail::install_re2_tag_matcher();
}
Runtime::~Runtime() = default;
Result<NodeHandle*> Runtime::add_node(const NodeConfig& config, const Address& bind,
                                      NodeCallbacks callbacks) {
  return impl_->add_node(config, bind, std::move(callbacks));
}
void Runtime::remove_node(NodeHandle* node) {
  impl_->remove_node(node);
}
void Runtime::run() {
  impl_->run(Time::max());
}
void Runtime::run_for(Duration d) {
  impl_->run(now() + d);
}
void Runtime::stop() {
  impl_->stop();
}
void Runtime::post(std::function<void()> task) {
  impl_->post(std::move(task));
}
std::size_t Runtime::node_count() const {
  return impl_->node_count();
}
Duration Runtime::withheld() const {
  return impl_->withheld();
}
std::uint64_t Runtime::unroutable_datagrams() const {
  return impl_->unroutable_datagrams();
}

}  // namespace grapevine
