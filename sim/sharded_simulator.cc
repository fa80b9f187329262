// ShardedSimulator (sharded_simulator.h): conservative windows over k shards, one thread each.
#include "sim/sharded_simulator.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "sim/huge_pages.h"
#include "util/hash.h"
#include "util/rng.h"

namespace grapevine::sim {

// A barrier for windows some microseconds long: spin briefly, then sleep on the generation word
// (a futex). Measured on the shared 2-vCPU machine at load 8 (10^5 ping-pong nodes, 2 shards):
// 2,000 to 20,000 spins cost 3x (a spinning thread keeps the core its partner needs), yielding
// gained nothing over sleeping.
//
// The sleep is the futex system call itself, not std::atomic::wait: a run of the 2-thread bench
// once hung with both threads asleep (load 0 for minutes, not reproduced in 8 later runs), and
// libstdc++ 12's atomic wait adds its own waiter bookkeeping around the futex. FUTEX_WAIT
// returns at once when the word no longer holds `gen`, and the wake follows the store, so a
// wake-up cannot be lost.
class SpinBarrier {
 public:
  explicit SpinBarrier(unsigned n) : n_(n) {}
  void arrive_and_wait() noexcept {
    const std::uint32_t gen = gen_.load(std::memory_order_acquire);
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == n_) {
      arrived_.store(0, std::memory_order_relaxed);
      gen_.store(gen + 1, std::memory_order_release);
      futex(FUTEX_WAKE_PRIVATE, INT32_MAX);
      return;
    }
    for (int i = 0; i < kSpins; ++i) {
      if (gen_.load(std::memory_order_acquire) != gen) return;
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
    // Then yield a while (as libstdc++'s atomic wait did): on an idle machine the partner
    // arrives within microseconds and a futex sleep and wake-up costs more than the window
    // (10^5 nodes, 2 threads: 23 to 26 ms per simulated second sleeping at once, 10 to 15 ms
    // with yields); under load a yield hands the core to the partner instead of spinning.
    for (int i = 0; i < kYields; ++i) {
      if (gen_.load(std::memory_order_acquire) != gen) return;
      std::this_thread::yield();
    }
    while (gen_.load(std::memory_order_acquire) == gen) futex(FUTEX_WAIT_PRIVATE, gen);
  }

 private:
  // A 32-bit atomic is its value's storage (checked below), so the kernel can compare the word.
  void futex(int op, std::uint32_t value) noexcept {
    (void)syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&gen_), op, value, nullptr, nullptr, 0);
  }
  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t) &&
                std::atomic<std::uint32_t>::is_always_lock_free);

  static constexpr int kSpins = 128;
  static constexpr int kYields = 64;
  alignas(64) std::atomic<std::uint32_t> arrived_{0};
  alignas(64) std::atomic<std::uint32_t> gen_{0};
  unsigned n_;
};

// Effects for the node a shard is calling into.
class ShardEffects final : public Effects {
 public:
  ShardEffects(ShardedSimulator& sim, ShardedSimulator::Shard& shard) : sim_(sim), shard_(shard) {}
  void send(const Address& to, std::span<const std::byte> datagram) override {
    sim_.send(shard_, current, to, datagram);
  }
  void emit(const Event& event) override { sim_.emit(current, event); }
  void send_stream(const Address&, std::span<const std::byte>) override { refuse(); }
  void reply_stream(StreamId, std::span<const std::byte>) override { refuse(); }
  NodeIndex current = 0;

 private:
  [[noreturn]] static void refuse() {
    std::fprintf(stderr, "ShardedSimulator: streams are not supported (use Simulator)\n");
    std::abort();
  }
  ShardedSimulator& sim_;
  ShardedSimulator::Shard& shard_;
};

