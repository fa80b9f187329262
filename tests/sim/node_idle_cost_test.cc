// Idle cost of the composite Node (membership + multicast) in the simulator: a cluster at rest
// sends a ping and an ack per member per second and little else, and that does not grow with N
// ("silence is free", docs/performance.md "Idle cost of a node").
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "grapevine/node.h"
#include "sim/simulator.h"
#include "wire/native.h"

namespace grapevine::sim {
namespace {

// Per frame type of the first frame of each datagram sent: counts and bytes (diagnosis).
struct Tally {
  std::array<std::uint64_t, 256> datagrams{}, bytes{};
  std::uint64_t streams = 0, stream_bytes = 0;
  void clear() { *this = Tally{}; }
};

// A Node whose sends are tallied on the way out.
class CountedNode final : public Machine {
 public:
  CountedNode(const NodeConfig& c, const Address& self, std::uint64_t seed, Tally& t)
      : node_(c, self, seed), tally_(t) {}
  void on_datagram(Time now, const Address& from, std::span<const std::byte> b,
                   Effects& fx) override {
    Fx f(fx, tally_);
    node_.on_datagram(now, from, b, f);
  }
  void on_stream(Time now, const Address& from, std::span<const std::byte> m, StreamId s,
                 Effects& fx) override {
    Fx f(fx, tally_);
    node_.on_stream(now, from, m, s, f);
  }
  void on_timeout(Time now, Effects& fx) override {
    Fx f(fx, tally_);
    node_.on_timeout(now, f);
  }
  [[nodiscard]] Time next_deadline() const noexcept override { return node_.next_deadline(); }
  [[nodiscard]] Result<std::size_t> stream_message_length(
      std::span<const std::byte> r) const override {
    return node_.stream_message_length(r);
  }
  Node& node() { return node_; }

 private:
  struct Fx final : Effects {
    Fx(Effects& inner, Tally& t) : inner_(inner), t_(t) {}
    void send(const Address& to, std::span<const std::byte> d) override {
      const std::uint8_t type = d.size() > 1 ? std::to_integer<std::uint8_t>(d[1]) : 0;
      ++t_.datagrams[type];
      t_.bytes[type] += d.size();
      inner_.send(to, d);
    }
    void emit(const Event& e) override { inner_.emit(e); }
    void send_stream(const Address& to, std::span<const std::byte> m) override {
      ++t_.streams;
      t_.stream_bytes += m.size();
      inner_.send_stream(to, m);
    }
    void reply_stream(StreamId s, std::span<const std::byte> m) override {
      ++t_.streams;
      t_.stream_bytes += m.size();
      inner_.reply_stream(s, m);
    }
    Effects& inner_;
    Tally& t_;
  };
  Node node_;
  Tally& tally_;
};

struct IdleResult {
  double bytes_per_node_second = 0;
  double datagram_bytes_per_node_second = 0;
  double stream_bytes_per_node_second = 0;
  std::string breakdown;
};

// N preloaded nodes with the default NodeConfig; `warmup` of settling, then a `window` measured.
IdleResult measure_idle(std::uint32_t n, Duration warmup, Duration window, bool with_multicast) {
  NodeConfig config;
  config.membership = MembershipConfig::lan();
  Simulator sim(NetworkConfig::uniform(LinkProfile{}), 42);
  Tally tally;
  std::vector<Address> all;
  for (std::uint32_t i = 0; i < n; ++i) all.push_back(sim_address(i));
  std::vector<CountedNode*> nodes;
  for (std::uint32_t i = 0; i < n; ++i) {
    auto node = std::make_unique<CountedNode>(config, all[i], 1000 + i, tally);
    node->node().preload(Time::zero(), all);
    nodes.push_back(node.get());
    sim.add_node(std::move(node));
  }
  std::uint64_t delivered = 0;
  sim.set_observer([&](Time, NodeIndex, const Event& e) {
    if (e.kind == EventKind::delivered) ++delivered;
  });
  sim.run_for(Duration::seconds(2));
  if (with_multicast) {
    const char text[] = "hello";
    sim.with_node(0, [&](Machine& m, Effects& fx) {
      auto r = static_cast<CountedNode&>(m).node().multicast(
          sim.now(), std::as_bytes(std::span(text)), fx);
      EXPECT_TRUE(r.has_value());
    });
  }
  sim.run_for(warmup);
  if (with_multicast) {
    EXPECT_EQ(delivered, n);
  }
  tally.clear();
  const auto c0 = sim.counters();
  sim.run_for(window);
  const auto c1 = sim.counters();
  const double node_seconds = double(n) * window.to_seconds();
  IdleResult r;
  r.datagram_bytes_per_node_second = double(c1.bytes_sent - c0.bytes_sent) / node_seconds;
  r.stream_bytes_per_node_second = double(c1.stream_bytes - c0.stream_bytes) / node_seconds;
  r.bytes_per_node_second = r.datagram_bytes_per_node_second + r.stream_bytes_per_node_second;
  char line[128];
  for (int t = 0; t < 256; ++t) {
    if (tally.datagrams[t] == 0) continue;
    std::snprintf(line, sizeof line, " 0x%02x: %.2f datagrams, %.1f B per node-second;", t,
                  double(tally.datagrams[t]) / node_seconds, double(tally.bytes[t]) / node_seconds);
    r.breakdown += line;
  }
  std::snprintf(line, sizeof line, " streams: %.4f, %.1f B per node-second",
                double(tally.streams) / node_seconds, double(tally.stream_bytes) / node_seconds);
  r.breakdown += line;
  return r;
}

// memberlist's idle member sends a ping and an ack per second: 83 bytes with IP and UDP headers
// (56 of them). Ours must stay below that budget, headers excluded, at any N.
constexpr double kIdleBytesPerNodeSecondMax = 83.0 - 56.0;

TEST(NodeIdleCost, AtRestANodeSendsLittleAndTheSameAtAnySize) {
  const auto small = measure_idle(32, Duration::seconds(60), Duration::seconds(240), false);
  const auto large = measure_idle(128, Duration::seconds(60), Duration::seconds(240), false);
  std::printf("N=32:  %.1f B/node/s (%s)\nN=128: %.1f B/node/s (%s)\n",
              small.bytes_per_node_second, small.breakdown.c_str(), large.bytes_per_node_second,
              large.breakdown.c_str());
  EXPECT_LT(small.bytes_per_node_second, kIdleBytesPerNodeSecondMax) << small.breakdown;
  EXPECT_LT(large.bytes_per_node_second, kIdleBytesPerNodeSecondMax) << large.breakdown;
  // Flat in N: four times the members, at most 25% more bytes per member.
  EXPECT_LT(large.bytes_per_node_second, small.bytes_per_node_second * 1.25)
      << small.breakdown << " vs " << large.breakdown;
}

TEST(NodeIdleCost, AMulticastLeavesNoTrafficBehindOnceDelivered) {
  const auto quiet = measure_idle(64, Duration::seconds(60), Duration::seconds(120), false);
  const auto after = measure_idle(64, Duration::seconds(60), Duration::seconds(120), true);
  std::printf("N=64 at rest: %.1f B/node/s; after one multicast: %.1f B/node/s (%s)\n",
              quiet.bytes_per_node_second, after.bytes_per_node_second, after.breakdown.c_str());
  EXPECT_LT(after.bytes_per_node_second, quiet.bytes_per_node_second * 1.1) << after.breakdown;
}

}  // namespace
}  // namespace grapevine::sim
