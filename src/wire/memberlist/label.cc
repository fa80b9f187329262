// memberlist's cluster label header: see label.h.
#include "wire/memberlist/label.h"

#include "wire/memberlist/types.h"

namespace grapevine::wire::ml {

Result<void> write_label_header(Writer& w, std::string_view label) noexcept {
  if (label.empty()) return {};
  if (label.size() > kLabelBytesMax) return make_error(Errc::too_large, "label over 255 bytes");
  if (w.remaining() < label_header_size(label)) {
    return make_error(Errc::no_space, "label header does not fit");
  }
  w.u8(std::uint8_t(MessageType::has_label));
  w.u8(std::uint8_t(label.size()));
  w.bytes(as_bytes(label));
  return {};
}

Result<Labeled> strip_label(ByteSpan in) noexcept {
  if (in.empty() || in[0] != std::byte(MessageType::has_label)) return Labeled{{}, in};
  if (in.size() < 2) return make_error(Errc::truncated, "label header cut short");
  const std::size_t n = std::to_integer<std::size_t>(in[1]);
  if (n == 0) return make_error(Errc::malformed, "empty label in a label header");
  if (in.size() < 2 + n) return make_error(Errc::truncated, "label cut short");
  return Labeled{as_chars(in.subspan(2, n)), in.subspan(2 + n)};
}

Result<ByteSpan> check_label(ByteSpan in, std::string_view configured,
                             bool skip_inbound_check) noexcept {
  auto labeled = strip_label(in);
  if (!labeled) return labeled.error();
  std::string_view label = labeled->label;
  if (skip_inbound_check) {
    if (!label.empty()) return make_error(Errc::rejected, "unexpected double label header");
    label = configured;
  }
  if (label != configured) return make_error(Errc::rejected, "label does not match ours");
  return labeled->rest;
}

}  // namespace grapevine::wire::ml