struct alignas(64) ShardedSimulator::Shard {
  // Datagrams for another shard's nodes, sent during a window: the events (data = offset of a
  // 4-byte length and the bytes in `bytes`) and their earliest time.
  struct Outbox {
    std::vector<SimEvent> events;
    std::vector<std::byte> bytes;
    std::int64_t min_time = kNever;
  };
  Shard(ShardedSimulator& sim, unsigned i, unsigned shards)
      : index(i), fx(sim, *this), out{std::vector<Outbox>(shards), std::vector<Outbox>(shards)} {}

  unsigned index;
  EventQueue queue;
  PacketPool pool;
  NetworkCounters counters;
  std::vector<std::uint64_t> router = std::vector<std::uint64_t>(1, 0);
  std::uint64_t hash = 0;
  std::int64_t cpu_ns = 0;  // thread CPU time inside run_until()
  detail::DriverContract contract;
  Time now{};
  ShardEffects fx;
  std::vector<Outbox> out[2];  // [window parity][destination shard]
  // at_node() calls for this shard's nodes: added between runs, taken by this shard's thread.
  std::vector<ShardedSimulator::NodeAction> actions;
  std::vector<std::uint32_t> free_actions;
  unsigned parity = 0;         // of the outboxes being written
};

namespace {

constexpr std::uint64_t kNetStream = 0x6e657473686172ULL;  // "netshar"

std::int64_t thread_cpu_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

std::int64_t lookahead_of(const NetworkConfig& n) {
  return std::min(n.local.latency_min.ns(), n.cross.latency_min.ns());
}

}  // namespace

ShardedSimulator::ShardedSimulator(const NetworkConfig& network, std::uint64_t seed,
                                   unsigned shards)
    : net_(network), seed_(seed), lookahead_ns_(lookahead_of(network)) {
  if (network.uplink_bytes_per_second > 0) {
    std::fprintf(stderr, "ShardedSimulator: uplink bandwidth is not supported (use Simulator)\n");
    std::abort();
  }
  GV_ASSERT(shards >= 1 && shards <= kShardsMax);
  if (lookahead_ns_ <= 0) shards = 1;  // no lookahead: no window can run in parallel
  for (unsigned s = 0; s < shards; ++s) shards_.push_back(std::make_unique<Shard>(*this, s, shards));
  bounds_[0].assign(shards, kNever);
  bounds_[1].assign(shards, kNever);
  barrier_ = std::make_unique<SpinBarrier>(shards);
}

ShardedSimulator::~ShardedSimulator() = default;

void ShardedSimulator::reserve(std::size_t nodes) {
  GV_ASSERT(slots_.empty());  // the shard boundaries are fixed before the first node
  slots_.reserve(nodes);
  machines_.reserve(nodes);
  advise_huge_pages(slots_.data(), slots_.capacity() * sizeof(NodeSlot));
  advise_huge_pages(machines_.data(), machines_.capacity() * sizeof(Machine*));
  chunk_ = std::max<std::size_t>(1, (nodes + shards_.size() - 1) / shards_.size());
}

NodeIndex ShardedSimulator::add_node(std::unique_ptr<Machine> machine, std::uint32_t subnet) {
  Machine& m = *machine;
  owned_.resize(slots_.size() + 1);
  owned_.back() = std::move(machine);
  const NodeIndex i = add_borrowed_node(m, subnet);
  return i;
}

NodeIndex ShardedSimulator::add_borrowed_node(Machine& machine, std::uint32_t subnet) {
  GV_ASSERT(!running_);
  const auto i = NodeIndex(slots_.size());
  GV_ASSERT(i < 0xffffffu);
  slots_.emplace_back().subnet = subnet;
  machines_.push_back(&machine);
  if (owned_.size() < slots_.size()) owned_.resize(slots_.size());
  if (subnet + 1 > subnet_count_) {
    subnet_count_ = subnet + 1;
    for (auto& sh : shards_) sh->router.resize(subnet_count_, 0);
  }
  Shard& sh = *shards_[shard_of(i)];
  sh.now = now_;
  reschedule(sh, i);
  return i;
}

