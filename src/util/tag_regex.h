// Tag filter regular expressions: how a query's tag filter (native and serf dialects) matches a
// member's tag value. Tag filters arrive from the network, so the match must be linear-time and
// bounded: the core stays standard-library-only and calls a matcher installed by its host. Every
// io::Runtime, the `grapevine` command, the Python module and the tests install RE2's
// (src/regex/re2_tag_matcher.h), which matches as serf does (Go's regexp.MatchString: RE2 syntax, unanchored search). Without one
// installed, the default matcher accepts only literal patterns (no regex metacharacter), found
// as a substring of the value, which is what RE2 would answer for them; any other pattern does
// not match. std::regex is never used: it backtracks exponentially and recurses per character.
#pragma once

#include <cstddef>
#include <string_view>

namespace grapevine::detail {

/// Longest tag filter pattern matched (bytes); a longer one matches nothing. The native wire
/// already bounds its regexes at 128 bytes (kQueryRegexBytesMax); serf's filters carry no limit.
inline constexpr std::size_t kTagRegexBytesMax = 512;

/// Whether `pattern` is found in `value` (an unanchored search). Must be thread-safe, never
/// throw, and answer false for a pattern that does not compile.
using TagRegexMatcher = bool (*)(std::string_view pattern, std::string_view value) noexcept;

/// Installs the process-wide matcher (nullptr: back to the literal-only default). Thread-safe.
void set_tag_regex_matcher(TagRegexMatcher matcher) noexcept;
/// The installed matcher's answer; false for a pattern over kTagRegexBytesMax.
bool tag_regex_search(std::string_view pattern, std::string_view value) noexcept;
/// The default: `pattern` without metacharacters found in `value`; false otherwise.
bool literal_tag_search(std::string_view pattern, std::string_view value) noexcept;

}  // namespace grapevine::detail
