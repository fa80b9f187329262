#include "sim/membership_cluster.h"

#include <cstdio>
#include <cstdlib>

namespace grapevine::sim {

MembershipCluster::MembershipCluster(const MembershipClusterOptions& options)
    : options_(options), sim_(options.network, options.seed), left_(options.nodes, false) {
  if (auto ok = validate(options_.config); !ok) {
    std::fprintf(stderr, "MembershipCluster: bad config: %s\n", ok.error().detail);
    std::abort();
  }
  sim_.set_observer([this](Time now, NodeIndex observer, const Event& e) {
    if (e.kind == EventKind::delivered) return;
    NodeIndex subject = index_of(e.subject_id);
    events_.push_back(MembershipEventRecord{now, observer, subject, e.kind});
    if (e.kind == EventKind::failed && subject < options_.nodes && active(subject)) {
      ++false_failures_;
    }
  });
  sim_.reserve(options.nodes);
  members_.reserve(options.nodes);
  Rng rng(derive_seed(options.seed, 0x6a6f696e));
  std::vector<Address> everyone;
  if (options.preloaded) {
    for (NodeIndex i = 0; i < options.nodes; ++i) everyone.push_back(sim_address(i));
  }
  for (NodeIndex i = 0; i < options.nodes; ++i) {
    auto m = make_membership(options_.config, sim_address(i), derive_seed(options.seed, i + 1));
    if (options.preloaded) {
      // Each member's list in its own random order, as joins in different orders would leave it.
      std::vector<Address> order = everyone;
      rng.shuffle(std::span(order));
      m->preload(Time::zero(), order);
    }
    members_.push_back(m.get());
    if (options_.wrap) {
      sim_.add_node(options_.wrap(std::move(m), i));
    } else {
      sim_.add_node(std::move(m));
    }
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

Membership& MembershipCluster::node(NodeIndex i) {
  return *members_[i];
}

NodeIndex MembershipCluster::index_of(NodeId id) const noexcept {
  // sim_address(i) = 10.x.y.z:7946 with x.y.z = i + 1; node_id_of = ip << 16 | port.
  std::uint64_t ip = id >> 16;
  if ((id & 0xffff) != 7946 || (ip >> 24) != 10) return UINT32_MAX;
  NodeIndex i = NodeIndex((ip & 0xffffff) - 1);
  return i < options_.nodes ? i : UINT32_MAX;
}

void MembershipCluster::leave(NodeIndex i) {
  left_[i] = true;
  sim_.with_node(i, [&](Machine&, Effects& fx) { members_[i]->leave(sim_.now(), fx); });
}

void MembershipCluster::partition(const std::vector<std::vector<NodeIndex>>& groups) {
  for (std::uint32_t g = 0; g < groups.size(); ++g) {
    for (NodeIndex i : groups[g]) sim_.set_partition(i, g + 1);
  }
}

bool MembershipCluster::converged() {
  std::uint32_t active_count = 0;
  for (NodeIndex i = 0; i < options_.nodes; ++i) active_count += active(i) ? 1 : 0;
  for (NodeIndex i = 0; i < options_.nodes; ++i) {
    if (!active(i)) continue;
    Membership& m = node(i);
    if (m.live_group().size() != active_count) return false;
    const Group& g = m.live_group();
    for (std::uint32_t k = 0; k < g.size(); ++k) {
      NodeIndex j = index_of(node_id_of(g.address(k)));
      if (j == UINT32_MAX || !active(j)) return false;
    }
  }
  return true;
}

bool MembershipCluster::wait_converged(Duration timeout) {
  const Time deadline = sim_.now() + timeout;
  while (sim_.now() < deadline) {
    if (converged()) return true;
    sim_.run_for(Duration::milliseconds(100));
  }
  return converged();
}

bool MembershipCluster::all_see(NodeIndex subject, MemberState s) {
  const NodeId id = node_id_of(sim_address(subject));
  for (NodeIndex i = 0; i < options_.nodes; ++i) {
    if (i == subject || !active(i)) continue;
    bool found = false;
    for (const MemberInfo& m : node(i).members()) {
      if (m.id != id) continue;
      found = true;
      if (m.state != s) return false;
    }
    if (!found) return false;
  }
  return true;
}

bool MembershipCluster::wait_all_see(NodeIndex subject, MemberState s, Duration timeout) {
  const Time deadline = sim_.now() + timeout;
  while (sim_.now() < deadline) {
    if (all_see(subject, s)) return true;
    sim_.run_for(Duration::milliseconds(100));
  }
  return all_see(subject, s);
}

}  // namespace grapevine::sim
