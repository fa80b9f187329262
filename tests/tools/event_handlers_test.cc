// Unit tests of the agent's service layer: handler filters, env and stdin, the coalescer, the
// script runner's bounds, the snapshot format, SRV parsing and the retry backoff.
#include <gtest/gtest.h>

#include <future>

#include "commands.h"
#include "coalescer.h"
#include "event_handlers.h"
#include "handler_script.h"
#include "seeds.h"
#include "snapshot.h"

namespace grapevine::tools {
namespace {

HandlerEvent member(const char* type, const char* name) {
  HandlerEvent e;
  e.type = type;
  e.members.push_back({name, "10.0.0.1", "web", "role=web"});
  return e;
}

HandlerEvent user(const char* name, std::uint64_t ltime, bool coalesce) {
  HandlerEvent e;
  e.type = "user";
  e.name = name;
  e.payload = "p" + std::to_string(ltime);
  e.ltime = ltime;
  e.coalesce = coalesce;
  return e;
}

TEST(HandlerFilter, ParsesSerfSyntax) {
  auto s = parse_handler_spec("f", "member-join,user:deploy=./x.sh");
  ASSERT_EQ(s.filters.size(), 2u);
  EXPECT_EQ(s.script, "./x.sh");
  EXPECT_TRUE(handler_matches(s, member("member-join", "a")));
  EXPECT_FALSE(handler_matches(s, member("member-leave", "a")));
  EXPECT_TRUE(handler_matches(s, user("deploy", 1, false)));
  EXPECT_FALSE(handler_matches(s, user("other", 1, false)));
  auto all = parse_handler_spec("f", "handler.sh");
  EXPECT_EQ(all.script, "handler.sh");
  EXPECT_TRUE(handler_matches(all, member("member-failed", "a")));
  auto any_user = parse_handler_spec("f", "user=/bin/true");
  EXPECT_TRUE(handler_matches(any_user, user("x", 1, false)));
  // An '=' after a space or '/' belongs to the script.
  EXPECT_EQ(parse_handler_spec("f", "./x.sh a=b").script, "./x.sh a=b");
  EXPECT_THROW(parse_handler_spec("f", "member-joined=x.sh"), UsageError);
  EXPECT_THROW(parse_handler_spec("f", "member-join:a=x.sh"), UsageError);
  EXPECT_THROW(parse_handler_spec("f", "user="), UsageError);
}

TEST(HandlerEnv, SerfAndGrapevineNames) {
  Tags tags{{"role", "db"}, {"dc-1", "east"}};
  auto env = handler_env("n1", tags, user("deploy", 7, false));
  auto get = [&](const std::string& k) {
    for (const auto& [a, b] : env) {
      if (a == k) return b;
    }
    return std::string("<none>");
  };
  EXPECT_EQ(get("SERF_EVENT"), "user");
  EXPECT_EQ(get("GRAPEVINE_EVENT"), "user");
  EXPECT_EQ(get("SERF_SELF_NAME"), "n1");
  EXPECT_EQ(get("SERF_SELF_ROLE"), "db");
  EXPECT_EQ(get("SERF_TAG_DC_1"), "east");
  EXPECT_EQ(get("SERF_USER_EVENT"), "deploy");
  EXPECT_EQ(get("SERF_USER_LTIME"), "7");
  EXPECT_EQ(handler_stdin(user("deploy", 7, false)), "p7");
  EXPECT_EQ(handler_stdin(member("member-join", "a")), "a\t10.0.0.1\tweb\trole=web\n");
}

TEST(Coalescer, MemberEventsLatestPerMemberFlushedWhenQuiet) {
  Coalescer c(Duration::seconds(5), Duration::seconds(1), Duration::seconds(5));
  const Time t0 = Time::from_ns(1'000'000'000);
  EXPECT_FALSE(c.add(t0, member("member-join", "a")));
  EXPECT_FALSE(c.add(t0 + Duration::milliseconds(100), member("member-join", "b")));
  EXPECT_FALSE(c.add(t0 + Duration::milliseconds(200), member("member-failed", "a")));
  EXPECT_EQ(c.next_deadline(), t0 + Duration::milliseconds(1200));
  EXPECT_TRUE(c.flush(t0 + Duration::milliseconds(1100)).empty());
  auto out = c.flush(t0 + Duration::milliseconds(1200));
  ASSERT_EQ(out.size(), 2u);  // one per type, sorted
  EXPECT_EQ(out[0].type, "member-failed");
  ASSERT_EQ(out[0].members.size(), 1u);
  EXPECT_EQ(out[0].members[0].name, "a");
  EXPECT_EQ(out[1].type, "member-join");
  EXPECT_EQ(out[1].members[0].name, "b");
  EXPECT_EQ(c.coalesced(), 1u);
  EXPECT_TRUE(c.empty());
}

TEST(Coalescer, MemberEventsFlushedAtThePeriodUnderSteadyChurn) {
  Coalescer c(Duration::seconds(5), Duration::seconds(1), Duration::zero());
  Time t = Time::from_ns(0);
  for (int i = 0; i < 10; ++i, t = t + Duration::milliseconds(450)) {
    c.add(t, member("member-join", ("m" + std::to_string(i)).c_str()));
  }
  EXPECT_EQ(c.next_deadline(), Time::from_ns(0) + Duration::seconds(5));
  auto out = c.flush(Time::from_ns(0) + Duration::seconds(5));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].members.size(), 10u);  // never 1 s quiet: held until the period ends
}

TEST(Coalescer, UserEventsLatestPerNameAndOptOut) {
  Coalescer c(Duration::seconds(5), Duration::seconds(1), Duration::seconds(2));
  const Time t0 = Time::from_ns(0);
  EXPECT_FALSE(c.add(t0, user("deploy", 3, true)));
  EXPECT_FALSE(c.add(t0, user("deploy", 5, true)));
  EXPECT_FALSE(c.add(t0, user("deploy", 4, true)));
  EXPECT_FALSE(c.add(t0, user("restart", 6, true)));
  auto now = c.add(t0, user("deploy", 9, false));  // coalesce=false passes through
  ASSERT_TRUE(now);
  EXPECT_EQ(now->ltime, 9u);
  EXPECT_TRUE(c.flush(t0 + Duration::seconds(1)).empty());
  auto out = c.flush(t0 + Duration::seconds(2));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].name, "deploy");
  EXPECT_EQ(out[0].ltime, 5u);
  EXPECT_EQ(out[1].name, "restart");
  // Coalescing off: everything passes.
  Coalescer off(Duration::zero(), Duration::zero(), Duration::zero());
  EXPECT_TRUE(off.add(t0, member("member-join", "a")));
  EXPECT_TRUE(off.add(t0, user("x", 1, true)));
}

