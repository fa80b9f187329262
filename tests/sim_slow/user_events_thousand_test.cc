// The goal for user events: one reaches all of 1,000 simulated members within 2 s
// (p99 over members and events) with 1% loss, and no member delivers one twice or misses one.
// Steady state (members preloaded, LAN timings), 20 events from different members, 1-5 ms links.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "grapevine/membership.h"
#include "sim/simulator.h"

namespace grapevine::sim {
namespace {

TEST(UserEventsThousand, ReachEveryoneWithinTwoSecondsAtOnePercentLoss) {
  constexpr std::uint32_t kNodes = 1000;
  constexpr std::uint32_t kEvents = 20;
  LinkProfile link;
  link.latency_min = Duration::milliseconds(1);
  link.latency_max = Duration::milliseconds(5);
  link.loss = 0.01;
  Simulator sim(NetworkConfig::uniform(link), 9);
  std::vector<Address> all;
  for (NodeIndex i = 0; i < kNodes; ++i) all.push_back(sim_address(i));
  // delivered_at[event][node]; Time::zero() = not yet
  std::vector<std::vector<Time>> delivered_at(kEvents, std::vector<Time>(kNodes, Time::zero()));
  std::vector<Time> sent_at(kEvents);
  std::uint64_t twice = 0;
  sim.set_observer([&](Time t, NodeIndex i, const Event& e) {
    if (e.kind != EventKind::user_event) return;
    const auto k = std::uint32_t(std::stoul(std::string(e.user_name.substr(2))));
    if (delivered_at[k][i] != Time::zero()) ++twice;
    delivered_at[k][i] = t;
  });
  sim.reserve(kNodes);
  for (NodeIndex i = 0; i < kNodes; ++i) {
    auto m = make_membership(MembershipConfig::lan(), sim_address(i), 7 + i);
    m->preload(Time::zero(), all);
    sim.add_node(std::move(m));
  }
  sim.run_for(Duration::seconds(5));
  for (std::uint32_t k = 0; k < kEvents; ++k) {
    sent_at[k] = sim.now();
    sim.with_node(NodeIndex((k * 97) % kNodes), [&](Machine& m, Effects& fx) {
      const std::string name = "ev" + std::to_string(k);
      ASSERT_TRUE(static_cast<Membership&>(m).user_event(sim.now(), name, {}, true, fx));
    });
    sim.run_for(Duration::milliseconds(500));
  }
  sim.run_for(Duration::seconds(10));
  std::vector<double> latency;
  std::uint64_t missed = 0;
  for (std::uint32_t k = 0; k < kEvents; ++k) {
    for (NodeIndex i = 0; i < kNodes; ++i) {
      if (delivered_at[k][i] == Time::zero()) {
        ++missed;
        continue;
      }
      latency.push_back(double((delivered_at[k][i] - sent_at[k]).ns()) / 1e9);
    }
  }
  // What the events cost in push-pulls (a digest that disagrees while an event spreads makes one).
  std::uint64_t push_pulls = 0, stream_bytes = 0;
  for (NodeIndex i = 0; i < kNodes; ++i) {
    sim.with_node(i, [&](Machine& m, Effects&) {
      push_pulls += static_cast<Membership&>(m).stats().push_pulls;
      stream_bytes += static_cast<Membership&>(m).stats().stream_bytes_sent;
    });
  }
  std::printf("push-pulls %llu, stream bytes %llu (all members, whole run)\n",
              static_cast<unsigned long long>(push_pulls),
              static_cast<unsigned long long>(stream_bytes));
  std::sort(latency.begin(), latency.end());
  auto pct = [&](double p) { return latency[std::size_t(p * double(latency.size() - 1))]; };
  std::printf("user events, %u members, 1%% loss: p50 %.3f s, p99 %.3f s, max %.3f s, "
              "missed %llu, delivered twice %llu\n",
              kNodes, pct(0.5), pct(0.99), latency.back(),
              static_cast<unsigned long long>(missed), static_cast<unsigned long long>(twice));
  EXPECT_EQ(missed, 0u);
  EXPECT_EQ(twice, 0u);
  EXPECT_LT(pct(0.99), 2.0);
}

}  // namespace
}  // namespace grapevine::sim
