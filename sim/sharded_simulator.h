// ShardedSimulator: one large simulation on k threads, with the same result on any k.
//
// Algorithm: conservative parallel discrete-event simulation with a fixed lookahead (Chandy and
// Misra 1979; Lubachevsky's bounded-lag windows, 1989). Nodes are split into k shards of
// contiguous indices; each shard has its own calendar queue, packet pool, counters and thread.
// The lookahead L is the network's minimum one-way latency (min of local and cross
// latency_min): a datagram sent at time t arrives at t + L or later. Time advances in windows:
// with G the earliest pending event anywhere, every shard runs its events with time < G + L on
// its own. A datagram for a node of another shard arrives at >= G + L, so it cannot belong to
// the window; it goes to an outbox (bytes and all) and the destination takes it into its queue
// at the next window. One barrier per window (outboxes and published bounds are double-buffered
// by window parity); windows jump over empty stretches. With k = 1 there is one window per
// run_until() and no barrier.
//
// Determinism independent of k:
//  - events are ordered by (time, origin node, the origin's own event counter) instead of a
//    global insertion sequence; a node's counter depends only on what that node handled;
//  - the network's random draws for a send (loss, per-node drop, duplicate, jitter, reorder) come
//    from a PRNG seeded by (seed, sender, the sender's counter), not from one stream in event
//    order;
//  - the delivery hash is the sum (mod 2^64) of a mixed hash per delivery (time, endpoints,
//    bytes): the same set of deliveries gives the same hash in any interleaving.
// Why a node sees the same inputs in the same order on any k: with L > 0, an event for node i at
// time T that is created at T can only be i's own timer, so the events of i at T are known
// before T starts, except those i creates itself; the queue pops them by key either way.
// So counters, delivery hash and every machine's inputs are the same for k = 1, 2, 3, ...
// They differ from Simulator's (another event key, other random draws): a sharded run is
// compared with sharded runs.
//
// Supported: datagrams over LinkProfile (latency range, jitter, loss, duplicate, reorder), local
// and cross-subnet profiles, router counters, per-node drop, and between run_until() calls:
// with_node(), crash(), restart(), set_drop(), set_partition(), heal_partitions(). Refused
// (abort with a message): streams (send_stream/reply_stream), uplink bandwidth. Nodes live at
// sim_address(i) only (a datagram elsewhere counts as unroutable). Actions are offered per node
// only (at_node(): a call into node i at time t, keyed like a timer of i, so it runs in the same
// place among i's events on any k); not offered: Simulator::at() actions (global callbacks),
// pause/slow, crash_after_sends, datagram taps, run_until(done, deadline). A zero lookahead
// (latency_min 0) runs with one shard.
//
// Cost: one barrier per window, and windows are at most L wide, so the speedup needs many events
// per window (N / period * L): at L = 1 ms and 10^5 nodes ticking once a second that is ~200,
// too few to pay for a barrier on a loaded machine (docs/performance.md, "One run on two
// threads").
//
// Threads: the EventObserver runs on the thread of the node's shard, concurrently with other
// shards' observers: it may write state of that node only (or atomics), and must not call into
// the simulator. Machines must not share mutable state across shards (e.g. GossipPopulation's
// shared counters: give it set_stripes(shards()), or use one machine per node).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "grapevine/machine.h"
#include "sim/event_queue.h"
#include "sim/network.h"
#include "sim/packet_pool.h"
#include "sim/simulator.h"
#include "util/driver_contract.h"

namespace grapevine::sim {

class ShardedSimulator {
 public:
  using EventObserver = Simulator::EventObserver;
  /// A call into one node at a scheduled time (at_node()): (the event's time, its machine, its
  /// effects).
  using NodeAction = std::function<void(Time, Machine&, Effects&)>;
  static constexpr unsigned kShardsMax = 64;

  /// `shards` in [1, kShardsMax]; 1 if the network's minimum latency is 0. Aborts if the
  /// network has an uplink bandwidth (not modelled here).
  ShardedSimulator(const NetworkConfig& network, std::uint64_t seed, unsigned shards);
  ~ShardedSimulator();
  ShardedSimulator(const ShardedSimulator&) = delete;
  ShardedSimulator& operator=(const ShardedSimulator&) = delete;

  /// Reserves room for `nodes` nodes and fixes the shard boundaries: node i belongs to shard
  /// i / ceil(nodes / shards). Call it before adding nodes, or every node lands in shard 0.
  void reserve(std::size_t nodes);
  /// Adds node sim_address(index); it gets on_timeout() at the current time to start.
  NodeIndex add_node(std::unique_ptr<Machine> machine, std::uint32_t subnet = 0);
  /// As Simulator::add_borrowed_node: the caller owns the machine.
  NodeIndex add_borrowed_node(Machine& machine, std::uint32_t subnet = 0);
  void set_observer(EventObserver observer) { observer_ = std::move(observer); }
  /// As Simulator::set_machine_prefetch_lines (1 or 2; default 2).
  void set_machine_prefetch_lines(unsigned lines) noexcept { machine_lines_ = lines > 1 ? 2 : 1; }

