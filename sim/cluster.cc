#include "sim/cluster.h"

#include <cstdio>
#include <cstdlib>

namespace grapevine::sim {

MulticastCluster::MulticastCluster(const ClusterOptions& options)
    : options_(options),
      group_(std::make_unique<SimGroup>(options.nodes, options.subnets)),
      sim_(options.network, options.seed),
      payloads_(options.nodes) {
  if (auto ok = validate(options_.config); !ok) {
    std::fprintf(stderr, "MulticastCluster: bad config: %s\n", ok.error().detail);
    std::abort();
  }
  sim_.set_observer([this](Time, NodeIndex node, const Event& e) {
    if (e.kind != EventKind::delivered) return;
    auto& v = delivered_[e.message];
    if (v.empty()) v.resize(options_.nodes, false);
    v[node] = true;
    payloads_[node].emplace_back(reinterpret_cast<const char*>(e.payload.data()),
                                 e.payload.size());
  });
  sim_.reserve(options.nodes);
  for (std::uint32_t i = 0; i < options.nodes; ++i) {
    sim_.add_node(make_multicast(options_.config, *group_, i, derive_seed(options.seed, i + 1)),
                  group_->subnet_of(i));
  }
}

MulticastProtocol& MulticastCluster::node(NodeIndex i) {
  return static_cast<MulticastProtocol&>(sim_.machine(i));
}

void MulticastCluster::restart(NodeIndex i) {
  ++restarts_;
  sim_.restart(i, make_multicast(options_.config, *group_, i,
                                 derive_seed(options_.seed, (std::uint64_t(restarts_) << 32) + i)));
}

void MulticastCluster::partition(const std::vector<std::vector<NodeIndex>>& groups) {
  for (std::uint32_t g = 0; g < groups.size(); ++g) {
    for (NodeIndex i : groups[g]) sim_.set_partition(i, g + 1);
  }
}

MessageId MulticastCluster::multicast(NodeIndex i, std::string_view payload) {
  MessageId id{};
  sim_.with_node(i, [&](Machine& m, Effects& fx) {
    auto r = static_cast<MulticastProtocol&>(m).multicast(
        sim_.now(), std::as_bytes(std::span(payload.data(), payload.size())), fx);
    if (!r) {
      std::fprintf(stderr, "MulticastCluster::multicast: %s\n", r.error().detail);
      std::abort();
    }
    id = *r;
  });
  return id;
}

std::uint32_t MulticastCluster::delivered_count(const MessageId& id) const {
  auto it = delivered_.find(id);
  if (it == delivered_.end()) return 0;
  std::uint32_t n = 0;
  for (bool b : it->second) n += b ? 1 : 0;
  return n;
}

bool MulticastCluster::delivered(NodeIndex i, const MessageId& id) const {
  auto it = delivered_.find(id);
  return it != delivered_.end() && it->second[i];
}

std::uint32_t MulticastCluster::live_count() const {
  std::uint32_t n = 0;
  for (std::uint32_t i = 0; i < options_.nodes; ++i) n += sim_.crashed(i) ? 0 : 1;
  return n;
}

bool MulticastCluster::wait_all_delivered(const MessageId& id, Duration timeout) {
  auto all = [&] {
    auto it = delivered_.find(id);
    if (it == delivered_.end()) return false;
    for (std::uint32_t i = 0; i < options_.nodes; ++i) {
      if (!sim_.crashed(i) && !it->second[i]) return false;
    }
    return true;
  };
  // Checking after every event would be O(N) per event; once per millisecond of virtual time
  // is plenty for tests.
  const Time deadline = sim_.now() + timeout;
  while (sim_.now() < deadline) {
    if (all()) return true;
    sim_.run_until(std::min(deadline, sim_.now() + Duration::milliseconds(1)));
  }
  return all();
}

}  // namespace grapevine::sim
