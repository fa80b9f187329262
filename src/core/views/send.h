// One-frame datagrams for the view protocols: version byte, one frame, send. Every view frame is
// small (at most kViewEntriesMax descriptors or one payload), so one datagram per frame keeps
// each protocol step a single, independently lost packet, as the papers model it.
#pragma once

#include <array>

#include "grapevine/event.h"
#include "wire/native.h"

namespace grapevine::detail {

/// Writes a datagram with the frame `write(Writer&)` produces and sends it to `to`. Returns
/// false (nothing sent) if the frame does not fit the packet budget.
template <class Write>
bool send_frame(Effects& fx, const Address& to, Write&& write) {
  std::array<std::byte, wire::kPacketBudgetBytes> buf;
  wire::Writer w(buf);
  wire::begin_datagram(w);
  if (!write(w) || !w.ok()) return false;
  fx.send(to, w.written());
  return true;
}

}  // namespace grapevine::detail
