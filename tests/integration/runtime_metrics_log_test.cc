// NodeHandle::metrics() (one snapshot of every counter the agent's /metrics serves) and the
// logging hook (RuntimeOptions::log, grapevine/log.h), on real sockets on 127.0.0.1 with
// kernel-picked ports. Each test takes well under a second.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "grapevine/limits.h"
#include "grapevine/log.h"
#include "grapevine/runtime.h"
#include "live_cluster.h"
#include "util/tag_regex.h"

namespace grapevine::testing {
namespace {

// An embedder's query tag filters are RE2 regexes, as the agent's: building a Runtime installs
// RE2 in place of core's literal-only default.
TEST(RuntimeTagRegex, ARuntimeInstallsRe2) {
  detail::set_tag_regex_matcher(nullptr);
  EXPECT_FALSE(detail::tag_regex_search("^we.$", "web"));  // the literal-only default
  EXPECT_TRUE(detail::tag_regex_search("eb", "web"));
  Runtime rt;
  EXPECT_TRUE(detail::tag_regex_search("^we.$", "web"));
  EXPECT_FALSE(detail::tag_regex_search("^we.$", "webs"));
  EXPECT_FALSE(detail::tag_regex_search("(a*)*b", std::string(100000, 'a')));  // linear: fast
}

TEST(RuntimeMetrics, SnapshotMatchesTheSeparateAccessors) {
  Runtime rt;
  const NodeConfig config = fast_local_config();
  const Address any = *Address::parse("127.0.0.1:0");
  auto a = rt.add_node(config, any);
  auto b = rt.add_node(config, any);
  ASSERT_TRUE(a && b);
  const Address seed = (*a)->address();
  ASSERT_TRUE((*b)->join(std::span(&seed, 1)));
  const Time deadline = Runtime::now() + Duration::seconds(5);
  while (Runtime::now() < deadline && ((*a)->members().size() < 2 || (*b)->members().size() < 2)) {
    rt.run_for(Duration::milliseconds(20));
  }
  ASSERT_EQ((*a)->members().size(), 2u);
  const std::string text = "hello";
  ASSERT_TRUE((*a)->multicast(std::as_bytes(std::span(text.data(), text.size()))));
  rt.run_for(Duration::milliseconds(200));

  for (NodeHandle* n : {*a, *b}) {
    const NodeMetrics m = n->metrics();
    EXPECT_EQ(m.member_count(MemberState::alive), 2u);
    EXPECT_EQ(m.member_count(MemberState::failed), 0u);
    EXPECT_EQ(m.members[std::size_t(MemberState::alive)],
              n->membership().member_count(MemberState::alive));
    EXPECT_GT(m.io.datagrams_in, 0u);
    EXPECT_EQ(m.io.datagrams_in, n->io_stats().datagrams_in);
    EXPECT_EQ(m.io.bytes_out, n->io_stats().bytes_out);
    EXPECT_EQ(m.membership.probes, n->membership().stats().probes);
    EXPECT_EQ(m.multicast.delivered, n->multicast_stats().delivered);
    EXPECT_GE(m.multicast.delivered, 1u);
    EXPECT_EQ(m.seal.sealed, n->seal_stats().sealed);
    EXPECT_EQ(m.state.rounds, n->state_stats().rounds);
    EXPECT_EQ(m.queue_depth, n->membership().queue_depth());
    EXPECT_EQ(m.health_score, n->membership().health_score());
    EXPECT_FALSE(m.configuration.valid);  // eventual mode
  }
  // Still readable after a crash (the last counts).
  (*b)->crash();
  EXPECT_EQ((*b)->metrics().io.datagrams_in, (*b)->io_stats().datagrams_in);
}

TEST(RuntimeLog, HookReceivesTheRuntimesMessages) {
  std::vector<std::pair<LogLevel, std::string>> seen;
  RuntimeOptions opts;
  opts.log = [&](LogLevel level, std::string_view message) {
    seen.emplace_back(level, std::string(message));
  };
  Runtime rt(opts);
  auto a = rt.add_node(fast_local_config(), *Address::parse("127.0.0.1:0"));
  ASSERT_TRUE(a);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().first, LogLevel::debug);
  EXPECT_NE(seen.back().second.find("node started on " + (*a)->address().to_string()),
            std::string::npos)
      << seen.back().second;

  // The same address again: bind fails, the call returns Errc::io and the hook hears why.
  auto dup = rt.add_node(fast_local_config(), (*a)->address());
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, Errc::io);
  EXPECT_EQ(seen.back().first, LogLevel::warn);
  EXPECT_NE(seen.back().second.find("cannot bind"), std::string::npos) << seen.back().second;

  const std::string addr = (*a)->address().to_string();
  rt.remove_node(*a);
  EXPECT_EQ(seen.back().second, "node " + addr + " removed");
  for (const auto& [level, message] : seen) {
    EXPECT_EQ(message.find('\n'), std::string::npos);  // one line each
  }
}

TEST(Limits, WireConstantsArePublic) {
  static_assert(kMulticastPayloadBytesMax <= kPacketBudgetBytes);
  static_assert(kPacketBudgetBytes <= kPacketBudgetBytesMax);
  static_assert(kPacketBudgetBytesMax <= kDatagramBytesMax);
  static_assert(kNativeKeyBytes == 32);
  EXPECT_EQ(kStreamBytesMax, std::size_t(20) << 20);
}

}  // namespace
}  // namespace grapevine::testing
