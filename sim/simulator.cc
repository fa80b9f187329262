#include "sim/simulator.h"

#include <algorithm>
#include <cstdint>

#include "sim/huge_pages.h"
#include "util/hash.h"

namespace grapevine::sim {

Address sim_address(NodeIndex i) noexcept {
  return Address::ipv4_u32((10u << 24) | ((i + 1) & 0xffffffu), 7946);
}

// Effects for whichever node the simulator is calling into.
class SimEffects final : public Effects {
 public:
  explicit SimEffects(Simulator& sim) : sim_(sim) {}
  void send(const Address& to, std::span<const std::byte> datagram) override {
    sim_.send(current, to, datagram);
  }
  void emit(const Event& event) override { sim_.emit(current, event); }
  void send_stream(const Address& to, std::span<const std::byte> message) override {
    NodeIndex dst;
    if (sim_.route(to, dst)) {
      sim_.send_stream(current, dst, message, true);
    } else {
      ++sim_.counters_.unroutable;
    }
  }
  void reply_stream(StreamId stream, std::span<const std::byte> message) override {
    sim_.contract_.check_reply(stream);  // only while that stream is being handled
    if (stream > sim_.nodes_.size()) return;
    sim_.send_stream(current, NodeIndex(stream - 1), message, false);
  }
  NodeIndex current = 0;

