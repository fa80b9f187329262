// RE2 tag matching (re2_tag_matcher.h). Patterns are compiled per call: tag filters are few and
// short, and a cache keyed by network input would be one more thing to bound.
#include "regex/re2_tag_matcher.h"

#include <re2/re2.h>

#include "util/tag_regex.h"

namespace grapevine::detail {
namespace {

RE2::Options options() {
  RE2::Options o;
  o.set_log_errors(false);
  o.set_max_mem(kTagRegexMemMax);
  return o;
}

bool matches(std::string_view pattern, std::string_view value, RE2::Anchor anchor) noexcept {
  if (pattern.size() > kTagRegexBytesMax) return false;
  try {
    const RE2 re(re2::StringPiece(pattern.data(), pattern.size()), options());
    if (!re.ok()) return false;
    const re2::StringPiece text(value.data(), value.size());
    return re.Match(text, 0, text.size(), anchor, nullptr, 0);
  } catch (...) {  // allocation failure: no match rather than an escape from a noexcept path
    return false;
  }
}

}  // namespace

void install_re2_tag_matcher() noexcept { set_tag_regex_matcher(&re2_tag_search); }

bool re2_tag_search(std::string_view pattern, std::string_view value) noexcept {
  return matches(pattern, value, RE2::UNANCHORED);
}

bool re2_tag_full_match(std::string_view pattern, std::string_view value) noexcept {
  return matches(pattern, value, RE2::ANCHOR_BOTH);
}

std::string re2_tag_pattern_error(std::string_view pattern) {
  if (pattern.size() > kTagRegexBytesMax) {
    return "pattern over " + std::to_string(kTagRegexBytesMax) + " bytes";
  }
  const RE2 re(re2::StringPiece(pattern.data(), pattern.size()), options());
  return re.ok() ? std::string() : re.error();
}

}  // namespace grapevine::detail
