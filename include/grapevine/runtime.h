// Runtime: runs grapevine nodes on real UDP and TCP sockets (Linux). One thread, one epoll loop,
// one deadline queue for every hosted node; datagrams batched with recvmmsg/sendmmsg; streams
// (state sync) over TCP, one length-prefixed request and optional reply per connection.
//
// A process may host one node (the agent) or thousands (the demo, tests, benchmarks), each on
// its own address. Everything a node does happens on the loop thread: callbacks run there, and
// NodeHandle methods must be called there (from a callback, before run(), or through post()).
//
//   grapevine::Runtime rt;
//   auto node = rt.add_node(config, *grapevine::Address::parse("127.0.0.1:7946"), callbacks);
//   (*node)->join(seeds);
//   std::thread loop([&] { rt.run(); });
//   rt.post([&] { (void)(*node)->multicast(payload); });
//   ...; rt.stop(); loop.join();
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "grapevine/address.h"
#include "grapevine/event.h"
#include "grapevine/membership.h"
#include "grapevine/multicast.h"
#include "grapevine/node.h"
#include "grapevine/result.h"
#include "grapevine/time.h"

namespace grapevine {

struct NodeCallbacks {
  /// A multicast payload arrived (the origin also delivers its own). Span valid during the call.
  std::function<void(const MessageId& id, std::span<const std::byte> payload, std::uint32_t hops)>
      on_delivery;
  /// A membership event (joined, suspected, failed, left, alive, updated).
  std::function<void(const Event& event)> on_member_event;
};

/// Socket-level counters of one node.
struct IoStats {
  std::uint64_t datagrams_in = 0, datagrams_out = 0, bytes_in = 0, bytes_out = 0;
  std::uint64_t streams_in = 0, streams_out = 0, stream_bytes_in = 0, stream_bytes_out = 0;
  std::uint64_t send_errors = 0, stream_errors = 0, oversized_dropped = 0;
};

class NodeHandle {
 public:
  virtual ~NodeHandle() = default;
  /// The bound address (with the real port when 0 was asked for).
  [[nodiscard]] virtual Address address() const = 0;
  virtual Result<void> join(std::span<const Address> seeds) = 0;
  /// Starts out knowing `members` as alive, as if joined (Membership::preload): for static
  /// rosters and steady-state benchmarks. Call before the loop first runs this node.
  virtual void preload(std::span<const Address> members) = 0;
  /// Graceful leave: the group sees this node *left*. The node keeps running so the news
  /// spreads; remove it afterwards with Runtime::remove_node.
  virtual void leave() = 0;
  virtual Result<MessageId> multicast(std::span<const std::byte> payload) = 0;
  /// Marks a failed member (by name) as left everywhere, as serf's force-leave does.
  virtual Result<void> force_leave(std::string_view name) = 0;
  /// Replaces this node's metadata (e.g. encode_tags() of its tags) and announces it with a new
  /// incarnation: an `updated` event on every other member. Errors: too_large (over 512 bytes).
  virtual Result<void> update_meta(std::span<const std::byte> meta) = 0;
  /// A serf-style user event (Membership::user_event): every member, this one included, gets
  /// a `user_event` through on_member_event once. Returns its Lamport time.
  virtual Result<std::uint64_t> user_event(std::string_view name,
                                           std::span<const std::byte> payload, bool coalesce) = 0;
  [[nodiscard]] virtual std::vector<MemberInfo> members() const = 0;
  [[nodiscard]] virtual const Membership& membership() const = 0;
  [[nodiscard]] virtual const MulticastStats& multicast_stats() const = 0;
  [[nodiscard]] virtual const IoStats& io_stats() const = 0;
  /// The partial-view overlay (NodeConfig::view), or nullptr.
  [[nodiscard]] virtual const ViewMachine* view() const { return nullptr; }
  /// Stops the node abruptly, sending nothing: to everyone else it has crashed.
  virtual void crash() = 0;
  [[nodiscard]] virtual bool running() const = 0;
};

struct RuntimeOptions {
  /// Datagrams per recvmmsg/sendmmsg call.
  std::uint32_t batch = 64;
  /// Give-up time for a TCP stream (connect, send, reply), as memberlist's TCPTimeout.
  Duration stream_timeout = Duration::seconds(10);
};

class Runtime {
 public:
  explicit Runtime(const RuntimeOptions& options = {});
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  /// Binds UDP and TCP on `bind` (port 0 = any free port) and starts a node there.
  /// Errors: invalid_argument (bad config), io (the address cannot be bound; the detail says
  /// why).
  Result<NodeHandle*> add_node(const NodeConfig& config, const Address& bind,
                               NodeCallbacks callbacks = {});
  /// Runs the loop until stop() (a stop() before run() makes the next run() return at once).
  void run();
  /// Runs the loop for `d` of wall time (or until stop()).
  void run_for(Duration d);
  /// Thread-safe: makes run()/run_for() return soon.
  void stop();
  /// Thread-safe: runs `task` on the loop thread.
  void post(std::function<void()> task);
  /// The monotonic clock the nodes see.
  [[nodiscard]] static Time now();
  [[nodiscard]] std::size_t node_count() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace grapevine
