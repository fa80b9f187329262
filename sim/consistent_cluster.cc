#include "sim/consistent_cluster.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace grapevine::sim {

ConsistentCluster::ConsistentCluster(const ConsistentClusterOptions& options)
    : options_(options), sim_(options.network, options.seed) {
  if (auto ok = validate(options_.config); !ok) {
    std::fprintf(stderr, "ConsistentCluster: bad config: %s\n", ok.error().detail);
    std::abort();
  }
  sim_.set_observer([this](Time now, NodeIndex i, const Event& e) {
    log_.record(now, i, e);
    if (e.kind == EventKind::view_stalled) {
      ++stalls_;
    } else if (e.kind == EventKind::failed) {
      // sim_address(j) = 10.x.y.z:7946 with x.y.z = j + 1.
      const NodeIndex j = NodeIndex((e.subject.ipv4_u32() & 0xffffff) - 1);
      if (j < members_.size() && active(j)) ++false_removals_;
    }
  });
  sim_.reserve(options.nodes);
  std::vector<Address> everyone;
  for (NodeIndex i = 0; i < options.nodes; ++i) everyone.push_back(sim_address(i));
  Rng rng(derive_seed(options.seed, 0x6a6f696e));
  for (NodeIndex i = 0; i < options.nodes; ++i) {
    MembershipConfig config = options_.config;
    if (options.named) {
      config.name = "node-" + std::to_string(i);
      const std::string meta = "meta-" + std::to_string(i);
      config.meta.assign(reinterpret_cast<const std::byte*>(meta.data()),
                         reinterpret_cast<const std::byte*>(meta.data()) + meta.size());
    }
    auto m = make_membership(config, sim_address(i), derive_seed(options.seed, i + 1));
    if (options.preloaded) m->preload(Time::zero(), everyone);
    members_.push_back(m.get());
    sim_.add_node(std::move(m));
    if (i == 0 || options.preloaded) continue;
    Time at = Time::zero() + Duration::nanoseconds(rng.between(0, options.join_spread.ns()));
    sim_.at(at, [this, i] {
      Address seed = sim_address(0);
      sim_.with_node(i, [&](Machine&, Effects& fx) {
        (void)members_[i]->join(sim_.now(), std::span(&seed, 1), fx);
      });
    });
  }
}

void ConsistentCluster::partition(const std::vector<std::vector<NodeIndex>>& groups) {
  for (std::uint32_t g = 0; g < groups.size(); ++g) {
    for (NodeIndex i : groups[g]) sim_.set_partition(i, g + 1);
  }
}

bool ConsistentCluster::agreed_on(const std::vector<NodeIndex>& nodes) const {
  if (nodes.empty()) return true;
  const ConfigurationInfo first = members_[nodes[0]]->configuration();
  for (NodeIndex i : nodes) {
    const ConfigurationInfo c = members_[i]->configuration();
    if (!c.valid || !c.member || c.id != first.id || c.size != nodes.size()) return false;
  }
  const Group& g = members_[nodes[0]]->live_group();
  for (NodeIndex i : nodes) {
    if (!g.index_of(sim_address(i))) return false;
  }
  return true;
}

bool ConsistentCluster::agreed() const {
  std::vector<NodeIndex> up;
  for (NodeIndex i = 0; i < options_.nodes; ++i) {
    if (active(i)) up.push_back(i);
  }
  return agreed_on(up);
}

bool ConsistentCluster::wait_agreed(Duration timeout) {
  const Time deadline = sim_.now() + timeout;
  while (sim_.now() < deadline && !agreed()) sim_.run_for(Duration::milliseconds(100));
  return agreed();
}

bool ConsistentCluster::wait_agreed_on(const std::vector<NodeIndex>& nodes, Duration timeout) {
  const Time deadline = sim_.now() + timeout;
  while (sim_.now() < deadline && !agreed_on(nodes)) sim_.run_for(Duration::milliseconds(100));
  return agreed_on(nodes);
}

}  // namespace grapevine::sim
