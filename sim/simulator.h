// Simulator: a single-threaded discrete-event loop over virtual time that drives Machines.
//
// Determinism: events are ordered by (time, insertion sequence); the network draws from one
// seeded PRNG in event order; machines draw from their own PRNGs. The same seed and the same
// calls give the same run to the byte, and delivery_hash() (a rolling hash over every packet
// delivered: time, endpoints, bytes) proves it.
//
// Driver contract (machine.h), checked around every machine call: no call re-enters (an
// EventObserver runs inside the machine's emit(), so it must not call with_node(); it may
// schedule with at()), virtual time never decreases, a stream is answered only while handled.
//
// Streams (Effects::send_stream) are modelled as TCP: not subject to datagram loss (`loss`,
// per-node drop), delivered after a handshake and the transfer (1.5 round trips plus size over
// the uplink), lost only when an end is down, the two are partitioned, or with the link's own
// `stream_loss` probability (a failed connection; 0 by default). A reply travels back the same
// way.
//
// Faults: crash (the node stops; packets to it vanish; what it had queued on its uplink is
// lost), restart (a fresh machine at the same address), pause (deliveries and timers wait until
// it resumes, as under SIGSTOP or a long GC), slow (every event the node handles costs a service
// time, queued FIFO: a CPU-starved process), per-node drop probability, and partitions (nodes
// in different partition groups cannot exchange packets).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "grapevine/machine.h"
#include "sim/event_queue.h"
#include "sim/network.h"
#include "sim/packet_pool.h"
#include "util/driver_contract.h"
#include "util/rng.h"

namespace grapevine::sim {

using NodeIndex = std::uint32_t;

/// Address of simulated node i: 10.a.b.c:7946 with a.b.c = i + 1. The simulator routes these
/// arithmetically; other addresses go through a lookup table.
Address sim_address(NodeIndex i) noexcept;

struct NetworkCounters {
  std::uint64_t sent = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t delivered = 0;
  std::uint64_t lost = 0;              // random loss (link or per-node drop)
  std::uint64_t to_crashed = 0;        // destination down (or sender crashed before sending)
  std::uint64_t partitioned = 0;       // endpoints in different partitions
  std::uint64_t unroutable = 0;        // no node at that address
  std::uint64_t duplicated = 0;
  std::uint64_t streams = 0;           // stream messages sent (reliable, TCP-like)
  std::uint64_t stream_bytes = 0;
  std::uint64_t cross_router = 0;      // packets sent between subnets
  std::uint64_t events = 0;            // events processed

  /// Adds another's counts (a sharded run's total over its shards). Kept beside the fields so
  /// a new counter is summed too.
  NetworkCounters& operator+=(const NetworkCounters& o) noexcept {
    sent += o.sent;
    bytes_sent += o.bytes_sent;
    delivered += o.delivered;
    lost += o.lost;
    to_crashed += o.to_crashed;
    partitioned += o.partitioned;
    unroutable += o.unroutable;
    duplicated += o.duplicated;
    streams += o.streams;
    stream_bytes += o.stream_bytes;
    cross_router += o.cross_router;
    events += o.events;
    return *this;
  }
};

class Simulator {
 public:
  /// Called for every event a machine emits: (time, node, event).
  using EventObserver = std::function<void(Time, NodeIndex, const Event&)>;

  Simulator(const NetworkConfig& network, std::uint64_t seed);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  /// Adds a node; it gets on_timeout() at the current time to start. `address` defaults to
  /// sim_address(index).
  NodeIndex add_node(std::unique_ptr<Machine> machine, std::uint32_t subnet = 0);
  NodeIndex add_node(std::unique_ptr<Machine> machine, const Address& address,
                     std::uint32_t subnet);
  /// Adds a node whose machine the caller owns (e.g. a member of a population allocated in one
  /// block): it must stay valid as long as the simulator may call into it (the destructor
  /// does not), or be replaced by restart() first.
  NodeIndex add_borrowed_node(Machine& machine, std::uint32_t subnet = 0);
  /// Reserves room for `nodes` nodes; large tables are advised onto huge pages.
  void reserve(std::size_t nodes);
  /// How many cache lines of each machine object to prefetch ahead of its events (1 or 2;
  /// default 2). A machine whose hot state is one line says 1: the second would be a neighbour's.
  void set_machine_prefetch_lines(unsigned lines) noexcept { machine_lines_ = lines > 1 ? 2 : 1; }

