// StreamConn: one TCP stream of the runtime. Bytes go out as the machine framed them; coming
// in, the machine's stream_message_length() says where a message ends (native: a length
// header; memberlist: self-delimiting msgpack). An outbound stream sends one request and reads
// at most one reply; an inbound stream reads one request and writes at most one reply (queued
// by the machine while the request is handled), then closes. Reads take a budget (the bytes the
// stream may still buffer, RuntimeOptions::inbound_stream_bytes_max shared by a node's inbound
// streams): a read that would pass it ends the stream (Step::over_budget).
//
// With mutual TLS (use_tls, RuntimeOptions::tls) the TLS handshake runs first, over the same
// deadline and the same inbound slot; nothing is queued, read or handed on before it has
// completed and the peer's certificate has passed (Step::tls_failed otherwise, the reason in
// tls()->failure()). Bytes and budgets then count plaintext.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "grapevine/address.h"
#include "grapevine/machine.h"
#include "grapevine/time.h"
#include "io/socket_util.h"
#include "io/tls.h"

namespace grapevine::io {

class StreamConn {
 public:
  enum class Step { more, message, done, failed, over_budget, tls_failed };

  StreamConn(Fd fd, std::uint32_t node, const Address& peer, bool inbound, Time deadline,
             const Machine& framer)
      : fd_(std::move(fd)), node_(node), peer_(peer), inbound_(inbound), deadline_(deadline),
        connecting_(!inbound), framer_(&framer) {}

  [[nodiscard]] int fd() const noexcept { return fd_.get(); }
  [[nodiscard]] std::uint32_t node() const noexcept { return node_; }
  [[nodiscard]] const Address& peer() const noexcept { return peer_; }
  [[nodiscard]] bool inbound() const noexcept { return inbound_; }
  [[nodiscard]] Time deadline() const noexcept { return deadline_; }
  [[nodiscard]] bool wants_write() const noexcept {
    if (connecting_) return true;
    if (tls_ && !tls_->established()) return tls_->wants_write();
    return wpos_ < wbuf_.size();
  }
  /// Makes this stream TLS: call right after construction.
  void use_tls(std::unique_ptr<TlsStream> tls) { tls_ = std::move(tls); }
  /// The TLS session, or nullptr on a plain stream.
  [[nodiscard]] const TlsStream* tls() const noexcept { return tls_.get(); }

  /// Queues bytes to send (a message as the machine framed it).
  void queue_message(std::span<const std::byte> message);
  /// Progress on readiness `events` (epoll flags), buffering at most `read_budget` more bytes.
  Step on_ready(std::uint32_t events, std::size_t read_budget = SIZE_MAX);
  /// Bytes received and held (the request or reply being read).
  [[nodiscard]] std::size_t buffered() const noexcept { return rbuf_.size(); }
  /// The message just completed (valid until the next call).
  [[nodiscard]] std::span<const std::byte> message() const noexcept { return rbuf_; }
  /// After the owner handled message(): reply or finish.
  Step after_message();

 private:
  Step write_some();
  Step read_some(std::size_t budget);
  /// One send()/SSL_write: bytes written (> 0), 0 = would block, -1 = failed.
  long put(const std::byte* p, std::size_t n);
  /// One recv()/SSL_read: bytes read (> 0), 0 = EOF, -1 = would block, -2 = failed.
  long get(std::byte* p, std::size_t n);
  Step failed() const noexcept {
    return tls_ && tls_->failure() != TlsFailure::none ? Step::tls_failed : Step::failed;
  }

  Fd fd_;
  std::uint32_t node_;
  Address peer_;
  bool inbound_;
  Time deadline_;
  bool connecting_;
  bool got_message_ = false;
  std::vector<std::byte> wbuf_;
  std::size_t wpos_ = 0;
  std::vector<std::byte> rbuf_;
  const Machine* framer_;
  std::unique_ptr<TlsStream> tls_;  // after fd_: destroyed first (close_notify on the socket)
};

}  // namespace grapevine::io
