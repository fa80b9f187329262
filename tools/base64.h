// Base64 (RFC 4648, with padding) and UTF-8 validity: binary fields in the agent's JSON.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace grapevine::tools {

std::string base64_encode(std::span<const std::byte> bytes);
/// nullopt when `text` holds a character outside the alphabet (padding '=' ends the input).
std::optional<std::vector<std::byte>> base64_decode(std::string_view text);
/// True when `bytes` is well-formed UTF-8 (no overlongs, surrogates or code points > U+10FFFF).
bool valid_utf8(std::span<const std::byte> bytes);

}  // namespace grapevine::tools
