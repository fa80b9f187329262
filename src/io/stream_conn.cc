#include "io/stream_conn.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "wire/native_membership.h"

namespace grapevine::io {

void StreamConn::queue_message(std::span<const std::byte> message) {
  wbuf_.insert(wbuf_.end(), message.begin(), message.end());
}

StreamConn::Step StreamConn::on_ready(std::uint32_t events, std::size_t read_budget) {
  if (connecting_) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return Step::more;
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return Step::failed;  // refused, unreachable: the peer is down
    connecting_ = false;
  }
  if (tls_ && !tls_->established()) {
    const auto r = tls_->handshake();
    if (r == TlsStream::Io::want) return Step::more;
    if (r != TlsStream::Io::ok) return Step::tls_failed;
    events |= EPOLLIN;  // a record may already wait in OpenSSL's buffer: try reading
  }
  if (wpos_ < wbuf_.size()) {
    Step s = write_some();
    if (s != Step::more) return s;
    if (wpos_ < wbuf_.size()) return Step::more;
    if (inbound_ && got_message_) return Step::done;  // reply written
  }
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) return read_some(read_budget);
  return Step::more;
}

StreamConn::Step StreamConn::write_some() {
  while (wpos_ < wbuf_.size()) {
    const long n = put(wbuf_.data() + wpos_, wbuf_.size() - wpos_);
    if (n == 0) return Step::more;
    if (n < 0) return failed();
    wpos_ += std::size_t(n);
  }
  return Step::more;
}

long StreamConn::put(const std::byte* p, std::size_t n) {
  if (tls_) {
    std::size_t done = 0;
    switch (tls_->write(p, n, done)) {
      case TlsStream::Io::ok: return long(done);
      case TlsStream::Io::want: return 0;
      default: return -1;
    }
  }
  const ssize_t r = ::send(fd_.get(), p, n, MSG_NOSIGNAL);
  if (r >= 0) return long(r);
  return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
}

long StreamConn::get(std::byte* p, std::size_t n) {
  if (tls_) {
    std::size_t done = 0;
    switch (tls_->read(p, n, done)) {
      case TlsStream::Io::ok: return long(done);
      case TlsStream::Io::eof: return 0;
      case TlsStream::Io::want: return -1;
      case TlsStream::Io::failed: return -2;
    }
  }
  const ssize_t r = ::recv(fd_.get(), p, n, 0);
  if (r >= 0) return long(r);
  return errno == EAGAIN || errno == EWOULDBLOCK ? -1 : -2;
}

StreamConn::Step StreamConn::read_some(std::size_t budget) {
  std::byte chunk[65536];
  for (;;) {
    // Never ask for more than the budget allows plus one byte: one byte past it proves the
    // stream would exceed it, and nothing past that is buffered.
    const std::size_t ask = budget < sizeof chunk ? budget + 1 : sizeof chunk;
    const long n = get(chunk, ask);
    if (n == -1) return Step::more;
    if (n < 0) return failed();
    if (n == 0) {
      // EOF. An outbound stream may legitimately get no reply; an inbound one must carry a
      // whole request.
      return inbound_ ? Step::failed : Step::done;
    }
    if (std::size_t(n) > budget) return Step::over_budget;
    budget -= std::size_t(n);
    rbuf_.insert(rbuf_.end(), chunk, chunk + n);
    if (rbuf_.size() > wire::kStreamBytesMax + 64) return Step::failed;  // bounded buffering
    auto len = framer_->stream_message_length(rbuf_);
    if (!len) return Step::failed;  // malformed or over a limit
    if (*len > 0) {
      if (rbuf_.size() > *len) return Step::failed;  // one message per direction
      got_message_ = true;
      return Step::message;
    }
  }
}

StreamConn::Step StreamConn::after_message() {
  if (!inbound_) return Step::done;       // the reply to our request: finished
  if (wbuf_.empty()) return Step::done;   // nothing to say back
  Step s = write_some();
  if (s == Step::failed || s == Step::tls_failed) return s;
  return wpos_ < wbuf_.size() ? Step::more : Step::done;
}

}  // namespace grapevine::io
