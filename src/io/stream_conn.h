// StreamConn: one TCP stream of the runtime. Bytes go out as the machine framed them; coming
// in, the machine's stream_message_length() says where a message ends (native: a length
// header; memberlist: self-delimiting msgpack). An outbound stream sends one request and reads
// at most one reply; an inbound stream reads one request and writes at most one reply (queued
// by the machine while the request is handled), then closes. Reads take a budget (the bytes the
// stream may still buffer, RuntimeOptions::inbound_stream_bytes_max shared by a node's inbound
// streams): a read that would pass it ends the stream (Step::over_budget).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "grapevine/address.h"
#include "grapevine/machine.h"
#include "grapevine/time.h"
#include "io/socket_util.h"

namespace grapevine::io {

class StreamConn {
 public:
  enum class Step { more, message, done, failed, over_budget };

  StreamConn(Fd fd, std::uint32_t node, const Address& peer, bool inbound, Time deadline,
             const Machine& framer)
      : fd_(std::move(fd)), node_(node), peer_(peer), inbound_(inbound), deadline_(deadline),
        connecting_(!inbound), framer_(&framer) {}

  [[nodiscard]] int fd() const noexcept { return fd_.get(); }
  [[nodiscard]] std::uint32_t node() const noexcept { return node_; }
  [[nodiscard]] const Address& peer() const noexcept { return peer_; }
  [[nodiscard]] bool inbound() const noexcept { return inbound_; }
  [[nodiscard]] Time deadline() const noexcept { return deadline_; }
  [[nodiscard]] bool wants_write() const noexcept { return connecting_ || wpos_ < wbuf_.size(); }

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
};

}  // namespace grapevine::io
