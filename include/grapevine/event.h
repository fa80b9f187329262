// What a protocol machine tells its driver besides packets: deliveries and membership changes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "grapevine/address.h"

namespace grapevine {

/// Identifies one multicast: the origin's 64-bit id and the origin's sequence number.
struct MessageId {
  std::uint64_t origin = 0;
  std::uint32_t seq = 0;
  friend constexpr bool operator==(const MessageId&, const MessageId&) = default;
  friend constexpr auto operator<=>(const MessageId&, const MessageId&) = default;
};

enum class EventKind : std::uint8_t {
  delivered,  // a multicast payload reached this node for the first time
  joined,     // a member appeared (or came back after failed/left)
  suspected,  // a member is suspected (may still refute)
  failed,     // a member was declared failed by the failure detector
  left,       // a member left voluntarily
  alive,      // a suspected member refuted and is alive again
  updated,    // a member's metadata changed
  /// Consistent mode: this node installed a new configuration (configuration_id/epoch,
  /// members). Emitted after the joined/failed/left events of the members it toggled.
  view_changed,
  /// Consistent mode: no view change was decided within stall_timeout (e.g. this node is on
  /// the minority side of a partition); it keeps its configuration. Once per configuration.
  view_stalled,
  state_changed,  // a replicated state key was set, updated or erased (NodeConfig::state)
  replaced,   // a member's name was taken over by a new instance (a restart at another
              // address): the old entry is forgotten (native dialect; see membership_node.cc)
  conflict,   // two live members claim one name (subject: the claimant we heard of last)
  user_event, // a serf-style user event (name, payload, Lamport time), delivered once
  // Queries (grapevine/query.h; native dialect):
  query,           // a query this member passed the filters of: answer with Node::respond
  query_ack,       // at the querier: a member acknowledged our query (subject_*)
  query_response,  // at the querier: a member's response (subject_*, payload)
  query_done,      // at the querier: the query's deadline passed; nothing more is gathered
};

/// What happened to a replicated state key (EventKind::state_changed).
enum class StateOp : std::uint8_t { set, update, erase };
const char* state_op_name(StateOp op) noexcept;

const char* event_kind_name(EventKind kind) noexcept;

struct Event {
  EventKind kind = EventKind::delivered;
  // kind == delivered:
  MessageId message{};
  std::span<const std::byte> payload{};  // valid only during the emit() call
  std::uint32_t hops = 0;                // overlay hops the copy travelled
  // membership kinds:
  std::uint64_t subject_id = 0;
  Address subject{};
  std::string_view subject_name{};  // valid only during the emit() call
  std::uint32_t incarnation = 0;
  // kind == view_changed / view_stalled:
  std::uint64_t configuration_id = 0;
  std::uint64_t configuration_epoch = 0;
  std::span<const Address> members{};  // the configuration, valid only during the emit() call
  // kind == state_changed: subject_id/subject = the key's owner (node_id_of its address),
  // payload = the value (empty on erase); key valid only during the emit() call.
  std::string_view key{};
  std::uint64_t version = 0;
  StateOp state_op = StateOp::set;
  /// The member's metadata (tags; grapevine/tags.h) at the event; valid only during emit().
  std::span<const std::byte> subject_meta{};
  // kind == user_event (payload above holds its payload):
  std::string_view user_name{};  // valid only during the emit() call
  std::uint64_t ltime = 0;       // the event's Lamport time
  bool coalesce = false;         // the sender allows coalescing it with later same-name events
  // kind == query, query_ack, query_response, query_done: the query's id (its Lamport time in
  // ltime; kind == query: user_name its name, payload its payload, subject_* the querier;
  // query_ack/query_response: subject_* the member answering, payload its response).
  std::uint32_t query_id = 0;
};

/// Identifies an inbound stream that expects an answer (0 = none expected).
using StreamId = std::uint64_t;

/// Side effects of one call into a machine. Passed per call; machines keep no outbox.
/// Spans passed to send() and emit() are valid only during that call: copy what you keep.
class Effects {
 public:
  virtual ~Effects() = default;
  /// Best-effort datagram (UDP): may be lost, duplicated or reordered.
  virtual void send(const Address& to, std::span<const std::byte> datagram) = 0;
  virtual void emit(const Event& event) = 0;
  /// Reliable message (TCP): opens a stream to `to` and sends `message`; the peer may answer on
  /// the same stream, which arrives as on_stream() with the answer. Lost only if the peer is
  /// down or unreachable. Drivers without streams drop it.
  virtual void send_stream(const Address& /*to*/, std::span<const std::byte> /*message*/) {}
  /// Answers the inbound stream `stream` (from on_stream) with `message`, then closes it.
  virtual void reply_stream(StreamId /*stream*/, std::span<const std::byte> /*message*/) {}
};

}  // namespace grapevine
