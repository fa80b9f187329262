// The runtime's streams: outgoing ones a node opens, inbound ones accepted (limits first),
// reading each under the node's byte budget, TLS when configured, and their timeouts.
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "io/runtime_hosted.h"
#include "util/assert.h"

namespace grapevine {

using namespace runtime_detail;

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

}  // namespace grapevine