std::uint64_t ShardedSimulator::next_key(NodeIndex origin, std::uint64_t count) {
  std::uint64_t& seq = slots_[origin].seq;
  GV_ASSERT(seq + count < (std::uint64_t(1) << kSeqBits));
  const std::uint64_t key = std::uint64_t(origin) << kSeqBits | seq;
  seq += count;
  return key;
}

// ---- the windows ----------------------------------------------------------------------------

void ShardedSimulator::run_until(Time t) {
  GV_ASSERT(!running_);
  if (t < now_) t = now_;
  if (shards_.size() == 1) {
    const std::int64_t cpu = thread_cpu_ns();
    run_window(*shards_[0], t.ns() == kNever ? kNever : t.ns() + 1);  // one window: no barrier
    shards_[0]->cpu_ns += thread_cpu_ns() - cpu;
    ++windows_;
  } else {
    for (auto& sh : shards_) bounds_[1][sh->index] = bound_of(*sh);  // outboxes are empty
    running_ = true;
    std::vector<std::thread> threads;
    for (unsigned s = 1; s < shards_.size(); ++s) threads.emplace_back([this, s, t] { run_shard(s, t); });
    run_shard(0, t);
    for (auto& th : threads) th.join();
    running_ = false;
  }
  now_ = t;
}

// One shard's thread: windows until no event at or before t is left anywhere. Every shard
// computes the same window from the same published bounds, so all leave in the same window.
void ShardedSimulator::run_shard(unsigned s, Time t) {
  Shard& sh = *shards_[s];
  const std::int64_t cpu = thread_cpu_ns();
  unsigned prev = 1;  // parity of the last window's outboxes and bounds
  for (;;) {
    std::int64_t g = kNever;
    for (std::int64_t b : bounds_[prev]) g = std::min(g, b);
    drain_inbox(sh, prev);
    if (g > t.ns()) break;
    const std::int64_t last = t.ns() == kNever ? kNever - 1 : t.ns();  // end is exclusive
    const std::int64_t end = g > last - lookahead_ns_ ? last + 1 : g + lookahead_ns_;
    const unsigned cur = prev ^ 1;
    sh.parity = cur;
    run_window(sh, end);
    bounds_[cur][s] = bound_of(sh);
    if (s == 0) ++windows_;
    barrier_->arrive_and_wait();
    prev = cur;
  }
  sh.cpu_ns += thread_cpu_ns() - cpu;
}

// The earliest event this shard holds or has sent to another shard in this window.
std::int64_t ShardedSimulator::bound_of(Shard& sh) {
  std::int64_t b = sh.queue.empty() ? kNever : sh.queue.peek_time();
  for (const auto& o : sh.out[sh.parity]) b = std::min(b, o.min_time);
  return b;
}

// Takes what every shard sent this one in the window of `parity` into its queue. The order of
// insertion does not matter: the queue orders by the events' own keys.
void ShardedSimulator::drain_inbox(Shard& sh, unsigned parity) {
  for (auto& src : shards_) {
    Shard::Outbox& o = src->out[parity][sh.index];
    for (SimEvent& e : o.events) {
      std::uint32_t len;
      std::memcpy(&len, o.bytes.data() + e.data, sizeof len);
      e.data = sh.pool.store(std::span(o.bytes.data() + e.data + sizeof len, len));
    }
    sh.queue.push_keyed_batch(o.events);
    o.events.clear();
    o.bytes.clear();
    o.min_time = kNever;
  }
}