TEST(HandlerScript, RunsWithEnvStdinTimeoutAndBound) {
  auto r = run_script("read x; echo \"$SERF_EVENT:$x\"", {{"SERF_EVENT", "user"}}, "hello\n",
                      Duration::seconds(5), 100);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.output, "user:hello\n");
  auto big = run_script("head -c 100000 /dev/zero", {}, "", Duration::seconds(5), 10);
  EXPECT_TRUE(big.ok());
  EXPECT_TRUE(big.truncated);
  EXPECT_EQ(big.output.size(), 10u);
  auto slow = run_script("sleep 5", {}, "", Duration::milliseconds(200), 10);
  EXPECT_TRUE(slow.timed_out);
  EXPECT_FALSE(slow.ok());
  auto bad = run_script("exit 3", {}, "", Duration::seconds(5), 10);
  EXPECT_EQ(bad.exit_code, 3);
}

TEST(HandlerRunner, RunsMatchingHandlersAndAnswersQueries) {
  HandlerOptions o;
  o.handlers.push_back(parse_handler_spec("f", "user:deploy=echo $SERF_USER_LTIME >> /dev/null"));
  o.handlers.push_back(parse_handler_spec("f", "query:load=printf 'load=%s' \"$(cat)\""));
  o.handlers.push_back(parse_handler_spec("f", "member-join=exit 1"));
  o.coalesce_period = Duration::zero();
  o.user_coalesce_period = Duration::zero();
  o.user_event_min_ltime = 5;
  HandlerRunner r(o);
  r.submit(user("deploy", 4, false));  // below the restored clock: skipped
  r.submit(user("deploy", 5, false));
  r.submit(member("member-join", "a"));
  r.drain();
  EXPECT_EQ(r.stats().skipped_old.load(), 1u);
  EXPECT_EQ(r.stats().runs.load(), 2u);
  EXPECT_EQ(r.stats().failures.load(), 1u);
  EXPECT_EQ(r.answer_query("load", "0.5", 3).value_or("<none>"), "load=0.5");
  EXPECT_FALSE(r.answer_query("nosuch", "", 3));
  EXPECT_TRUE(r.has_query_handler("load"));
  EXPECT_FALSE(r.has_query_handler("nosuch"));
  std::promise<std::optional<std::string>> got;
  ASSERT_TRUE(r.submit_query("load", "0.7", 4, [&](auto a) { got.set_value(a); }));
  EXPECT_EQ(got.get_future().get().value_or("<none>"), "load=0.7");
}

