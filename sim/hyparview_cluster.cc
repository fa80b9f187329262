#include "sim/hyparview_cluster.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "util/assert.h"

namespace grapevine::sim {

template <class Sim>
Sim BasicHyParViewCluster<Sim>::make_sim(const HyParViewClusterOptions& o) {
  if constexpr (kSharded) {
    return Sim(o.network, o.seed, o.sim_threads);
  } else {
    return Sim(o.network, o.seed);
  }
}

template <class Sim>
unsigned BasicHyParViewCluster<Sim>::shard_of(NodeIndex i) const noexcept {
  if constexpr (kSharded) {
    return sim_.shard_of(i);
  } else {
    (void)i;
    return 0;
  }
}

template <class Sim>
BasicHyParViewCluster<Sim>::BasicHyParViewCluster(const HyParViewClusterOptions& options)
    : options_(options),
      sim_(make_sim(options)),
      rng_(derive_seed(options.seed, 0x68707663)),
      id_base_(derive_seed(options.seed, 0x6d7367)),
      live_(options.nodes) {
  options_.config.kind = ViewKind::hyparview;
  latest_.assign(options_.nodes, 0);
  sim_.reserve(options_.nodes);  // the sharded one fixes its shard boundaries here
  unsigned shards = 1;
  if constexpr (kSharded) shards = sim_.shards();
  tallies_ = std::vector<Tally>(shards);
  for (NodeIndex i = 0; i < options_.nodes; ++i) {
    ++tallies_[shard_of(i)].nodes;
    sim_.add_node(make_hyparview(options_.config, sim_address(i), derive_seed(options_.seed, i),
                                 options_.tuning));
  }
  sim_.set_observer([this](Time, NodeIndex node, const Event& e) { observe(node, e); });
}

// Message ids are id_base_ + index: the index comes back out of the delivery event. On the
// sharded simulator this runs on node's shard's thread: it writes that shard's tally and
// latest_[node] only.
template <class Sim>
void BasicHyParViewCluster<Sim>::observe(NodeIndex node, const Event& e) {
  if (e.kind != EventKind::delivered) return;
  std::uint64_t m = e.message.origin - id_base_;
  Tally& tally = tallies_[shard_of(node)];
  if (m >= tally.messages.size()) return;
  Tracked& t = tally.messages[m];
  if (t.deliveries == tally.nodes) {
    ++tally.duplicates;
    return;
  }
  ++t.deliveries;
  latest_[node] = std::max(latest_[node], std::uint32_t(m + 1));
  t.max_hops = std::max(t.max_hops, e.hops);
}

template <class Sim>
std::uint32_t BasicHyParViewCluster<Sim>::deliveries(std::uint32_t m) const {
  std::uint32_t n = 0;
  for (const Tally& t : tallies_) n += t.messages[m].deliveries;
  return n;
}

template <class Sim>
std::uint32_t BasicHyParViewCluster<Sim>::max_hops(std::uint32_t m) const {
  std::uint32_t h = 0;
  for (const Tally& t : tallies_) h = std::max(h, t.messages[m].max_hops);
  return h;
}

template <class Sim>
std::uint64_t BasicHyParViewCluster<Sim>::duplicate_deliveries() const noexcept {
  std::uint64_t n = 0;
  for (const Tally& t : tallies_) n += t.duplicates;
  return n;
}

template <class Sim>
views::HyParView& BasicHyParViewCluster<Sim>::node(NodeIndex i) {
  return static_cast<views::HyParView&>(sim_.machine(i));
}

template <class Sim>
void BasicHyParViewCluster<Sim>::join_all() {
  Time start = sim_.now();
  for (NodeIndex i = 0; i < options_.nodes; ++i) {
    // Contact: a random node that joined before (node 0 starts the overlay alone).
    NodeIndex contact = i == 0 ? 0 : NodeIndex(rng_.below(i));
    const Time t = start + options_.join_spacing * i;
    if constexpr (kSharded) {
      // Inside i's shard, keyed like i's timer; 16 bytes of captures (no allocation).
      sim_.at_node(i, t, [i, contact](Time now, Machine& m, Effects& fx) {
        static_cast<ViewMachine&>(m).join(now, i == 0 ? Address{} : sim_address(contact), fx);
      });
    } else {
      Address c = i == 0 ? Address{} : sim_address(contact);
      sim_.at(t, [this, i, c] {
        sim_.with_node(i, [&](Machine& m, Effects& fx) {
          static_cast<ViewMachine&>(m).join(sim_.now(), c, fx);
        });
      });
    }
  }
}

template <class Sim>
std::uint32_t BasicHyParViewCluster<Sim>::broadcast(NodeIndex origin) {
  auto m = message_count();
  for (Tally& t : tallies_) t.messages.push_back({});
  std::vector<std::byte> payload(options_.payload_bytes, std::byte{0x5a});
  if (payload.size() >= 4) {
    for (int k = 0; k < 4; ++k) payload[std::size_t(k)] = std::byte((m >> (8 * k)) & 0xff);
  }
  sim_.with_node(origin, [&](Machine& mach, Effects& fx) {
    static_cast<ViewMachine&>(mach).broadcast(sim_.now(), id_base_ + m, payload, fx);
  });
  return m;
}

template <class Sim>
std::uint32_t BasicHyParViewCluster<Sim>::crash_random(double fraction) {
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

template <class Sim>
NodeIndex BasicHyParViewCluster<Sim>::random_live() {
  GV_ASSERT(live_ > 0);
  for (;;) {
    auto i = NodeIndex(rng_.below(options_.nodes));
    if (!sim_.crashed(i)) return i;
  }
}

template <class Sim>
std::vector<NodeIndex> BasicHyParViewCluster<Sim>::missed(std::uint32_t m) const {
  std::vector<NodeIndex> out;
  for (NodeIndex i = 0; i < options_.nodes; ++i) {
    if (!sim_.crashed(i) && latest_[i] <= m) out.push_back(i);
  }
  return out;
}

template <class Sim>
std::uint64_t BasicHyParViewCluster<Sim>::payload_sent_total() {
  std::uint64_t total = 0;
  for (NodeIndex i = 0; i < options_.nodes; ++i) total += node(i).stats().payload_sent;
  return total;
}

template <class Sim>
bool BasicHyParViewCluster<Sim>::views_symmetric(std::string* why) {
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

template class BasicHyParViewCluster<Simulator>;
template class BasicHyParViewCluster<ShardedSimulator>;

}  // namespace grapevine::sim
