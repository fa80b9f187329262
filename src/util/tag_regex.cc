// The core's side of tag filter matching (tag_regex.h): the installed matcher, and the
// literal-only default.
#include "util/tag_regex.h"

#include <atomic>

namespace grapevine::detail {
namespace {

std::atomic<TagRegexMatcher> g_matcher{nullptr};

}  // namespace

void set_tag_regex_matcher(TagRegexMatcher matcher) noexcept {
  g_matcher.store(matcher, std::memory_order_release);
}

bool literal_tag_search(std::string_view pattern, std::string_view value) noexcept {
  constexpr std::string_view kMeta = "\\.+*?()|[]{}^$";
  if (pattern.find_first_of(kMeta) != std::string_view::npos) return false;
  return value.find(pattern) != std::string_view::npos;
}

bool tag_regex_search(std::string_view pattern, std::string_view value) noexcept {
  if (pattern.size() > kTagRegexBytesMax) return false;
  const TagRegexMatcher m = g_matcher.load(std::memory_order_acquire);
  return m != nullptr ? m(pattern, value) : literal_tag_search(pattern, value);
}

}  // namespace grapevine::detail