TEST(Snapshot, ReplaysAndToleratesGarbage) {
  auto s = parse_snapshot(
      "grapevine-snapshot 1\nalive\tn 1\t10.0.0.1:7946\nalive\tn2\t10.0.0.2:7946\n"
      "event-clock\t12\nbogus line\nalive\tn3\tnot-an-addr\nnot-alive\tn2\nevent-clock\t9\n"
      "alive\tn4\t10.0.0.4:79");
  EXPECT_EQ(s.alive.size(), 1u);
  EXPECT_TRUE(s.alive.count("n 1"));
  EXPECT_EQ(s.event_clock, 12u);
  EXPECT_EQ(s.bad_lines, 3u);  // bogus, bad address, truncated last line
  EXPECT_FALSE(s.left);
  auto l = parse_snapshot("alive\ta\t10.0.0.1:1\nleave\n");
  EXPECT_TRUE(l.left);
  EXPECT_TRUE(l.alive.empty());
  auto back = parse_snapshot("leave\nalive\ta\t10.0.0.1:1\n");
  EXPECT_FALSE(back.left);
  EXPECT_EQ(parse_snapshot(std::string(5000, 'x') + "\n").bad_lines, 1u);
}

TEST(Snapshot, WritesCompactsAndRestores) {
  const std::string path = ::testing::TempDir() + "/grapevine_snapshot_test";
  std::remove(path.c_str());
  {
    SnapshotState st;
    std::string err;
    auto s = Snapshotter::open(path, "self", st, err);
    ASSERT_TRUE(s) << err;
    s->alive("self", *Address::parse("10.0.0.9:1"));  // never recorded
    for (int i = 0; i < 6000; ++i) {
      s->alive("n" + std::to_string(i % 10), *Address::parse("10.0.0.1:" + std::to_string(i + 1)));
    }
    s->not_alive("n9");
    s->event_clock(42);
    EXPECT_GE(s->compactions(), 2u);  // the open, then past 128 KiB
  }
  SnapshotState st;
  std::string err;
  auto s = Snapshotter::open(path, "self", st, err);
  ASSERT_TRUE(s);
  EXPECT_EQ(st.alive.size(), 9u);
  EXPECT_EQ(st.event_clock, 42u);
  EXPECT_EQ(st.bad_lines, 0u);
  s->leave();
  s.reset();
  s = Snapshotter::open(path, "self", st, err);
  EXPECT_TRUE(st.left);
  EXPECT_TRUE(st.alive.empty());
  std::remove(path.c_str());
}

TEST(Seeds, AddressesNamesAndBackoff) {
  std::string err;
  auto a = resolve_seed("127.0.0.1:7000", err);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].to_string(), "127.0.0.1:7000");
  auto l = resolve_seed("localhost:7001", err);
  ASSERT_FALSE(l.empty()) << err;
  EXPECT_TRUE(resolve_seed("localhost:99999", err).empty());
  // An SRV answer: header, question _g._udp.x. SRV, one answer 0 0 7946 n1.x.
  const unsigned char msg[] = {
      0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,                      // header
      2, '_', 'g', 4, '_', 'u', 'd', 'p', 1, 'x', 0, 0, 33, 0, 1,     // question
      0xc0, 12, 0, 33, 0, 1, 0, 0, 0, 60, 0, 11,                      // answer header
      0, 0, 0, 0, 0x1f, 0x0a, 2, 'n', '1', 0xc0, 20};                 // rdata: n1.x
  auto srv = parse_srv_answer(msg, sizeof msg);
  ASSERT_EQ(srv.size(), 1u);
  EXPECT_EQ(srv[0].first, "n1.x");
  EXPECT_EQ(srv[0].second, 7946);
  EXPECT_TRUE(parse_srv_answer(msg, 20).empty());
  const Duration cap = Duration::seconds(30);
  EXPECT_LE(retry_backoff(1, cap, 0xffff), Duration::milliseconds(1200));
  EXPECT_GE(retry_backoff(1, cap, 0), Duration::milliseconds(800));
  EXPECT_GE(retry_backoff(4, cap, 0), Duration::milliseconds(6400));
  EXPECT_LE(retry_backoff(20, cap, 0xffff), Duration::seconds(36));
}

// Serf's agent answers a query with the first matching handler that prints something: a silent
// catch-all handler configured first must not answer with nothing (it did, on real agents).
TEST(HandlerRunner, ASilentCatchAllDoesNotAnswerQueries) {
  HandlerOptions o;
  o.handlers.push_back(parse_handler_spec("f", "true"));
  o.handlers.push_back(parse_handler_spec("f", "query:load=printf 'load=%s' \"$(cat)\""));
  HandlerRunner r(o);
  EXPECT_EQ(r.answer_query("load", "0.5", 3).value_or("<none>"), "load=0.5");
  EXPECT_FALSE(r.answer_query("other", "x", 4));  // only the silent handler matches
}

}  // namespace
}  // namespace grapevine::tools
