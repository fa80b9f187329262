// Tag filters in these tests match as the agent's do: RE2 installed before any test runs
// (src/util/tag_regex.h; without it the core matches literal patterns only).
#include "regex/re2_tag_matcher.h"

namespace {
[[maybe_unused]] const bool kInstalled = [] {
  grapevine::detail::install_re2_tag_matcher();
  return true;
}();
}  // namespace
