// The serf dialect's queries reach every member of a small group within their timeout
// (querymiss): as in the native dialect (query_reach_test.cc), a query gossiped with memberlist's
// local timings (2 sends per holder) could miss a member; the serf layer's querier now re-asks,
// by one direct memberlist user message each, the alive members that have neither acked nor
// answered (serf_layer.h), and serf drops the copy of a query it has (same LTime and ID). Fixed
// seeds, membership machines only.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "grapevine/membership.h"
#include "sim/simulator.h"

namespace grapevine::sim {
namespace {

struct Reach {
  int runs = 0, missed = 0;
  std::uint64_t reasks = 0;  // the queriers' MembershipStats::query_reasks
};

// n serf-dialect members with `profile`'s timings, joined through member 0; then member
// (seed % n) sends a query asking acks, with serf's default timeout. Did everyone ack?
bool every_member_acked(std::uint32_t n, std::uint64_t seed, const MembershipConfig& profile,
                        Reach& out) {
  Simulator sim(NetworkConfig::uniform(LinkProfile{}), seed);
  for (NodeIndex i = 0; i < n; ++i) {
    MembershipConfig c = profile;
    c.name = "n" + std::to_string(i);
    use_serf_dialect(c);
    sim.add_node(make_membership(c, sim_address(i), seed * 100 + i));
    if (i == 0) continue;
    sim.with_node(i, [&](Machine& m, Effects& fx) {
      Address seed_address = sim_address(0);
      (void)static_cast<Membership&>(m).join(sim.now(), std::span(&seed_address, 1), fx);
    });
  }
  sim.run_for(Duration::seconds(10) + Duration::milliseconds(std::int64_t(seed * 37 % 1000)));
  const NodeIndex from = NodeIndex(seed % n);
  std::uint64_t ltime = 0;
  bool issued = false;
  sim.with_node(from, [&](Machine& m, Effects& fx) {
    SerfQueryOptions o;  // acks asked, serf's default timeout
    auto r = static_cast<Membership&>(m).serf_query(sim.now(), "q", {}, o, fx);
    issued = r.has_value();
    if (r) ltime = *r;
  });
  EXPECT_TRUE(issued);
  sim.run_for(Duration::seconds(8));
  SerfQueryResult r;
  const bool known = static_cast<Membership&>(sim.machine(from)).serf_query_result(ltime, r);
  EXPECT_TRUE(known);
  ++out.runs;
  out.reasks += static_cast<Membership&>(sim.machine(from)).stats().query_reasks;
  const bool all = known && r.acks.size() == n;
  out.missed += all ? 0 : 1;
  return all;
}

// 4 members with memberlist's local timings, 100 seeds (QUERY_REACH_SEEDS=N for more). Without
// the re-ask 7 of the 100 queries missed a member (39 of 300); with it, none.
TEST(SerfQueryReach, EveryMemberOfFourAcksWithTheLocalProfile) {
  const char* env = std::getenv("QUERY_REACH_SEEDS");
  const std::uint64_t seeds = env ? std::strtoull(env, nullptr, 10) : 100;
  for (std::uint32_t n : {4u}) {  // 3 members missed none in 300 seeds, re-ask or not
    Reach r;
    for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
      EXPECT_TRUE(every_member_acked(n, seed, MembershipConfig::local(), r))
          << "n=" << n << " seed " << seed << ": a member never acked";
    }
    std::printf("serf dialect, local, n=%u: %d of %d queries missed a member, %llu re-asks\n",
                n, r.missed, r.runs, static_cast<unsigned long long>(r.reasks));
    // The serf layer's re-asks reach the node's counter (and /metrics): without them 7 of 100
    // queries missed a member, so some were re-asked.
    if (seeds >= 100) EXPECT_GT(r.reasks, 0u);
  }
}

}  // namespace
}  // namespace grapevine::sim