 private:
  Simulator& sim_;
};

Simulator::Simulator(const NetworkConfig& network, std::uint64_t seed)
    : net_(network), rng_(derive_seed(seed, 0x6e6574)), seed_(seed),
      router_crossings_(1, 0), fx_(std::make_unique<SimEffects>(*this)) {}

Simulator::~Simulator() = default;

void Simulator::reserve(std::size_t nodes) {
  nodes_.reserve(nodes);
  machines_.reserve(nodes);
  cold_.reserve(nodes);
  advise_huge_pages(nodes_.data(), nodes_.capacity() * sizeof(NodeSlot));
  advise_huge_pages(machines_.data(), machines_.capacity() * sizeof(Machine*));
}

NodeIndex Simulator::add_node(std::unique_ptr<Machine> machine, std::uint32_t subnet) {
  return add_node(std::move(machine), sim_address(NodeIndex(nodes_.size())), subnet);
}

NodeIndex Simulator::add_borrowed_node(Machine& machine, std::uint32_t subnet) {
  const NodeIndex i = add_node(nullptr, sim_address(NodeIndex(nodes_.size())), subnet);
  machines_[i] = &machine;
  reschedule(i);
  return i;
}

NodeIndex Simulator::add_node(std::unique_ptr<Machine> machine, const Address& address,
                              std::uint32_t subnet) {
  auto i = NodeIndex(nodes_.size());
  GV_ASSERT(i < 0xffffffu);
  NodeSlot& n = nodes_.emplace_back();
  NodeCold& c = cold_.emplace_back();
  machines_.push_back(machine.get());
  c.owner = std::move(machine);
  c.address = address;
  n.subnet = subnet;
  if (address == sim_address(i)) {
    n.flags |= kSimAddress;
  } else {
    by_address_.emplace(address, i);
    all_sim_addresses_ = false;
  }
  if (subnet + 1 > subnet_count_) {
    subnet_count_ = subnet + 1;
    router_crossings_.resize(subnet_count_, 0);
  }
  if (machines_[i] != nullptr) reschedule(i);  // a borrowed machine is set (and started) after
  return i;
}

bool Simulator::route(const Address& a, NodeIndex& out) const {
  std::uint32_t ip = a.ipv4_u32();
  if (a.family == 4 && a.port == 7946 && (ip >> 24) == 10) {
    NodeIndex i = (ip & 0xffffffu) - 1;
    if (i < nodes_.size() && (all_sim_addresses_ || (nodes_[i].flags & kSimAddress))) {
      out = i;
      return true;
    }
  }
  auto it = by_address_.find(a);
  if (it == by_address_.end()) return false;
  out = it->second;
  return true;
}

// ---- the loop -------------------------------------------------------------------------------

void Simulator::run_until(Time t) {
  while (!queue_.empty() && queue_.peek_time() <= t.ns()) {
    prefetch_ahead();
    dispatch(queue_.pop());
  }
  if (t > now_) now_ = t;
}

bool Simulator::run_until(const std::function<bool()>& done, Time deadline) {
  if (done()) return true;
  while (!queue_.empty() && queue_.peek_time() <= deadline.ns()) {
    prefetch_ahead();
    dispatch(queue_.pop());
    if (done()) return true;
  }
  if (deadline > now_) now_ = deadline;
  return done();
}

// At a million nodes nearly every event misses the cache three times in a row: the destination's
// slot, then its machine (found through the slot), then the machine's own tables (found through
// the machine). The drained bucket is sorted, so the events a few places ahead are known: start
// each load a few events before it is needed, one level per distance. A hint only: the order of
// events, and so every result, is the same with or without it.
void Simulator::prefetch_ahead() const noexcept {
  constexpr std::size_t kSlotAhead = 24, kMachineAhead = 12, kStateAhead = 4;
  if (const SimEvent* e = queue_.ahead(kSlotAhead)) {
    __builtin_prefetch(&nodes_[e->node]);
    __builtin_prefetch(&machines_[e->node]);
  }
  if (const SimEvent* e = queue_.ahead(kMachineAhead)) {
    if (e->kind == kTimer || e->kind == kDelivery) {
      const auto* m = reinterpret_cast<const char*>(machines_[e->node]);
      __builtin_prefetch(m);
      if (machine_lines_ > 1) __builtin_prefetch(m + 64);
    }
    if (e->kind == kDelivery) pool_.prefetch(e->data);
  }
  if (const SimEvent* e = queue_.ahead(kStateAhead)) {
    if ((e->kind == kTimer || e->kind == kDelivery) && machines_[e->node] != nullptr) {
      machines_[e->node]->prefetch();
    }
  }
}

void Simulator::dispatch(const SimEvent& e) {
  now_ = Time::from_ns(e.time);
  ++counters_.events;
  switch (e.kind) {
    case kTimer:
      handle_timer(e);
      break;
    case kDelivery:
      handle_delivery(e);
      break;
    case kStream:
    case kStreamReply:
      handle_stream(e);
      break;
    case kAction: {
      auto action = std::move(actions_[e.data]);
      actions_[e.data] = nullptr;
      free_actions_.push_back(e.data);
      action();
      break;
    }
  }
}

// A paused or slow node handles one event at a time: later events wait for its CPU.
bool Simulator::defer_if_busy(const SimEvent& e) {
  // Until some node is paused or slowed, no slot need be read here (a miss per delivery at 10^6
  // nodes; the slot is read after the call, in reschedule(), by when its prefetch has landed).
  if (!any_busy_ || !(nodes_[e.node].flags & kMaybeBusy)) return false;
  NodeCold& n = cold_[e.node];
  if (n.busy_until > e.time) {
    SimEvent again = e;
    again.time = n.busy_until;
    queue_.push(again);
    return true;
  }
  if (n.service_ns > 0) n.busy_until = e.time + n.service_ns;
  return false;
}

void Simulator::handle_timer(const SimEvent& e) {
  NodeSlot& n = nodes_[e.node];
  if (n.crashed_at != kNever || e.time != n.scheduled) return;  // stale or dead
  if (n.flags & kMaybeBusy) {
    NodeCold& c = cold_[e.node];
    if (c.busy_until > e.time) {
      n.scheduled = c.busy_until;
      SimEvent again = e;
      again.time = c.busy_until;
      queue_.push(again);
      return;
    }
    if (c.service_ns > 0) c.busy_until = e.time + c.service_ns;
  }
  n.scheduled = kNever;
  Machine* m = machines_[e.node];
  if (now_ >= m->next_deadline()) {
    fx_->current = e.node;
    detail::DriverContract::Call call(contract_, now_);
    m->on_timeout(now_, *fx_);
  }
  reschedule(e.node);
}

void Simulator::handle_delivery(const SimEvent& e) {
  NodeSlot& to = nodes_[e.node];
  bool drop = false;
  if (any_crash_or_partition_) {
    const NodeSlot& from = nodes_[e.from];
    if (to.crashed_at != kNever || from.crashed_at < e.aux) {
      ++counters_.to_crashed;  // receiver down, or sender died before the bytes left its uplink
      drop = true;
    } else if (to.partition != from.partition) {
      ++counters_.partitioned;
      drop = true;
    }
  }
  if (drop) {
    pool_.release(e.data);
    return;
  }
  if (defer_if_busy(e)) return;
  auto bytes = pool_.get(e.data);
  hash_ = mix64(hash_ ^ std::uint64_t(e.time)) ^ (std::uint64_t(e.node) << 32 | e.from);
  hash_ = hash_bytes(bytes, hash_);
  ++counters_.delivered;
  fx_->current = e.node;
  {
    detail::DriverContract::Call call(contract_, now_);
    machines_[e.node]->on_datagram(now_, address_of(e.from), bytes, *fx_);
  }
  pool_.release(e.data);
  reschedule(e.node);
}

void Simulator::send_stream(NodeIndex from, NodeIndex to, std::span<const std::byte> bytes,
                            bool request) {
  NodeSlot& src = nodes_[from];
  if (src.crashed_at != kNever) return;
  ++counters_.streams;
  counters_.stream_bytes += bytes.size();
  const bool cross = subnet_count_ > 1 && src.subnet != nodes_[to].subnet;
  if (cross) {
    ++counters_.cross_router;
    ++router_crossings_[src.subnet];
    ++router_crossings_[nodes_[to].subnet];
  }
  const LinkProfile& p = cross ? net_.cross : net_.local;
  if (rng_.chance(p.stream_loss)) {  // draws nothing when stream_loss is 0
    ++counters_.lost;
    return;
  }
  std::int64_t depart = now_.ns();
  if (net_.uplink_bytes_per_second > 0) {
    std::int64_t tx = std::int64_t(bytes.size() * 1000000000ULL / net_.uplink_bytes_per_second);
    std::int64_t& free_at = cold_[from].uplink_free;
    depart = std::max(depart, free_at) + tx;
    free_at = depart;
  }
  // SYN, SYN-ACK, then the data: three one-way trips.
  std::int64_t arrive = depart + link_latency(from, to, p) * 3;
  queue_.push(SimEvent{arrive, 0, to, from, pool_.store(bytes),
                       std::uint8_t(request ? kStream : kStreamReply), depart});
}

void Simulator::handle_stream(const SimEvent& e) {
  NodeSlot& to = nodes_[e.node];
  const NodeSlot& from = nodes_[e.from];
  if (to.crashed_at != kNever || from.crashed_at < e.aux || to.partition != from.partition) {
    ++counters_.to_crashed;
    pool_.release(e.data);
    return;
  }
  if (defer_if_busy(e)) return;
  auto bytes = pool_.get(e.data);
  hash_ = mix64(hash_ ^ std::uint64_t(e.time) ^ 0x5354) ^ (std::uint64_t(e.node) << 32 | e.from);
  hash_ = hash_bytes(bytes, hash_);
  fx_->current = e.node;
  StreamId stream = e.kind == kStream ? StreamId(e.from) + 1 : 0;
  {
    detail::DriverContract::Call call(contract_, now_, stream);
    machines_[e.node]->on_stream(now_, address_of(e.from), bytes, stream, *fx_);
  }
  pool_.release(e.data);
  reschedule(e.node);
}

void Simulator::reschedule(NodeIndex i) {
  NodeSlot& n = nodes_[i];
  if (n.crashed_at != kNever) return;
  std::int64_t d = std::max(machines_[i]->next_deadline().ns(), now_.ns());
  if (d >= n.scheduled || d == kNever) return;
  n.scheduled = d;
  queue_.push(SimEvent{d, 0, i, 0, 0, kTimer, 0});
}

// ---- network --------------------------------------------------------------------------------

std::int64_t Simulator::link_latency(NodeIndex from, NodeIndex to, const LinkProfile& p) {
  std::int64_t lat = p.latency_min.ns();
  std::int64_t spread = p.latency_max.ns() - p.latency_min.ns();
  if (spread > 0) {
    std::uint64_t h = mix64(seed_ ^ (std::uint64_t(from) << 32 | to));
    lat += std::int64_t(h % std::uint64_t(spread + 1));
  }
  if (p.jitter.ns() > 0) lat += rng_.between(0, p.jitter.ns());
  if (p.reorder > 0.0 && rng_.chance(p.reorder)) lat += rng_.between(0, p.reorder_delay.ns());
  return lat;
}

void Simulator::send(NodeIndex from, const Address& to_addr, std::span<const std::byte> bytes) {
  NodeSlot& src = nodes_[from];
  if (src.crashed_at != kNever) {
    ++counters_.to_crashed;  // a node that crashed mid-call sends nothing more
    return;
  }
  if (src.flags & kCrashPlanned) {  // the cold part only then: a miss per send otherwise
    std::uint32_t& countdown = cold_[from].sends_until_crash;
    if (countdown > 0 && --countdown == 0) crash_at_end_of_send_ = true;
  }
  ++counters_.sent;
  counters_.bytes_sent += bytes.size();
  send_routed(from, to_addr, bytes);
  if (crash_at_end_of_send_) {
    crash_at_end_of_send_ = false;
    crash(from);
    // What already sits on its uplink still leaves; nothing after it does.
    src.crashed_at = std::max(src.crashed_at, cold_[from].uplink_free);
  }
}

void Simulator::send_routed(NodeIndex from, const Address& to_addr,
                            std::span<const std::byte> bytes) {
  NodeIndex to;
  if (!route(to_addr, to)) {
    ++counters_.unroutable;
    return;
  }
  NodeSlot& src = nodes_[from];
  const bool cross = subnet_count_ > 1 && src.subnet != nodes_[to].subnet;
  if (tap_) tap_(cross, bytes);
  if (cross) {
    ++counters_.cross_router;
    ++router_crossings_[src.subnet];
    ++router_crossings_[nodes_[to].subnet];
  }
  std::int64_t depart = now_.ns();
  if (net_.uplink_bytes_per_second > 0) {
    std::int64_t tx = std::int64_t(bytes.size() * 1000000000ULL / net_.uplink_bytes_per_second);
    std::int64_t& free_at = cold_[from].uplink_free;
    depart = std::max(depart, free_at) + tx;
    free_at = depart;
  }
  const LinkProfile& p = cross ? net_.cross : net_.local;
  double drop_p = any_drop_ ? std::max<double>(src.drop, nodes_[to].drop) : 0.0;
  if (rng_.chance(p.loss) || rng_.chance(drop_p)) {
    ++counters_.lost;
    return;
  }
  int copies = rng_.chance(p.duplicate) ? 2 : 1;
  if (copies == 2) ++counters_.duplicated;
  for (int c = 0; c < copies; ++c) {
    std::int64_t arrive = depart + link_latency(from, to, p);
    queue_.push(SimEvent{arrive, 0, to, from, pool_.store(bytes), kDelivery, depart});
  }
}

void Simulator::emit(NodeIndex from, const Event& event) {
  if (observer_) observer_(now_, from, event);
}

// ---- control --------------------------------------------------------------------------------

void Simulator::at(Time t, std::function<void()> action) {
  std::uint32_t slot;
  if (!free_actions_.empty()) {
    slot = free_actions_.back();
    free_actions_.pop_back();
    actions_[slot] = std::move(action);
  } else {
    slot = std::uint32_t(actions_.size());
    actions_.push_back(std::move(action));
  }
  queue_.push(SimEvent{std::max(t, now_).ns(), 0, 0, 0, slot, kAction, 0});
}

void Simulator::with_node(NodeIndex i, const std::function<void(Machine&, Effects&)>& call) {
  NodeSlot& n = nodes_[i];
  if (n.crashed_at != kNever) return;
  fx_->current = i;
  {
    detail::DriverContract::Call guard(contract_, now_);
    call(*machines_[i], *fx_);
  }
  reschedule(i);
}

void Simulator::crash(NodeIndex i) {
  any_crash_or_partition_ = true;
  nodes_[i].crashed_at = now_.ns();
  nodes_[i].scheduled = kNever;
}

void Simulator::crash_after_sends(NodeIndex i, std::uint32_t sends) {
  if (sends == 0) {
    crash(i);
  } else {
    cold_[i].sends_until_crash = sends;
    nodes_[i].flags |= kCrashPlanned;
  }
}

void Simulator::restart(NodeIndex i, std::unique_ptr<Machine> machine) {
  NodeSlot& n = nodes_[i];
  machines_[i] = machine.get();
  cold_[i].owner = std::move(machine);
  n.crashed_at = kNever;
  n.scheduled = kNever;
  cold_[i].busy_until = 0;
  reschedule(i);
}

void Simulator::pause(NodeIndex i, Duration d) {
  nodes_[i].flags |= kMaybeBusy;
  any_busy_ = true;
  cold_[i].busy_until = std::max(cold_[i].busy_until, (now_ + d).ns());
}

void Simulator::set_slow(NodeIndex i, Duration service) {
  nodes_[i].flags |= kMaybeBusy;
  any_busy_ = true;
  cold_[i].service_ns = service.ns();
}

void Simulator::set_drop(NodeIndex i, double p) {
  nodes_[i].drop = float(p);
  if (p > 0) any_drop_ = true;
}

void Simulator::set_partition(NodeIndex i, std::uint32_t group) {
  if (group != 0) any_crash_or_partition_ = true;
  nodes_[i].partition = group;
}

void Simulator::heal_partitions() {
  for (auto& n : nodes_) n.partition = 0;
}

std::uint64_t Simulator::router_crossings(std::uint32_t subnet) const {
  return subnet < router_crossings_.size() ? router_crossings_[subnet] : 0;
}

}  // namespace grapevine::sim
