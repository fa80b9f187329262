// memberlist's cluster label header (v0.3.0+, memberlist.md sections 2.5 and 2.8):
//
//   [244][len u8, 1..255][label bytes]
//
// the outermost prefix of a UDP packet or a TCP stream. An empty label means no header at all.
// The label is also the AAD of packet encryption (and follows [10][len] in stream AAD), so a
// label mismatch fails decryption even when the check is skipped.
//
// Receive rule (Go's ingestPacket / handleConn): strip the header; with SkipInboundLabelCheck a
// packet that still carries a header is rejected ("double label": the transport should have
// removed it) and the configured label is used; otherwise the packet's label must equal the
// configured one (both may be empty).
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "grapevine/result.h"
#include "wire/memberlist/msgpack.h"
#include "wire/writer.h"

namespace grapevine::wire::ml {

/// Bytes the header for `label` takes: 0 when empty, else 2 + size.
constexpr std::size_t label_header_size(std::string_view label) noexcept {
  return label.empty() ? 0 : 2 + label.size();
}

/// Writes the header (nothing for an empty label). Errors: too_large for a label over 255
/// bytes, no_space when `w` is too small.
Result<void> write_label_header(Writer& w, std::string_view label) noexcept;

struct Labeled {
  std::string_view label;  // empty when there was no header; points into the input
  ByteSpan rest;           // what follows the header
};

/// Splits off a label header if byte 0 is 244. Errors: truncated when the input ends inside the
/// header (a stream reader should wait for more), malformed for a zero length.
Result<Labeled> strip_label(ByteSpan in) noexcept;

/// Applies the receive rule above and returns the rest. Errors: as strip_label, and rejected
/// for a label mismatch or a double label.
Result<ByteSpan> check_label(ByteSpan in, std::string_view configured,
                             bool skip_inbound_check) noexcept;

}  // namespace grapevine::wire::ml
