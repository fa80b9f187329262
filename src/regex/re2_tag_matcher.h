// RE2 behind the core's tag filter interface (util/tag_regex.h), in its own library
// (grapevine_re2) so grapevine_core stays standard-library-only. RE2 runs in time linear in
// the value and bounded memory: a hostile pattern from the network (`(a*)*b`, deep nesting)
// cannot stall the node or overflow its stack as std::regex could.
#pragma once

#include <string>
#include <string_view>

namespace grapevine::detail {

/// RE2's memory budget for one compiled tag pattern (bytes); a pattern needing more fails.
inline constexpr long kTagRegexMemMax = 256 * 1024;

/// Installs re2_tag_search as the process-wide tag matcher (set_tag_regex_matcher).
void install_re2_tag_matcher() noexcept;
/// Serf's query tag filter: `pattern` (RE2 syntax) found anywhere in `value` (Go's
/// regexp.MatchString). False for an invalid or oversized pattern.
bool re2_tag_search(std::string_view pattern, std::string_view value) noexcept;
/// Serf's `members -tag`: `pattern` matches the whole value (serf anchors it as ^(?:re)$).
bool re2_tag_full_match(std::string_view pattern, std::string_view value) noexcept;
/// Empty if `pattern` compiles within kTagRegexBytesMax and kTagRegexMemMax, else why not
/// (RE2's message), for a clear error at the CLI and RPC edge.
std::string re2_tag_pattern_error(std::string_view pattern);

}  // namespace grapevine::detail
