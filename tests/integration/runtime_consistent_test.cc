// Consistent membership (Rapid) on real sockets, through the embedding API: eight nodes in one
// process on 127.0.0.1 (kernel-picked ports) join through one seed; NodeCallbacks'
// on_member_event gets view_changed with the configuration id, epoch and member list; every
// node's last view_changed names the configuration its membership().configuration() reports,
// the same id everywhere; a crash installs one configuration without the crashed node
// everywhere. Timings are Rapid's defaults shortened (probes every 200 ms, 5 misses), so the
// test takes a few seconds.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <vector>

#include "grapevine/runtime.h"

namespace grapevine::testing {
namespace {

struct View {
  std::uint64_t id = 0, epoch = 0;
  std::vector<Address> members;
};

NodeConfig fast_consistent_config() {
  NodeConfig c;
  c.membership = MembershipConfig::local();
  c.membership.mode = MembershipMode::consistent;
  ConsistentOptions& o = c.membership.consistent;
  o.probe_interval = Duration::milliseconds(200);
  o.probe_timeout = Duration::milliseconds(150);
  o.probe_misses = 5;
  o.gossip_interval = Duration::milliseconds(100);
  o.propose_delay = Duration::milliseconds(200);
  o.classic_timeout = Duration::seconds(1);
  return c;
}

class ConsistentGroup {
 public:
  explicit ConsistentGroup(std::size_t n) : views_(n) {
    for (std::size_t i = 0; i < n; ++i) {
      NodeCallbacks cb;
      cb.on_member_event = [this, i](const Event& e) {
        if (e.kind != EventKind::view_changed) return;
        // e.members is valid only during the call: copy it.
        views_[i].push_back(View{e.configuration_id, e.configuration_epoch,
                                 std::vector<Address>(e.members.begin(), e.members.end())});
      };
      auto h = rt_.add_node(fast_consistent_config(), *Address::parse("127.0.0.1:0"), cb);
      EXPECT_TRUE(h) << (h ? "" : h.error().detail);
      nodes_.push_back(h ? *h : nullptr);
    }
  }
  bool ok() const {
    return std::all_of(nodes_.begin(), nodes_.end(), [](auto* p) { return p != nullptr; });
  }
  NodeHandle& node(std::size_t i) { return *nodes_[i]; }
  const std::vector<View>& views(std::size_t i) const { return views_[i]; }

  // Runs the loop until every node in `live` reports one configuration id with `size` members.
  bool run_until_agreed(const std::vector<std::size_t>& live, std::uint32_t size, Duration limit) {
    const Time t0 = Runtime::now();
    while (Runtime::now() - t0 < limit) {
      rt_.run_for(Duration::milliseconds(20));
      std::set<std::uint64_t> ids;
      bool all = true;
      for (std::size_t i : live) {
        const ConfigurationInfo c = node(i).membership().configuration();
        all = all && c.valid && c.member && c.size == size;
        ids.insert(c.id);
      }
      if (all && ids.size() == 1) return true;
    }
    return false;
  }

 private:
  Runtime rt_;
  std::vector<NodeHandle*> nodes_;
  std::vector<std::vector<View>> views_;
};

// The last view_changed node i got is the configuration it reports, with members `want`.
void expect_last_view(ConsistentGroup& g, std::size_t i, const std::set<Address>& want) {
  ASSERT_FALSE(g.views(i).empty()) << "node " << i << " got no view_changed";
  const View& v = g.views(i).back();
  const ConfigurationInfo c = g.node(i).membership().configuration();
  EXPECT_EQ(v.id, c.id) << "node " << i;
  EXPECT_EQ(v.epoch, c.epoch) << "node " << i;
  EXPECT_EQ(std::set<Address>(v.members.begin(), v.members.end()), want) << "node " << i;
  EXPECT_EQ(v.members.size(), c.size) << "node " << i;
}

TEST(RuntimeConsistent, ViewChangedCallbackCarriesIdAndMembersAndACrashIsRemovedEverywhere) {
  constexpr std::size_t n = 8;
  ConsistentGroup g(n);
  ASSERT_TRUE(g.ok());
  const Address seed = g.node(0).address();
  for (std::size_t i = 1; i < n; ++i) ASSERT_TRUE(g.node(i).join(std::span(&seed, 1)));
  std::vector<std::size_t> all(n);
  for (std::size_t i = 0; i < n; ++i) all[i] = i;
  ASSERT_TRUE(g.run_until_agreed(all, n, Duration::seconds(20))) << "no agreement on " << n;

  std::set<Address> everyone;
  for (std::size_t i = 0; i < n; ++i) everyone.insert(g.node(i).address());
  for (std::size_t i = 0; i < n; ++i) expect_last_view(g, i, everyone);
  const std::uint64_t before = g.node(0).membership().configuration().id;
  const std::uint64_t before_epoch = g.node(0).membership().configuration().epoch;

  const std::size_t victim = 5;
  g.node(victim).crash();
  std::vector<std::size_t> live;
  for (std::size_t i = 0; i < n; ++i) {
    if (i != victim) live.push_back(i);
  }
  // Detection: 5 misses x 200 ms, then alerts, votes and (5 of 7 fast quorum) a decision.
  ASSERT_TRUE(g.run_until_agreed(live, n - 1, Duration::seconds(20))) << "crash not removed";
  everyone.erase(g.node(victim).address());
  for (std::size_t i : live) expect_last_view(g, i, everyone);
  const ConfigurationInfo after = g.node(0).membership().configuration();
  EXPECT_NE(after.id, before);
  EXPECT_FALSE(after.stalled);
  // Every live node saw the same sequence of configurations from the one with all eight on.
  for (std::size_t i : live) {
    std::vector<std::uint64_t> ids;
    for (const View& v : g.views(i)) ids.push_back(v.id);
    auto from = std::find(ids.begin(), ids.end(), before);
    ASSERT_NE(from, ids.end()) << "node " << i;
    EXPECT_EQ(std::vector<std::uint64_t>(from, ids.end()),
              (std::vector<std::uint64_t>{before, after.id}))
        << "node " << i;
  }
  std::printf("[consistent] %zu nodes: %016llx (epoch %llu) -> %016llx (epoch %llu)\n", n,
              (unsigned long long)before, (unsigned long long)before_epoch,
              (unsigned long long)after.id, (unsigned long long)after.epoch);
}

}  // namespace
}  // namespace grapevine::testing
