// Query helpers shared by the membership machine, the Node and the tools (grapevine/query.h):
// serf's default timeout, and the answer of a keyring query.
#include "grapevine/query.h"

#include <algorithm>
#include <cmath>

#include "wire/reader.h"
#include "wire/writer.h"

namespace grapevine {
namespace {

// An answer leaves room in its response for the member's name (<= 255) and the frame header.
constexpr std::size_t kKeyringAnswerBytesMax = kQueryResponseBytesMax - 320;
constexpr std::size_t kKeyringMessageBytesMax = 200;
constexpr std::size_t kKeyringKeysMax = 64;
constexpr std::size_t kKeyBytesMax = 64;

}  // namespace

Duration default_query_timeout(Duration gossip_interval, std::uint32_t mult,
                               std::size_t n) noexcept {
  const auto scale = std::int64_t(std::max(1.0, std::ceil(std::log10(double(n) + 1.0))));
  return gossip_interval * std::int64_t(mult) * scale;
}

const char* keyring_command_name(KeyringCommand c) noexcept {
  switch (c) {
    case KeyringCommand::list: return "list";
    case KeyringCommand::install: return "install";
    case KeyringCommand::use: return "use";
    case KeyringCommand::remove: return "remove";
  }
  return "unknown";
}

std::vector<std::byte> encode_keyring_answer(const KeyringAnswer& a) {
  std::vector<std::byte> out(kKeyringAnswerBytesMax);
  wire::Writer w(out);
  std::string message = a.message.substr(0, kKeyringMessageBytesMax);
  std::size_t keys = 0, room = kKeyringAnswerBytesMax - 1 - 2 - message.size() - 2;
  for (const auto& k : a.keys) {
    if (k.size() > kKeyBytesMax || keys == kKeyringKeysMax || room < k.size() + 1) break;
    room -= k.size() + 1;
    ++keys;
  }
  if (keys < a.keys.size() && message.empty()) message = "keyring truncated";
  w.u8(a.ok ? 1 : 0);
  w.varint(message.size());
  w.bytes(std::as_bytes(std::span(message.data(), message.size())));
  w.varint(keys);
  for (std::size_t i = 0; i < keys; ++i) {
    w.varint(a.keys[i].size());
    w.bytes(a.keys[i]);
  }
  out.resize(w.ok() ? w.size() : 0);
  return out;
}

Result<KeyringAnswer> decode_keyring_answer(std::span<const std::byte> bytes) {
  if (bytes.size() > kQueryResponseBytesMax) {
    return make_error(Errc::too_large, "keyring answer over kQueryResponseBytesMax");
  }
  wire::Reader r(bytes);
  KeyringAnswer a;
  const std::uint8_t ok = r.u8();
  if (r.ok() && ok > 1) r.fail(Errc::malformed, "keyring answer flag not 0 or 1");
  a.ok = ok == 1;
  auto m = r.bytes(std::size_t(r.varint_max(kKeyringMessageBytesMax, "message over limit")));
  a.message.assign(reinterpret_cast<const char*>(m.data()), m.size());
  const auto n = std::size_t(r.varint_max(kKeyringKeysMax, "keys over limit"));
  for (std::size_t i = 0; i < n && r.ok(); ++i) {
    auto k = r.bytes(std::size_t(r.varint_max(kKeyBytesMax, "key over limit")));
    if (r.ok()) a.keys.emplace_back(k.begin(), k.end());
  }
  if (r.ok() && !r.at_end()) r.fail(Errc::malformed, "trailing bytes in keyring answer");
  if (!r.ok()) return make_error(r.error(), r.error_detail());
  return a;
}

}  // namespace grapevine
