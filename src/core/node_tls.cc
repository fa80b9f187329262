// Node's half of the runtime's mutual TLS (docs/security.md): the runtime authenticates the
// peer's certificate and hands its names to Node::set_stream_peer_names; here a native push-pull
// must name one of them as its sender (wire/stream_sender.h). The memberlist dialect's
// push-pull names no sender: it is bound by the CA (and, outbound, by the dialled member's
// name, which the runtime checks) only.
#include "grapevine/node.h"

#include <algorithm>

#include "wire/stream_sender.h"

namespace grapevine {

bool Node::stream_identity_ok(std::span<const std::byte> message) const {
  if (memberlist_) return true;
  auto claim = wire::stream_sender_name(message);
  if (!claim) return false;  // a malformed push-pull, or one without its sender: refused
  if (!claim->has_value()) return true;  // not a push-pull: no name to bind
  return std::any_of(stream_peer_names_.begin(), stream_peer_names_.end(),
                     [&](const std::string& n) { return n == **claim; });
}

}  // namespace grapevine
