#include "sim/state_cluster.h"

#include "core/state/scuttlebutt.h"
#include "util/assert.h"
#include "util/rng.h"

namespace grapevine::sim {

StateCluster::StateCluster(const StateClusterOptions& options)
    : options_(options), sim_(options.network, options.seed) {
  GV_ASSERT(validate(options_.config));
  sim_.reserve(options_.nodes + 8);
  std::vector<Address> all;
  for (NodeIndex i = 0; i < options_.nodes; ++i) all.push_back(sim_address(i));
  for (NodeIndex i = 0; i < options_.nodes; ++i) {
    auto n = make_node(i);
    if (options_.preloaded) n->preload(Time::zero(), all);
    sim_.add_node(std::move(n));
  }
  if (!options_.preloaded) {
    const Address seed = sim_address(0);
    for (NodeIndex i = 1; i < options_.nodes; ++i) {
      sim_.with_node(i, [&](Machine& m, Effects& fx) {
        (void)static_cast<Node&>(m).join(sim_.now(), std::span(&seed, 1), fx);
      });
    }
  }
}

std::unique_ptr<Node> StateCluster::make_node(NodeIndex i) {
  NodeConfig c = options_.config;
  c.membership.name = "n" + std::to_string(i);
  return std::make_unique<Node>(c, sim_address(i), derive_seed(options_.seed, i + 1000003ull *
                                                                                 incarnations_));
}

Result<std::uint64_t> StateCluster::set(NodeIndex i, std::string_view key, std::string_view value,
                                        Duration ttl) {
  Result<std::uint64_t> r = make_error(Errc::not_ready, "not run");
  sim_.with_node(i, [&](Machine& m, Effects& fx) {
    r = static_cast<Node&>(m).set(sim_.now(), key, value, ttl, fx);
  });
  return r;
}

Result<std::uint64_t> StateCluster::erase(NodeIndex i, std::string_view key) {
  Result<std::uint64_t> r = make_error(Errc::not_ready, "not run");
  sim_.with_node(i, [&](Machine& m, Effects& fx) {
    r = static_cast<Node&>(m).erase(sim_.now(), key, fx);
  });
  return r;
}

std::uint64_t StateCluster::watch(NodeIndex i, std::string_view prefix) {
  return node(i).state_watch(prefix);
}

NodeIndex StateCluster::add_joiner() {
  const NodeIndex i = NodeIndex(sim_.size());
  sim_.add_node(make_node(i));
  const Address seed = sim_address(0);
  sim_.with_node(i, [&](Machine& m, Effects& fx) {
    (void)static_cast<Node&>(m).join(sim_.now(), std::span(&seed, 1), fx);
  });
  return i;
}

void StateCluster::restart(NodeIndex i) {
  retired_bytes_ += node(i).state_stats().bytes_sent + node(i).state_stats().stream_bytes_sent;
  ++incarnations_;
  sim_.restart(i, make_node(i));
  const Address seed = sim_address(i == 0 ? 1 : 0);
  sim_.with_node(i, [&](Machine& m, Effects& fx) {
    (void)static_cast<Node&>(m).join(sim_.now(), std::span(&seed, 1), fx);
  });
}

bool StateCluster::all_hold(NodeIndex owner, std::string_view key,
                            const std::optional<std::string>& value) {
  const std::string addr = sim_address(owner).to_string();
  for (NodeIndex i = 0; i < size(); ++i) {
    if (!running(i)) continue;
    auto e = node(i).get(i == owner ? "self" : std::string_view(addr), key);
    if (e.has_value() != value.has_value()) return false;
    if (e && e->value != *value) return false;
  }
  return true;
}

std::size_t StateCluster::keys_held(NodeIndex i) {
  const auto* s = node(i).state();
  if (s == nullptr) return 0;
  std::size_t n = 0;
  for (const auto& [id, rec] : s->store().nodes()) n += rec.keys.size() - rec.tombstones;
  return n;
}

std::size_t StateCluster::nodes_held(NodeIndex i) {
  const auto* s = node(i).state();
  return s == nullptr ? 0 : s->store().nodes().size();
}

std::optional<Duration> StateCluster::run_until_all_hold(std::size_t keys, Duration limit,
                                                         Duration step) {
  const Time start = sim_.now();
  NodeIndex next = 0;  // nodes before `next` are known done (they only gain keys here)
  while (true) {
    while (next < size() && (!running(next) || keys_held(next) >= keys)) ++next;
    if (next == size()) return sim_.now() - start;
    if (sim_.now() - start >= limit) return std::nullopt;
    sim_.run_for(step);
  }
}

std::uint64_t StateCluster::state_bytes() {
  std::uint64_t b = retired_bytes_;
  for (NodeIndex i = 0; i < size(); ++i) {
    b += node(i).state_stats().bytes_sent + node(i).state_stats().stream_bytes_sent;
  }
  return b;
}

}  // namespace grapevine::sim
