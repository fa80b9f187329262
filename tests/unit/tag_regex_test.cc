// Tag filter regexes (util/tag_regex.h, regex/re2_tag_matcher.h): serf's semantics (RE2 syntax,
// unanchored for query filters, anchored for `members --tag`), the literal-only default, the
// size limit, and a pathological pattern that would backtrack exponentially in std::regex.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "regex/re2_tag_matcher.h"
#include "util/tag_regex.h"

namespace grapevine::detail {
namespace {

TEST(TagRegex, SerfSemantics) {
  install_re2_tag_matcher();
  EXPECT_TRUE(tag_regex_search("^ea", "east"));
  EXPECT_TRUE(tag_regex_search("as", "east"));  // unanchored, as Go's regexp.MatchString
  EXPECT_FALSE(tag_regex_search("^west$", "east"));
  EXPECT_TRUE(tag_regex_search("", ""));          // a missing tag is matched as ""
  EXPECT_FALSE(tag_regex_search("(", "east"));    // does not compile: no match
  EXPECT_FALSE(tag_regex_search("\\1", "east"));  // backreferences: not RE2
  EXPECT_TRUE(re2_tag_full_match("we.*", "web"));
  EXPECT_FALSE(re2_tag_full_match("we", "web"));  // members --tag: anchored both ends
  EXPECT_EQ(re2_tag_pattern_error("^web$"), "");
  EXPECT_NE(re2_tag_pattern_error("(web"), "");
  EXPECT_NE(re2_tag_pattern_error(std::string(kTagRegexBytesMax + 1, 'a')), "");
  EXPECT_FALSE(tag_regex_search(std::string(kTagRegexBytesMax + 1, 'a'), "a"));
}

TEST(TagRegex, PathologicalPatternsReturnFast) {
  install_re2_tag_matcher();
  const std::string value(100000, 'a');  // std::regex: exponential backtracking or overflow
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(tag_regex_search("(a*)*b", value));
  EXPECT_FALSE(tag_regex_search("(a|aa)*b", value));
  EXPECT_FALSE(tag_regex_search("^(a+)+$b", value));
  // Deep nesting: RE2 parses without recursion per character and bounds its memory.
  EXPECT_FALSE(tag_regex_search(std::string(200, '(') + "a" + std::string(200, ')') + "b", value));
  EXPECT_FALSE(tag_regex_search("a{1000}{1000}", value));  // over RE2's repeat limit
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(ms, 2000) << "pathological tag patterns took " << ms << " ms";
}

TEST(TagRegex, LiteralDefaultWithoutRe2) {
  set_tag_regex_matcher(nullptr);
  EXPECT_TRUE(tag_regex_search("east", "northeast"));
  EXPECT_FALSE(tag_regex_search("west", "east"));
  EXPECT_FALSE(tag_regex_search("^ea", "east"));  // metacharacters: refused, not guessed
  EXPECT_TRUE(tag_regex_search("", "x"));
  install_re2_tag_matcher();  // the other tests in this binary expect RE2
}

}  // namespace
}  // namespace grapevine::detail