  void set_observer(EventObserver observer) { observer_ = std::move(observer); }
  /// Sees every routed datagram as it is sent: `cross` when it goes between subnets. For
  /// experiments that classify traffic (which protocol crossed the routers); unset costs
  /// nothing.
  using DatagramTap = std::function<void(bool cross, std::span<const std::byte> bytes)>;
  void set_datagram_tap(DatagramTap tap) { tap_ = std::move(tap); }

  [[nodiscard]] Time now() const noexcept { return now_; }
  [[nodiscard]] std::size_t size() const noexcept { return nodes_.size(); }
  [[nodiscard]] Machine& machine(NodeIndex i) { return *machines_[i]; }
  [[nodiscard]] Address address(NodeIndex i) const { return address_of(i); }
  [[nodiscard]] std::uint32_t subnet(NodeIndex i) const { return nodes_[i].subnet; }
  [[nodiscard]] std::uint32_t subnet_count() const noexcept { return subnet_count_; }

  /// Processes every event with time <= t, then sets now to t.
  void run_until(Time t);
  void run_for(Duration d) { run_until(now_ + d); }
  /// Runs until `done()` holds (checked after every event) or time passes `deadline`.
  /// Returns whether done() held.
  bool run_until(const std::function<bool()>& done, Time deadline);

  /// Runs `action` at time t (>= now), in order with the other events of that time.
  void at(Time t, std::function<void()> action);
  /// Calls into a node now, as the driver would (for tests and harnesses: multicast, join...).
  /// Not from inside a machine call (an EventObserver, an Effects method): calls do not re-enter,
  /// and a violation aborts (detail::DriverContract). Schedule it with at() instead.
  void with_node(NodeIndex i, const std::function<void(Machine&, Effects&)>& call);

  // ---- faults ----
  void crash(NodeIndex i);
  /// Crashes node i right after its next `sends` datagrams leave it (a sender dying mid-way).
  void crash_after_sends(NodeIndex i, std::uint32_t sends);
  [[nodiscard]] bool crashed(NodeIndex i) const { return nodes_[i].crashed_at != kNever; }
  /// A new machine at the same address, started now (a process restart).
  void restart(NodeIndex i, std::unique_ptr<Machine> machine);
  /// The node handles nothing for `d`; what arrives meanwhile is handled when it resumes.
  void pause(NodeIndex i, Duration d);
  /// Every event the node handles costs `service` of its time, queued FIFO (0 = normal).
  void set_slow(NodeIndex i, Duration service);
  /// Drops each packet to or from node i with probability p.
  void set_drop(NodeIndex i, double p);
  /// Nodes exchange packets only within the same partition group (all start in group 0).
  void set_partition(NodeIndex i, std::uint32_t group);
  void heal_partitions();
  /// Replaces the link profiles (loss, latency...) from now on.
  void set_network(const NetworkConfig& network) { net_ = network; }
  [[nodiscard]] const NetworkConfig& network() const noexcept { return net_; }

  // ---- observation ----
  [[nodiscard]] std::uint64_t delivery_hash() const noexcept { return hash_; }
  [[nodiscard]] const NetworkCounters& counters() const noexcept { return counters_; }
  /// Packets sent across router r (in or out of subnet r).
  [[nodiscard]] std::uint64_t router_crossings(std::uint32_t subnet) const;
  [[nodiscard]] std::size_t packets_in_flight() const noexcept { return pool_.live(); }
  [[nodiscard]] std::size_t pending_events() const noexcept { return queue_.size(); }

 private:
  friend class SimEffects;
  static constexpr std::int64_t kNever = INT64_MAX;
  enum Kind : std::uint8_t { kTimer, kDelivery, kAction, kStream, kStreamReply };