void ShardedSimulator::run_window(Shard& sh, std::int64_t end) {
  constexpr std::size_t kSlotAhead = 24, kMachineAhead = 12, kStateAhead = 4;
  while (!sh.queue.empty() && sh.queue.peek_time() < end) {
    // Prefetch hints as in Simulator::prefetch_ahead (the drained bucket is sorted).
    if (const SimEvent* e = sh.queue.ahead(kSlotAhead)) {
      __builtin_prefetch(&slots_[e->node]);
      __builtin_prefetch(&machines_[e->node]);
    }
    if (const SimEvent* e = sh.queue.ahead(kMachineAhead)) {
      const auto* m = reinterpret_cast<const char*>(machines_[e->node]);
      __builtin_prefetch(m);
      if (machine_lines_ > 1) __builtin_prefetch(m + 64);
      if (e->kind == kDelivery) sh.pool.prefetch(e->data);
    }
    if (const SimEvent* e = sh.queue.ahead(kStateAhead)) machines_[e->node]->prefetch();
    dispatch(sh, sh.queue.pop());
  }
}

void ShardedSimulator::dispatch(Shard& sh, const SimEvent& e) {
  sh.now = Time::from_ns(e.time);
  ++sh.counters.events;
  if (e.kind == kTimer) {
    handle_timer(sh, e);
  } else if (e.kind == kDelivery) {
    handle_delivery(sh, e);
  } else {
    handle_action(sh, e);
  }
}

void ShardedSimulator::handle_timer(Shard& sh, const SimEvent& e) {
  NodeSlot& n = slots_[e.node];
  if (n.crashed_at != kNever || e.time != n.scheduled) return;  // stale or dead
  n.scheduled = kNever;
  Machine* m = machines_[e.node];
  if (sh.now >= m->next_deadline()) {
    sh.fx.current = e.node;
    detail::DriverContract::Call call(sh.contract, sh.now);
    m->on_timeout(sh.now, sh.fx);
  }
  reschedule(sh, e.node);
}

void ShardedSimulator::handle_delivery(Shard& sh, const SimEvent& e) {
  const NodeSlot& to = slots_[e.node];
  if (any_crash_or_partition_) {
    // Another shard's slot: crashed_at and partition change only between runs.
    const NodeSlot& from = slots_[e.from];
    const bool down = to.crashed_at != kNever || from.crashed_at < e.aux;
    if (down || to.partition != from.partition) {
      ++(down ? sh.counters.to_crashed : sh.counters.partitioned);
      sh.pool.release(e.data);
      return;
    }
  }
  auto bytes = sh.pool.get(e.data);
  // Summed, not chained: the same deliveries give the same hash in any interleaving.
  const std::uint64_t h = mix64(std::uint64_t(e.time) ^ 0x64656c6976ULL) ^
                          (std::uint64_t(e.node) << 32 | e.from);
  sh.hash += mix64(hash_bytes(bytes, h));
  ++sh.counters.delivered;
  sh.fx.current = e.node;
  {
    detail::DriverContract::Call call(sh.contract, sh.now);
    machines_[e.node]->on_datagram(sh.now, sim_address(e.from), bytes, sh.fx);
  }
  sh.pool.release(e.data);
  reschedule(sh, e.node);
}

void ShardedSimulator::handle_action(Shard& sh, const SimEvent& e) {
  NodeAction action = std::move(sh.actions[e.data]);
  sh.actions[e.data] = nullptr;
  sh.free_actions.push_back(e.data);
  if (slots_[e.node].crashed_at != kNever) return;
  sh.fx.current = e.node;
  {
    detail::DriverContract::Call call(sh.contract, sh.now);
    action(sh.now, *machines_[e.node], sh.fx);
  }
  reschedule(sh, e.node);
}

void ShardedSimulator::reschedule(Shard& sh, NodeIndex i) {
  NodeSlot& n = slots_[i];
  if (n.crashed_at != kNever) return;
  const std::int64_t d = std::max(machines_[i]->next_deadline().ns(), sh.now.ns());
  if (d >= n.scheduled || d == kNever) return;
  n.scheduled = d;
  sh.queue.push_keyed(SimEvent{d, next_key(i), i, i, 0, kTimer, 0});
}

