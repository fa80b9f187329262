// FailureDetector: the part of a membership node that decides who failed. One implementation
// per detector kind (swim.h: SWIM and Lifeguard; heartbeat.h: gossip-style and all-to-all); the
// membership node owns the list, the dissemination and the merge rules, and calls in here.
#pragma once

#include <cstdint>
#include <span>

#include "grapevine/event.h"
#include "grapevine/membership.h"
#include "wire/native_membership.h"
#include "grapevine/time.h"

namespace grapevine::detail {

class FailureDetector {
 public:
  virtual ~FailureDetector() = default;
  /// First call, from the node's first on_timeout.
  virtual void start(Time now) = 0;
  /// Stops all probing and heartbeating (the node is leaving).
  virtual void stop() = 0;
  [[nodiscard]] virtual Time deadline() const noexcept = 0;
  /// Called when now >= deadline().
  virtual void on_timeout(Time now, Effects& fx) = 0;
  // Detector messages, already decoded by the node's codec. Defaults: ignore.
  virtual void on_ping(Time /*now*/, const wire::PingFrame& /*f*/, const Address& /*reply_to*/,
                       Effects& /*fx*/) {}
  virtual void on_ping_req(Time /*now*/, const wire::PingReqFrame& /*f*/,
                           const Address& /*from*/, Effects& /*fx*/) {}
  virtual void on_ack(Time /*now*/, std::uint32_t /*seq*/, Effects& /*fx*/) {}
  virtual void on_nack(std::uint32_t /*seq*/) {}
  /// The answer to a stream (TCP fallback) ping this node sent.
  virtual void on_stream_ack(Time /*now*/, std::uint32_t /*seq*/, Effects& /*fx*/) {}
  virtual void on_heartbeat(Time /*now*/, const wire::HeartbeatFrame& /*f*/,
                            const Address& /*from*/, Effects& /*fx*/) {}
  virtual void on_hb_entry(Time /*now*/, const wire::HeartbeatEntry& /*e*/, Effects& /*fx*/) {}
  /// A member was added to the list (probe order insertion).
  virtual void on_member_added(NodeId /*id*/) {}
  /// A suspect update was accepted about `id` from `from`: starts a suspicion, or counts a
  /// confirmation of a running one. True if it was new information (worth re-gossiping).
  virtual bool on_suspect(Time /*now*/, NodeId /*id*/, std::uint32_t /*incarnation*/,
                          NodeId /*from*/) {
    return false;
  }
  /// The member is no longer suspect (refuted, failed or left).
  virtual void on_unsuspect(NodeId /*id*/) {}
  /// This node had to refute an accusation (Lifeguard raises its local health score).
  virtual void on_refuted() {}
  /// Whether accusations coming from gossip (suspect/dead from others, failed entries in
  /// push-pull) count: SWIM yes; heartbeat detectors decide failures locally only.
  [[nodiscard]] virtual bool accepts_accusations() const noexcept { return true; }
  [[nodiscard]] virtual std::uint32_t health_score() const noexcept { return 0; }
};

}  // namespace grapevine::detail