  // Per-node state split hot/cold: the hot part is read on every event, so it is kept small
  // (a million nodes' worth stays mostly in cache); the cold part only under faults. The machine
  // pointers are an array of their own (8 B a node: 8 MB at 10^6 nodes, which the L3 holds), so
  // the prefetch chain slot -> machine does not wait on the 32 B slot.
  enum SlotFlags : std::uint8_t { kSimAddress = 1, kMaybeBusy = 2, kCrashPlanned = 4 };
  struct NodeSlot {
    std::int64_t crashed_at = kNever;
    std::int64_t scheduled = kNever;  // time of the live timer event
    std::uint32_t partition = 0;
    std::uint32_t subnet = 0;
    float drop = 0.0f;
    std::uint8_t flags = 0;
  };
  struct NodeCold {
    std::unique_ptr<Machine> owner;
    Address address;
    std::int64_t uplink_free = 0;        // when the uplink is next idle
    std::int64_t busy_until = 0;         // slow/paused nodes: when the CPU is next free
    std::int64_t service_ns = 0;         // slow nodes: cost of each handled event
    std::uint32_t sends_until_crash = 0; // 0 = no crash planned
  };
  [[nodiscard]] Address address_of(NodeIndex i) const {
    if (all_sim_addresses_) return sim_address(i);  // touches no per-node memory
    return (nodes_[i].flags & kSimAddress) ? sim_address(i) : cold_[i].address;
  }

  void dispatch(const SimEvent& e);
  void prefetch_ahead() const noexcept;
  void handle_timer(const SimEvent& e);
  void handle_delivery(const SimEvent& e);
  bool defer_if_busy(const SimEvent& e);
  void reschedule(NodeIndex i);
  void send(NodeIndex from, const Address& to, std::span<const std::byte> bytes);
  void send_routed(NodeIndex from, const Address& to, std::span<const std::byte> bytes);
  void send_stream(NodeIndex from, NodeIndex to, std::span<const std::byte> bytes, bool request);
  void handle_stream(const SimEvent& e);
  void emit(NodeIndex from, const Event& event);
  std::int64_t link_latency(NodeIndex from, NodeIndex to, const LinkProfile& p);
  [[nodiscard]] bool route(const Address& a, NodeIndex& out) const;

  NetworkConfig net_;
  Rng rng_;
  std::uint64_t seed_;
  EventQueue queue_;
  PacketPool pool_;
  std::vector<NodeSlot> nodes_;
  std::vector<Machine*> machines_;  // machines_[i]: node i's machine (owned by cold_[i])
  std::vector<NodeCold> cold_;
  std::unordered_map<Address, NodeIndex, AddressHash> by_address_;  // non-sim addresses only
  std::vector<std::function<void()>> actions_;
  std::vector<std::uint32_t> free_actions_;
  std::vector<std::uint64_t> router_crossings_;
  std::uint32_t subnet_count_ = 1;
  EventObserver observer_;
  DatagramTap tap_;
  std::unique_ptr<class SimEffects> fx_;
  // The Machine contract, checked around every call into a machine. One for the whole loop:
  // virtual time is global (so monotonic for every node), and only one call is ever open.
  detail::DriverContract contract_;
  Time now_{};
  std::uint64_t hash_ = 0x6772617065766e65ULL;  // "grapevne"
  NetworkCounters counters_;
  bool crash_at_end_of_send_ = false;
  bool all_sim_addresses_ = true;  // every node at sim_address(i): routing touches no memory
  bool any_drop_ = false;          // some node has a per-node drop probability
  // Some node was ever crashed or partitioned: until then a delivery need not read the
  // sender's slot (a cache miss at a million nodes).
  bool any_crash_or_partition_ = false;
  bool any_busy_ = false;          // some node was ever paused or slowed (kMaybeBusy)
  unsigned machine_lines_ = 2;  // machine lines prefetched ahead (set_machine_prefetch_lines)
};

}  // namespace grapevine::sim