// ---- network --------------------------------------------------------------------------------

void ShardedSimulator::send(Shard& sh, NodeIndex from, const Address& to_addr,
                            std::span<const std::byte> bytes) {
  const NodeSlot& src = slots_[from];
  if (src.crashed_at != kNever) {
    ++sh.counters.to_crashed;
    return;
  }
  ++sh.counters.sent;
  sh.counters.bytes_sent += bytes.size();
  const std::uint32_t ip = to_addr.ipv4_u32();
  const NodeIndex to = (ip & 0xffffffu) - 1;
  if (to_addr.family != 4 || to_addr.port != 7946 || (ip >> 24) != 10 || to >= slots_.size()) {
    ++sh.counters.unroutable;
    return;
  }
  const bool cross = subnet_count_ > 1 && src.subnet != slots_[to].subnet;
  if (cross) {
    ++sh.counters.cross_router;
    ++sh.router[src.subnet];
    ++sh.router[slots_[to].subnet];
  }
  const LinkProfile& p = cross ? net_.cross : net_.local;
  const std::uint64_t key = next_key(from, 2);  // room for a duplicate
  std::int64_t lat = p.latency_min.ns();
  if (const std::int64_t spread = p.latency_max.ns() - p.latency_min.ns(); spread > 0) {
    lat += std::int64_t(mix64(seed_ ^ (std::uint64_t(from) << 32 | to)) % std::uint64_t(spread + 1));
  }
  SimEvent ev{sh.now.ns() + lat, key, to, from, 0, kDelivery, sh.now.ns()};
  const double drop_p = any_drop_ ? std::max<double>(src.drop, slots_[to].drop) : 0.0;
  if (p.loss <= 0 && drop_p <= 0 && p.duplicate <= 0 && p.jitter.ns() <= 0 && p.reorder <= 0) {
    deliver_later(sh, ev, bytes);  // nothing to draw
    return;
  }
  // This send's own draws: the same whatever the other nodes and shards did before it.
  Rng rng(derive_seed(seed_ ^ kNetStream, key));
  if (rng.chance(p.loss) || rng.chance(drop_p)) {
    ++sh.counters.lost;
    return;
  }
  const int copies = rng.chance(p.duplicate) ? 2 : 1;
  if (copies == 2) ++sh.counters.duplicated;
  for (int c = 0; c < copies; ++c) {
    SimEvent copy = ev;
    copy.seq = key + std::uint64_t(c);
    if (p.jitter.ns() > 0) copy.time += rng.between(0, p.jitter.ns());
    if (p.reorder > 0.0 && rng.chance(p.reorder)) copy.time += rng.between(0, p.reorder_delay.ns());
    deliver_later(sh, copy, bytes);
  }
}

// Into the destination's queue if it is this shard (or nothing runs), else into the outbox.
void ShardedSimulator::deliver_later(Shard& sh, const SimEvent& e,
                                     std::span<const std::byte> bytes) {
  const unsigned d = shard_of(e.node);
  if (d == sh.index || !running_) {
    Shard& dst = *shards_[d];
    SimEvent stored = e;
    stored.data = dst.pool.store(bytes);
    dst.queue.push_keyed(stored);
    return;
  }
  GV_ASSERT(e.time - sh.now.ns() >= lookahead_ns_);  // beyond the window: safe to hand over
  Shard::Outbox& o = sh.out[sh.parity][d];
  SimEvent moved = e;
  moved.data = std::uint32_t(o.bytes.size());
  GV_ASSERT(o.bytes.size() + bytes.size() + 4 < UINT32_MAX);
  const auto len = std::uint32_t(bytes.size());
  const auto* len_bytes = reinterpret_cast<const std::byte*>(&len);
  o.bytes.insert(o.bytes.end(), len_bytes, len_bytes + sizeof len);
  o.bytes.insert(o.bytes.end(), bytes.begin(), bytes.end());
  o.events.push_back(moved);
  o.min_time = std::min(o.min_time, e.time);
}