  [[nodiscard]] unsigned shards() const noexcept { return unsigned(shards_.size()); }
  [[nodiscard]] unsigned shard_of(NodeIndex i) const noexcept {
    const std::size_t s = i / chunk_;
    return s < shards_.size() ? unsigned(s) : unsigned(shards_.size() - 1);
  }
  /// The window's lookahead: the network's minimum one-way latency.
  [[nodiscard]] Duration lookahead() const noexcept { return Duration::nanoseconds(lookahead_ns_); }
  [[nodiscard]] Time now() const noexcept { return now_; }
  [[nodiscard]] std::size_t size() const noexcept { return slots_.size(); }
  [[nodiscard]] Machine& machine(NodeIndex i) { return *machines_[i]; }
  [[nodiscard]] Address address(NodeIndex i) const { return sim_address(i); }
  [[nodiscard]] std::uint32_t subnet(NodeIndex i) const { return slots_[i].subnet; }
  [[nodiscard]] std::uint32_t subnet_count() const noexcept { return subnet_count_; }

  /// Processes every event with time <= t on shards() threads, then sets now to t.
  void run_until(Time t);
  void run_for(Duration d) { run_until(now_ + d); }
  /// Calls into a node now, between run_until() calls (not from an observer).
  void with_node(NodeIndex i, const std::function<void(Machine&, Effects&)>& call);
  /// Schedules `call` into node i at time t (max(t, now)), between run_until() calls (not from an
  /// observer). It runs on i's shard's thread, keyed (t, i, i's event counter now) like a timer
  /// of i, so its order among i's events is the same for any number of shards; skipped if i is
  /// crashed at t. `call` gets t, the machine and effects that send as i; it may touch node i's
  /// state (and, like an observer, atomics or state of i only) and must not call the simulator.
  /// Its captures should fit std::function's inline buffer (16 bytes with libstdc++) when there
  /// are millions of them.
  void at_node(NodeIndex i, Time t, NodeAction call);

  // ---- faults, between run_until() calls ----
  void crash(NodeIndex i);
  [[nodiscard]] bool crashed(NodeIndex i) const { return slots_[i].crashed_at != kNever; }
  void restart(NodeIndex i, std::unique_ptr<Machine> machine);
  void set_drop(NodeIndex i, double p);
  void set_partition(NodeIndex i, std::uint32_t group);
  void heal_partitions();

  // ---- observation (between run_until() calls); each sums the shards ----
  [[nodiscard]] std::uint64_t delivery_hash() const noexcept;
  [[nodiscard]] NetworkCounters counters() const noexcept;
  [[nodiscard]] std::uint64_t router_crossings(std::uint32_t subnet) const;
  [[nodiscard]] std::size_t packets_in_flight() const noexcept;
  [[nodiscard]] std::size_t pending_events() const noexcept;
  /// Windows run so far (barriers crossed): a measure of synchronisation cost.
  [[nodiscard]] std::uint64_t windows() const noexcept { return windows_; }
  /// CPU time (CLOCK_THREAD_CPUTIME_ID) spent by shard s's thread inside run_until(), waits
  /// included (spinning counts, sleeping does not). On a shared machine the wall time shows the
  /// scheduler's share; the busiest shard's CPU time is the run's critical path.
  [[nodiscard]] Duration shard_cpu(unsigned s) const noexcept;

 private:
  friend class ShardEffects;
  struct Shard;
  static constexpr std::int64_t kNever = INT64_MAX;
  static constexpr unsigned kSeqBits = 40;  // event key: origin << 40 | origin's counter
  enum Kind : std::uint8_t { kTimer, kDelivery, kAction };

  struct NodeSlot {
    std::int64_t crashed_at = kNever;
    std::int64_t scheduled = kNever;  // time of the live timer event
    std::uint64_t seq = 0;            // this node's event counter (the key's low bits)
    std::uint32_t partition = 0;
    std::uint32_t subnet = 0;
    float drop = 0.0f;
  };

  [[nodiscard]] std::uint64_t next_key(NodeIndex origin, std::uint64_t count = 1);
  void run_shard(unsigned s, Time t);
  void run_window(Shard& sh, std::int64_t end);
  void drain_inbox(Shard& sh, unsigned parity);
  [[nodiscard]] std::int64_t bound_of(Shard& sh);
  void dispatch(Shard& sh, const SimEvent& e);
  void handle_timer(Shard& sh, const SimEvent& e);
  void handle_delivery(Shard& sh, const SimEvent& e);
  void handle_action(Shard& sh, const SimEvent& e);
  void reschedule(Shard& sh, NodeIndex i);
  void send(Shard& sh, NodeIndex from, const Address& to, std::span<const std::byte> bytes);
  void deliver_later(Shard& sh, const SimEvent& e, std::span<const std::byte> bytes);
  void emit(NodeIndex from, const Event& event) const;

  NetworkConfig net_;
  std::uint64_t seed_;
  std::int64_t lookahead_ns_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::vector<NodeSlot> slots_;
  std::vector<Machine*> machines_;
  std::vector<std::unique_ptr<Machine>> owned_;
  std::size_t chunk_ = SIZE_MAX;  // nodes per shard (reserve())
  std::uint32_t subnet_count_ = 1;
  EventObserver observer_;
  Time now_{};
  std::uint64_t windows_ = 0;
  unsigned machine_lines_ = 2;
  bool running_ = false;       // threads are running: cross-shard sends go to outboxes
  bool any_drop_ = false;
  bool any_crash_or_partition_ = false;
  // Window bounds published by each shard, double-buffered by window parity.
  std::vector<std::int64_t> bounds_[2];
  std::unique_ptr<class SpinBarrier> barrier_;
};

}  // namespace grapevine::sim
