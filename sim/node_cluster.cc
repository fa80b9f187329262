#include "sim/node_cluster.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/membership/codec.h"
#include "sim/memory_estimate.h"
#include "util/rng.h"

namespace grapevine::sim {

NodeCluster::NodeCluster(const NodeClusterOptions& options)
    : options_(options),
      sim_(options.network, options.seed),
      left_(options.nodes, false),
      group_(options.nodes, 0),
      lives_(options.nodes, 0),
      restarted_at_(options.nodes, Time::zero() - kGrace - kGrace) {
  // Before any list is allocated (measured: -10% CPU at 1,000 nodes, docs/performance.md).
  if (const auto bytes = estimate_cluster(options.nodes).bytes; bytes >= kHugeHeapBytesMin) {
    (void)back_heap_with_huge_pages(bytes);
  }
  NodeConfig probe = options_.config;
  probe.membership.name = "node-0";
  if (auto ok = validate(probe); !ok) {
    std::fprintf(stderr, "NodeCluster: bad config: %s\n", ok.error().detail);
    std::abort();
  }
  memberlist_ = options_.config.membership.dialect == Dialect::memberlist;
  if (memberlist_) {
    by_name_id_.reserve(options.nodes);
    for (NodeIndex i = 0; i < options.nodes; ++i) by_name_id_.emplace(id_of(i), i);
  }
  sim_.set_observer([this](Time now, NodeIndex observer, const Event& e) {
    observe(now, observer, e);
  });
  sim_.reserve(options.nodes);
  nodes_.reserve(options.nodes);
  const bool preloaded = options.bootstrap == Bootstrap::preloaded;
  Rng rng(derive_seed(options.seed, 0x6a6f696e));
  std::vector<Address> everyone;
  if (preloaded) {
    for (NodeIndex i = 0; i < options.nodes; ++i) everyone.push_back(sim_address(i));
  }
  for (NodeIndex i = 0; i < options.nodes; ++i) {
    auto n = make_node(i, derive_seed(options.seed, i + 1));
    if (preloaded) {
      // Each member's list in its own random order, as joins in different orders would leave it.
      std::vector<Address> order = everyone;
      rng.shuffle(std::span(order));
      n->preload(Time::zero(), order);
    }
    nodes_.push_back(n.get());
    sim_.add_node(std::move(n), zone_of(i));
    if (i == 0 || preloaded) continue;
    const double start_s = double(i - 1) / options.join_rate;
    sim_.at(Time::zero() + Duration::nanoseconds(std::int64_t(start_s * 1e9)),
            [this, i] { join_through_seeds(i); });
  }
}

NodeCluster::~NodeCluster() = default;

std::unique_ptr<Node> NodeCluster::make_node(NodeIndex i, std::uint64_t seed) const {
  NodeConfig c = options_.config;
  c.membership.name = "node-" + std::to_string(i);
  if (options_.zones > 1 && c.membership.dialect == Dialect::native) {
    c.membership.zone = "z" + std::to_string(zone_of(i));
  }
  return std::make_unique<Node>(c, sim_address(i), seed);
}

void NodeCluster::join_through_seeds(NodeIndex i) {
  if (!active(i)) return;
  std::vector<Address> seeds;
  const std::uint32_t k = std::max<std::uint32_t>(1, options_.seeds);
  for (NodeIndex s = 0; s < options_.nodes && seeds.size() < k; ++s) {
    if (s != i && active(s)) seeds.push_back(sim_address(s));
  }
  if (seeds.empty()) return;
  sim_.with_node(i, [&](Machine&, Effects& fx) {
    (void)nodes_[i]->join(sim_.now(), std::span(seeds), fx);
  });
}

NodeId NodeCluster::id_of(NodeIndex i) const noexcept {
  if (memberlist_) return detail::memberlist_id("node-" + std::to_string(i));
  return node_id_of(sim_address(i));
}

NodeIndex NodeCluster::index_of(NodeId id) const noexcept {
  if (memberlist_) {
    auto it = by_name_id_.find(id);
    return it == by_name_id_.end() ? UINT32_MAX : it->second;
  }
  return address_index_of(id);
}

NodeIndex NodeCluster::address_index(const Address& a) const noexcept {
  return address_index_of(node_id_of(a));
}

NodeIndex NodeCluster::address_index_of(NodeId id) const noexcept {
  // sim_address(i) = 10.x.y.z:7946 with x.y.z = i + 1; node_id_of = ip << 16 | port.
  const std::uint64_t ip = id >> 16;
  if ((id & 0xffff) != 7946 || (ip >> 24) != 10) return UINT32_MAX;
  const NodeIndex i = NodeIndex((ip & 0xffffff) - 1);
  return i < options_.nodes ? i : UINT32_MAX;
}

void NodeCluster::observe(Time now, NodeIndex observer, const Event& e) {
  ClusterEvent rec{now, observer, UINT32_MAX, e.kind, e.message};
  view_log_.record(now, observer, e);
  if (e.kind == EventKind::delivered) {
    auto it = tracked_.find(e.message);
    if (it != tracked_.end() && it->second.delivered_at[observer] == Time::max()) {
      it->second.delivered_at[observer] = now;
    }
  } else {
    rec.subject = index_of(e.subject_id);
  }
  if (e.kind >= EventKind::query && e.kind <= EventKind::query_done) {
    observe_query(now, observer, e);
  }
  const NodeIndex s = rec.subject;
  if (e.kind == EventKind::failed && s < options_.nodes && active(s)) {
    // After a heal each side hears the other's verdicts ("dead" gossip about members it could
    // still reach): for kGrace every failure is the partition's.
    const bool after_heal = now - healed_at_ < kGrace;
    if (!reachable(observer, s) || after_heal) {
      ++partition_failures_;
    } else if (now - restarted_at_[s] < kGrace) {
      ++stale_failures_;
    } else {
      ++false_failures_;
    }
  }
  if (options_.record_events) events_.push_back(rec);
  if (on_event_) on_event_(rec);
}

void NodeCluster::crash(NodeIndex i) { sim_.crash(i); }

void NodeCluster::restart(NodeIndex i) {
  ++lives_[i];
  auto n = make_node(i, derive_seed(derive_seed(options_.seed, i + 1), lives_[i]));
  nodes_[i] = n.get();
  left_[i] = false;
  restarted_at_[i] = sim_.now();
  sim_.restart(i, std::move(n));
  join_through_seeds(i);
}

void NodeCluster::leave(NodeIndex i) {
  if (!active(i)) return;
  left_[i] = true;
  sim_.with_node(i, [&](Machine&, Effects& fx) { nodes_[i]->leave(sim_.now(), fx); });
}

void NodeCluster::partition(const std::vector<std::vector<NodeIndex>>& groups) {
  for (std::uint32_t g = 0; g < groups.size(); ++g) {
    for (NodeIndex i : groups[g]) {
      group_[i] = g + 1;
      sim_.set_partition(i, g + 1);
    }
  }
  partitioned_ = true;
}

void NodeCluster::heal() {
  sim_.heal_partitions();
  if (partitioned_) healed_at_ = sim_.now();
  std::fill(group_.begin(), group_.end(), 0u);
  partitioned_ = false;
}

void NodeCluster::set_loss(double p) {
  NetworkConfig n = sim_.network();
  n.local.loss = p;
  n.cross.loss = p;
  sim_.set_network(n);
}

Result<MessageId> NodeCluster::multicast(NodeIndex i, std::span<const std::byte> payload) {
  Result<MessageId> out = Error{Errc::invalid_argument, "node is down"};
  if (sim_.crashed(i)) return out;
  sim_.with_node(i, [&](Machine&, Effects& fx) {
    out = nodes_[i]->multicast(sim_.now(), payload, fx);
  });
  if (!out) return out;
  auto [it, fresh] = tracked_.try_emplace(*out);
  if (fresh) {
    it->second.origin = i;
    it->second.sent = sim_.now();
    it->second.delivered_at.assign(options_.nodes, Time::max());
  }
  it->second.delivered_at[i] = sim_.now();  // the origin has it, whether it emits or not
  return out;
}

std::uint32_t NodeCluster::active_count() const {
  std::uint32_t n = 0;
  for (NodeIndex i = 0; i < options_.nodes; ++i) n += active(i) ? 1 : 0;
  return n;
}

bool NodeCluster::converged() const {
  const std::uint32_t want = active_count();
  for (NodeIndex i = 0; i < options_.nodes; ++i) {
    if (active(i) && nodes_[i]->membership().live_group().size() != want) return false;
  }
  for (NodeIndex i = 0; i < options_.nodes; ++i) {
    if (!active(i)) continue;
    const Group& g = nodes_[i]->membership().live_group();
    for (std::uint32_t k = 0; k < g.size(); ++k) {
      const NodeIndex j = address_index(g.address(k));
      if (j == UINT32_MAX || !active(j)) return false;
    }
  }
  return true;
}

bool NodeCluster::wait(const std::function<bool()>& done, Duration timeout) {
  const Time deadline = sim_.now() + timeout;
  while (sim_.now() < deadline) {
    if (done()) return true;
    sim_.run_until(std::min(deadline, sim_.now() + Duration::milliseconds(100)));
  }
  return done();
}

bool NodeCluster::wait_converged(Duration timeout) {
  return wait([this] { return converged(); }, timeout);
}

bool NodeCluster::all_see(NodeIndex subject, MemberState s) const {
  const NodeId id = id_of(subject);
  for (NodeIndex i = 0; i < options_.nodes; ++i) {
    if (i == subject || !active(i)) continue;
    bool ok = false;
    for (const MemberInfo& m : nodes_[i]->membership().members()) {
      if (m.id == id) {
        ok = m.state == s;
        break;
      }
    }
    if (!ok) return false;
  }
  return true;
}

bool NodeCluster::wait_all_see(NodeIndex subject, MemberState s, Duration timeout) {
  return wait([&] { return all_see(subject, s); }, timeout);
}

std::uint32_t NodeCluster::delivered_count(const MessageId& id) const {
  auto it = tracked_.find(id);
  if (it == tracked_.end()) return 0;
  std::uint32_t n = 0;
  for (NodeIndex i = 0; i < options_.nodes; ++i) {
    n += (active(i) && it->second.delivered_at[i] != Time::max()) ? 1 : 0;
  }
  return n;
}

bool NodeCluster::all_delivered(const MessageId& id) const {
  return tracked_.count(id) != 0 && delivered_count(id) == active_count();
}

bool NodeCluster::wait_all_delivered(const MessageId& id, Duration timeout) {
  return wait([&] { return all_delivered(id); }, timeout);
}

std::uint64_t NodeCluster::messages_sent() const {
  const NetworkCounters& c = sim_.counters();
  return c.sent + c.streams;
}

std::uint64_t NodeCluster::bytes_sent() const {
  const NetworkCounters& c = sim_.counters();
  return c.bytes_sent + c.stream_bytes;
}

}  // namespace grapevine::sim
