// Tags: a member's string -> string metadata, in Serf's encoding so that serf agents show
// grapevine's tags and grapevine shows theirs.
//
// Encoding (serf 0.9.4 `encodeTags`/`decodeTags`; service-layer.md A.2): the byte 0xFF, then a
// msgpack map of raw strings to raw strings. It travels as the member's metadata
// (MembershipConfig::meta, Membership::update_meta), at most kTagsBytesMax bytes with the magic
// byte, in both dialects. We write keys in sorted order (serf writes Go's random map order), so
// our encoding is deterministic; any order decodes.
//
// Decoding, as serf: empty metadata is no tags; metadata whose first byte is not 0xFF is the
// legacy (protocol < 3) form, the whole metadata as the value of "role".
#pragma once

#include <cstddef>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "grapevine/limits.h"
#include "grapevine/result.h"

namespace grapevine {

using Tags = std::map<std::string, std::string, std::less<>>;

/// Serf's magic first byte of encoded tags.
inline constexpr std::byte kTagsMagic{0xff};
/// Largest encoded tags, magic byte included (memberlist's MetaMaxSize).
inline constexpr std::size_t kTagsBytesMax = kMetaBytesMax;

/// Encodes `tags` (an empty map encodes to just the magic byte and an empty map, as serf).
/// Errors: too_large when the encoding is over kTagsBytesMax.
Result<std::vector<std::byte>> encode_tags(const Tags& tags);

/// Decodes a member's metadata. Errors: malformed or truncated (not a map of strings, or bytes
/// after the map); too_large never (the input bounds everything).
Result<Tags> decode_tags(std::span<const std::byte> meta);

}  // namespace grapevine
