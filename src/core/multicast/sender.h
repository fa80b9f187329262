// Datagram assembly shared by the multicast protocols: pack frames into budget-sized datagrams,
// send them through Effects, and count what went out.
#pragma once

#include <array>
#include <cstddef>
#include <span>

#include "core/multicast/message_store.h"
#include "grapevine/multicast.h"
#include "wire/native.h"

namespace grapevine::detail {

/// Sends one data frame per message, as many per datagram as `budget` allows. A message too
/// large for an empty datagram is skipped (multicast() refuses such payloads up front).
void send_data(Effects& fx, MulticastStats& stats, const Address& to,
               std::span<StoredMessage* const> messages, std::uint8_t flags,
               std::size_t budget);

/// Sends a datagram holding one control frame written by `write(Writer&) -> bool`.
template <class WriteFrame>
void send_control(Effects& fx, MulticastStats& stats, const Address& to, WriteFrame&& write) {
  std::array<std::byte, wire::kPacketBudgetBytesMax> buf;
  wire::Writer w(buf);
  wire::begin_datagram(w);
  if (!write(w)) return;
  fx.send(to, w.written());
  ++stats.datagrams_sent;
  ++stats.control_sent;
  stats.bytes_sent += w.size();
}

/// Emits the delivered event for a message this node has just stored.
inline void emit_delivered(Effects& fx, MulticastStats& stats, const StoredMessage& m) {
  Event e;
  e.kind = EventKind::delivered;
  e.message = m.id;
  e.payload = m.payload;
  e.hops = m.hops;
  ++stats.delivered;
  fx.emit(e);
}

}  // namespace grapevine::detail
