#include "sim/hyparview_cluster.h"

#include <cmath>
#include <string>

#include "util/assert.h"

namespace grapevine::sim {

HyParViewCluster::HyParViewCluster(const HyParViewClusterOptions& options)
    : options_(options),
      sim_(options.network, options.seed),
      rng_(derive_seed(options.seed, 0x68707663)),
      id_base_(derive_seed(options.seed, 0x6d7367)),
      live_(options.nodes) {
  options_.config.kind = ViewKind::hyparview;
  latest_.assign(options_.nodes, 0);
  sim_.reserve(options_.nodes);
  for (NodeIndex i = 0; i < options_.nodes; ++i) {
    sim_.add_node(make_hyparview(options_.config, sim_address(i), derive_seed(options_.seed, i),
                                 options_.tuning));
  }
  // Message ids are id_base_ + index: the index comes back out of the delivery event.
  sim_.set_observer([this](Time, NodeIndex node, const Event& e) {
    if (e.kind != EventKind::delivered) return;
    std::uint64_t m = e.message.origin - id_base_;
    if (m >= messages_.size()) return;
    Tracked& t = messages_[m];
    if (t.deliveries == options_.nodes) {
      ++duplicate_deliveries_;
      return;
    }
    ++t.deliveries;
    latest_[node] = std::max(latest_[node], std::uint32_t(m + 1));
    t.max_hops = std::max(t.max_hops, e.hops);
  });
}

views::HyParView& HyParViewCluster::node(NodeIndex i) {
  return static_cast<views::HyParView&>(sim_.machine(i));
}

void HyParViewCluster::join_all() {
  Time start = sim_.now();
  for (NodeIndex i = 0; i < options_.nodes; ++i) {
    // Contact: a random node that joined before (node 0 starts the overlay alone).
    NodeIndex contact = i == 0 ? 0 : NodeIndex(rng_.below(i));
    Address c = i == 0 ? Address{} : sim_address(contact);
    sim_.at(start + options_.join_spacing * i, [this, i, c] {
      sim_.with_node(i, [&](Machine& m, Effects& fx) {
        static_cast<ViewMachine&>(m).join(sim_.now(), c, fx);
      });
    });
  }
}

std::uint32_t HyParViewCluster::broadcast(NodeIndex origin) {
  auto m = std::uint32_t(messages_.size());
  messages_.push_back({});
  std::vector<std::byte> payload(options_.payload_bytes, std::byte{0x5a});
  if (payload.size() >= 4) {
    for (int k = 0; k < 4; ++k) payload[std::size_t(k)] = std::byte((m >> (8 * k)) & 0xff);
  }
  sim_.with_node(origin, [&](Machine& mach, Effects& fx) {
    static_cast<ViewMachine&>(mach).broadcast(sim_.now(), id_base_ + m, payload, fx);
  });
  return m;
}

std::uint32_t HyParViewCluster::crash_random(double fraction) {
  auto want = std::uint32_t(std::llround(fraction * double(options_.nodes)));
  std::uint32_t done = 0;
  // Rejection sampling over live nodes: fine up to 95% crashed.
  while (done < want && live_ > 0) {
    auto i = NodeIndex(rng_.below(options_.nodes));
    if (sim_.crashed(i)) continue;
    sim_.crash(i);
    --live_;
    ++done;
  }
  return done;
}

NodeIndex HyParViewCluster::random_live() {
  GV_ASSERT(live_ > 0);
  for (;;) {
    auto i = NodeIndex(rng_.below(options_.nodes));
    if (!sim_.crashed(i)) return i;
  }
}

std::vector<NodeIndex> HyParViewCluster::missed(std::uint32_t m) const {
  std::vector<NodeIndex> out;
  for (NodeIndex i = 0; i < options_.nodes; ++i) {
    if (!sim_.crashed(i) && latest_[i] <= m) out.push_back(i);
  }
  return out;
}

std::uint64_t HyParViewCluster::payload_sent_total() {
  std::uint64_t total = 0;
  for (NodeIndex i = 0; i < options_.nodes; ++i) total += node(i).stats().payload_sent;
  return total;
}

bool HyParViewCluster::views_symmetric(std::string* why) {
  auto index_of = [](views::Peer p) { return NodeIndex(((p >> 16) & 0xffffffu) - 1); };
  for (NodeIndex i = 0; i < options_.nodes; ++i) {
    if (sim_.crashed(i)) continue;
    auto& n = node(i);
    if (n.active().size() > options_.config.hyparview_active_size) {
      if (why) *why = "node " + std::to_string(i) + " active view over its bound";
      return false;
    }
    for (views::Peer p : n.active()) {
      NodeIndex j = index_of(p);
      if (j >= options_.nodes || sim_.crashed(j)) continue;  // dead links are healed separately
      auto back = node(j).active();
      if (std::find(back.begin(), back.end(), views::peer_of(sim_address(i))) == back.end()) {
        if (why) *why = "node " + std::to_string(i) + " has " + std::to_string(j) + ", not back";
        return false;
      }
    }
  }
  return true;
}

}  // namespace grapevine::sim
