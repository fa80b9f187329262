// The member name a native stream message claims as its sender, for the runtime's mutual TLS
// (RuntimeOptions::tls, docs/security.md): a certified stream may only carry a push-pull that
// names its own certificate's member as sender. Only native push-pulls name their sender
// (header sender id, and that member's entry with its name); stream pings and acks, replicated
// state deltas and consistent-membership streams carry no name and are bound by the CA alone.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

#include "grapevine/result.h"

namespace grapevine::wire {

/// `message` is a whole plaintext native stream message (length header included). Returns the
/// name in the push-pull's entry for its header's sender (a view into `message`), or nullopt
/// when the message is not a push-pull (another type, or not a native membership stream).
/// Errors: those of PushPullReader (malformed, too_large, ...), and rejected when the
/// push-pull lists no entry for its own sender. Allocates nothing; reads each byte once.
Result<std::optional<std::string_view>> stream_sender_name(
    std::span<const std::byte> message) noexcept;

}  // namespace grapevine::wire