void ShardedSimulator::emit(NodeIndex from, const Event& event) const {
  if (observer_) observer_(shards_[shard_of(from)]->now, from, event);
}

// ---- control, between runs -----------------------------------------------------------------

void ShardedSimulator::with_node(NodeIndex i,
                                 const std::function<void(Machine&, Effects&)>& call) {
  GV_ASSERT(!running_);
  if (slots_[i].crashed_at != kNever) return;
  Shard& sh = *shards_[shard_of(i)];
  sh.now = now_;
  sh.fx.current = i;
  {
    detail::DriverContract::Call guard(sh.contract, now_);
    call(*machines_[i], sh.fx);
  }
  reschedule(sh, i);
}

void ShardedSimulator::at_node(NodeIndex i, Time t, NodeAction call) {
  GV_ASSERT(!running_ && i < slots_.size());
  Shard& sh = *shards_[shard_of(i)];
  std::uint32_t slot;
  if (!sh.free_actions.empty()) {
    slot = sh.free_actions.back();
    sh.free_actions.pop_back();
    sh.actions[slot] = std::move(call);
  } else {
    slot = std::uint32_t(sh.actions.size());
    sh.actions.push_back(std::move(call));
  }
  sh.queue.push_keyed(SimEvent{std::max(t, now_).ns(), next_key(i), i, i, slot, kAction, 0});
}

void ShardedSimulator::crash(NodeIndex i) {
  GV_ASSERT(!running_);
  any_crash_or_partition_ = true;
  slots_[i].crashed_at = now_.ns();
  slots_[i].scheduled = kNever;
}

void ShardedSimulator::restart(NodeIndex i, std::unique_ptr<Machine> machine) {
  GV_ASSERT(!running_);
  machines_[i] = machine.get();
  owned_[i] = std::move(machine);
  slots_[i].crashed_at = kNever;
  slots_[i].scheduled = kNever;
  Shard& sh = *shards_[shard_of(i)];
  sh.now = now_;
  reschedule(sh, i);
}

void ShardedSimulator::set_drop(NodeIndex i, double p) {
  GV_ASSERT(!running_);
  slots_[i].drop = float(p);
  if (p > 0) any_drop_ = true;
}

void ShardedSimulator::set_partition(NodeIndex i, std::uint32_t group) {
  GV_ASSERT(!running_);
  if (group != 0) any_crash_or_partition_ = true;
  slots_[i].partition = group;
}

void ShardedSimulator::heal_partitions() {
  GV_ASSERT(!running_);
  for (auto& n : slots_) n.partition = 0;
}

// ---- observation ----------------------------------------------------------------------------

std::uint64_t ShardedSimulator::delivery_hash() const noexcept {
  std::uint64_t h = 0x6772617065766e65ULL;  // "grapevne"
  for (const auto& sh : shards_) h += sh->hash;
  return h;
}

NetworkCounters ShardedSimulator::counters() const noexcept {
  NetworkCounters t;
  for (const auto& sh : shards_) t += sh->counters;
  return t;
}

std::uint64_t ShardedSimulator::router_crossings(std::uint32_t subnet) const {
  std::uint64_t n = 0;
  for (const auto& sh : shards_) n += subnet < sh->router.size() ? sh->router[subnet] : 0;
  return n;
}

Duration ShardedSimulator::shard_cpu(unsigned s) const noexcept {
  return Duration::nanoseconds(shards_[s]->cpu_ns);
}

std::size_t ShardedSimulator::packets_in_flight() const noexcept {
  std::size_t n = 0;
  for (const auto& sh : shards_) n += sh->pool.live();
  return n;
}

std::size_t ShardedSimulator::pending_events() const noexcept {
  std::size_t n = 0;
  for (const auto& sh : shards_) n += sh->queue.size();
  return n;
}

}  // namespace grapevine::sim
