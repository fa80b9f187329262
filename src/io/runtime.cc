// The runtime's event loop: epoll over every hosted node's UDP socket, TCP listener and stream
// connections, an eventfd for posted tasks, and a min-heap of node deadlines (one entry per
// node, lazily invalidated, as in the simulator). Its state: runtime_impl.h; the hosted node:
// runtime_hosted.{h,cc}; shared sockets: runtime_shared.cc; streams: runtime_streams.cc.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "io/runtime_hosted.h"
#include "util/assert.h"

namespace grapevine {

using namespace runtime_detail;

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

}  // namespace grapevine
