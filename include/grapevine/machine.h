// Machine: the shape of every protocol in grapevine. A deterministic state machine with no I/O:
// it never reads a clock, never touches a socket, never draws from a global RNG.
//
// Contract between a machine and its driver (the simulator, the runtime, or your own):
//  - calls are not re-entrant: no call into a machine starts while another call into it (or,
//    in a driver that runs one call at a time, into any machine) is open. An Effects method
//    must not call back into a machine; a driver that hands events to application code does so
//    after the call returns (the runtime queues them), so the application may then call in;
//  - `now` never decreases from one call to the next (equal is fine);
//  - Effects::reply_stream(id, ...) is called only during the on_stream() call that received
//    stream `id` (a machine that needs longer must say so in a new stream);
//  - spans passed to and from Effects are valid only during that Effects call;
//  - the same inputs in the same order give byte-identical outputs (sends and events);
//  - after every call the driver reads next_deadline() and calls on_timeout() once now >= it.
// Both drivers check the first three on every call with detail::DriverContract
// (src/util/driver_contract.h); a violation aborts, in release builds too.
#pragma once

#include <cstddef>
#include <span>

#include "grapevine/address.h"
#include "grapevine/result.h"
#include "grapevine/event.h"
#include "grapevine/time.h"

namespace grapevine {

class Machine {
 public:
  virtual ~Machine() = default;
  /// A datagram arrived from `from`. `bytes` is only valid during the call. Malformed input is
  /// counted and dropped, never asserted on.
  virtual void on_datagram(Time now, const Address& from, std::span<const std::byte> bytes,
                           Effects& fx) = 0;
  /// A reliable message arrived on a stream (state sync, large messages). `stream` is non-zero
  /// when the sender waits for an answer: give it with Effects::reply_stream(stream, ...).
  /// Machines that use no streams ignore it.
  virtual void on_stream(Time /*now*/, const Address& /*from*/,
                         std::span<const std::byte> /*message*/, StreamId /*stream*/,
                         Effects& /*fx*/) {}
  /// Stream framing, for drivers that read streams off TCP: given the bytes received so far on
  /// an inbound stream (or an answer), how many form one complete message. 0 = need more;
  /// an error = malformed or over a limit (the driver drops the connection). The default is
  /// the native framing: a 4-byte big-endian length, then that many bytes (stream messages a
  /// machine sends carry that header themselves). Drivers hand on_stream the whole message.
  [[nodiscard]] virtual Result<std::size_t> stream_message_length(
      std::span<const std::byte> received) const;
  /// The deadline returned by next_deadline() has passed.
  virtual void on_timeout(Time now, Effects& fx) = 0;
  /// The earliest time this machine wants on_timeout(); Time::max() when it wants none.
  [[nodiscard]] virtual Time next_deadline() const noexcept = 0;
  /// A hint, never required for correctness: the driver is about to call into this machine
  /// (a few events from now), so the machine may issue CPU prefetches for the state it will
  /// touch (its heap-allocated tables). It must not change any state. The default does nothing.
  virtual void prefetch() const noexcept {}
};

}  // namespace grapevine
