// Multicast protocols: configuration, statistics and the common interface.
//
// The family (one class each, under src/core/multicast/):
//  - centralized: the origin unicasts to every member;
//  - tree (ACK repair, RMTP-style; NACK repair, SRM-style): a spanning tree over the group;
//  - gossip: push, pull and push-pull epidemics with Demers' stop rules and topology-aware
//    target choice.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "grapevine/limits.h"
#include "grapevine/group.h"
#include "grapevine/machine.h"
#include "grapevine/result.h"
#include "grapevine/time.h"

namespace grapevine {

enum class MulticastProtocolKind : std::uint8_t {
  push,
  pull,
  pushpull,
  centralized,
  tree_ack,
  tree_nack,
};

/// "push", "pull", "pushpull", "centralized", "tree-ack", "tree-nack".
const char* protocol_name(MulticastProtocolKind kind) noexcept;
/// Inverse of protocol_name; false if unknown.
bool parse_protocol(const char* text, MulticastProtocolKind& out) noexcept;

/// When an infective node loses interest in a rumor (push gossip; Demers et al. 1987, sec. 1.4).
enum class StopRule : std::uint8_t {
  none,            // spread until the message is dropped by retention (anti-entropy)
  rounds,          // push for `stop_rounds` rounds after becoming infective
  infect_and_die,  // push once, to `fanout` targets, then stop (Kermarrec et al. 2003)
  counter,         // stop after `stop_k` consecutive unnecessary contacts (or k sends, blind)
  coin,            // stop with probability 1/`stop_k` per unnecessary contact (or per send, blind)
};

const char* stop_rule_name(StopRule rule) noexcept;
bool parse_stop_rule(const char* text, StopRule& out) noexcept;

struct MulticastConfig {
  MulticastProtocolKind protocol = MulticastProtocolKind::pushpull;

  // --- gossip (push / pull / pushpull) ---
  /// b: push targets per period.
  std::uint32_t fanout = 3;
  /// > 0: each push draws its fanout from Poisson(mean) instead of `fanout` (infect-and-die
  /// analysis, where the mean is ln n + c).
  double fanout_poisson_mean = 0.0;
  /// Peers asked "anything new?" per period by pull and push-pull.
  std::uint32_t pull_fanout = 1;
  /// True (Demers' pull): ask every period, even holding nothing to spread. False (a Node's
  /// default, "silence is free"): ask only in periods where this node holds an infective
  /// message, and answer a request that lists ids this node lacks with one request back to the
  /// asker. News still reaches everyone (each request announces the asker's ids), and an idle
  /// group sends no pull traffic at all.
  bool pull_when_idle = true;
  StopRule stop = StopRule::none;
  std::uint32_t stop_rounds = 0;  // StopRule::rounds
  std::uint32_t stop_k = 1;       // counter and coin
  /// Counter/coin: true = lose interest only on contacts the receiver reports as unnecessary
  /// (receivers send feedback); false = blind, after every send.
  bool feedback = true;
  /// Across a router with probability 1/n_i (n_i = own subnet size), else inside the subnet.
  bool topology_aware = false;

  // --- timing (all protocols) ---
  Duration period = Duration::seconds(1);
  /// Each period is drawn uniformly from period * [1 - jitter, 1 + jitter].
  double period_jitter = 0.0;
  /// First tick at a random offset in (0, period] rather than exactly one period after start.
  bool random_phase = false;

  // --- tree (tree_ack / tree_nack) ---
  std::uint32_t tree_degree = 2;
  /// ACK repair: retransmit to a child that has not acknowledged within this long.
  Duration ack_timeout = Duration::milliseconds(200);
  std::uint32_t ack_retries_max = 5;
  /// NACK repair (SRM): request timer uniform in [c1*d, (c1+c2)*d], repair timer in
  /// [d1*d', (d1+d2)*d'], where d and d' are hop distances times `hop_delay`.
  double srm_c1 = 2.0, srm_c2 = 2.0, srm_d1 = 1.0, srm_d2 = 1.0;
  Duration hop_delay = Duration::milliseconds(10);

  // --- limits ---
  /// Messages are forgotten this many periods after they were received (0 = never).
  std::uint32_t retention_periods = 0;
  /// Send budget per datagram, bytes (<= kPacketBudgetBytesMax, limits.h).
  std::size_t packet_budget_bytes = 1400;
};

/// Checks a config; the error detail names the offending field.
Result<void> validate(const MulticastConfig& config) noexcept;

struct MulticastStats {
  std::uint64_t datagrams_sent = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t data_sent = 0;  // payload-carrying frames sent (the "traffic" of the analyses)
  std::uint64_t control_sent = 0;  // pull requests, feedback, acks, nacks, session frames
  std::uint64_t datagrams_received = 0;
  std::uint64_t data_received = 0;
  std::uint64_t duplicates_received = 0;
  std::uint64_t malformed_received = 0;
  std::uint64_t unknown_frames = 0;
  std::uint64_t delivered = 0;
};

class MulticastProtocol : public Machine {
 public:
  /// Starts a multicast of `payload` (copied; at most kMulticastPayloadBytesMax (limits.h)
  /// bytes). The origin delivers to itself at once (a delivered event with hops 0). Returns the
  /// message's id. Errors: too_large (payload over kMulticastPayloadBytesMax), not_ready (the
  /// group has no other member yet: nothing is sent, nothing delivered; retry after a join).
  virtual Result<MessageId> multicast(Time now, std::span<const std::byte> payload,
                                      Effects& fx) = 0;
  /// True when this node will send no more data of its own accord (nothing infective, no
  /// pending repair). Pull keeps asking forever and is never quiescent.
  [[nodiscard]] virtual bool quiescent() const noexcept = 0;
  [[nodiscard]] virtual bool has(const MessageId& id) const noexcept = 0;
  [[nodiscard]] const MulticastStats& stats() const noexcept { return stats_; }

 protected:
  MulticastStats stats_;
};

/// Builds the protocol that `config.protocol` names for member `self_index` of `group`.
/// `group` must outlive the returned machine. `seed` seeds the node's own PRNG.
std::unique_ptr<MulticastProtocol> make_multicast(const MulticastConfig& config,
                                                  const Group& group, std::uint32_t self_index,
                                                  std::uint64_t seed);

}  // namespace grapevine
