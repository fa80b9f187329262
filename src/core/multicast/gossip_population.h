// GossipPopulation: the push, pull and push-pull epidemics of gossip.h for a whole simulated
// group at once, with per-node state flat and small, for the simulator's large runs (10^6 and
// 10^7 nodes, issue 12).
//
// Algorithm, paper and deviations: exactly those of GossipMulticast (gossip.h), call for call:
// the same frames, the same random draws in the same order, the same events. A run built from a
// population and a run built from one GossipMulticast per node give the same bytes on the wire
// and the same delivery hash (tests/sim/gossip_population_test.cc compares them). What differs
// is the storage:
//  - a population carries ONE message (a multicast experiment's): its id and payload are stored
//    once, in the population, not per node;
//  - each node is one 64-byte cache line (vtable, population pointer, PRNG, next tick, tick
//    counter, the message's state and hops) in one array, allocated once and advised onto huge
//    pages: no per-node heap allocation, and a simulator event touches one line of node state;
//  - state only some configurations read (stop-rule counters, rounds spread, receive ticks for
//    retention, the pull-back tick) lives in side arrays allocated only when the config needs it;
//  - statistics are kept for member 0 (the experiments' origin) and for everyone else together:
//    member_stats(0) and total_stats() are exact; other members have no counters of their own
//    (with set_stripes(k): everyone else per stripe of contiguous members, for a driver running
//    the stripes on k threads).
// Limits: a second multicast (from any member) is refused with Errc::invalid_argument, and a data
// frame carrying another message id, or the same id with other bytes, aborts (GV_ASSERT): in a
// population only the one multicast exists, so such a frame means a broken harness.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/multicast/gossip.h"
#include "grapevine/multicast.h"
#include "util/rng.h"
#include "wire/native.h"

namespace grapevine::detail {

class GossipPopulation;

/// One member of a population: a Machine the simulator drives like any other.
class alignas(64) GossipMember final : public Machine {
 public:
  GossipMember(GossipPopulation& population, std::uint64_t seed) noexcept
      : population_(&population), rng_(seed) {}

  void on_datagram(Time now, const Address& from, std::span<const std::byte> bytes,
                   Effects& fx) override;
  void on_timeout(Time now, Effects& fx) override;
  [[nodiscard]] Time next_deadline() const noexcept override { return Time::from_ns(next_); }
  /// Everything is in this one line, which the simulator already prefetches.
  void prefetch() const noexcept override {}

 private:
  friend class GossipPopulation;
  enum State : std::uint8_t { kNone, kFresh, kInfective, kRemoved };  // kFresh.. as Spread
  enum Flags : std::uint8_t { kNecessary = 1, kUnnecessary = 2 };

  [[nodiscard]] std::uint32_t self() const noexcept;
  void tick(Effects& fx);
  void start_of_tick();
  void push_round(Effects& fx);
  void pull_round(Effects& fx);
  void after_push_sends(std::uint32_t sends);
  void unnecessary_contact();
  void on_data(const Address& from, const wire::DataFrame& f, Effects& fx);
  void on_pull_request(const Address& from, const wire::PullRequestFrame& f, Effects& fx);
  void on_feedback(const wire::FeedbackFrame& f);
  void send_pull_request(const Address& to, Effects& fx);
  [[nodiscard]] bool lacks_any(const wire::PullRequestFrame& f) const noexcept;
  [[nodiscard]] bool holds() const noexcept { return state_ != kNone; }
  void store(std::uint32_t hops, State state, Effects& fx);
  [[nodiscard]] MulticastStats& stats() noexcept;

  GossipPopulation* population_;
  Rng rng_;
  std::int64_t next_ = 0;  // next tick (ns); 0 = not started (a started tick is always > 0)
  std::uint32_t tick_ = 0;
  State state_ = kNone;
  std::uint8_t flags_ = 0;
  std::uint16_t hops_ = 0;
};
static_assert(sizeof(GossipMember) == 64, "a member is one cache line");

class GossipPopulation {
 public:
  /// `nodes` members of `group` (group.size() == nodes); member i seeds its PRNG with
  /// derive_seed(seed, i + 1), as the experiments seed make_multicast(). `config` (copied) must
  /// name push, pull or pushpull and pass validate(). `group` must outlive the population.
  GossipPopulation(const MulticastConfig& config, const Group& group, std::uint64_t seed);
  ~GossipPopulation();
  GossipPopulation(const GossipPopulation&) = delete;
  GossipPopulation& operator=(const GossipPopulation&) = delete;

  [[nodiscard]] std::uint32_t size() const noexcept { return size_; }
  /// Member i, to hand to a driver (it stays owned by the population, at a fixed address).
  [[nodiscard]] GossipMember& member(std::uint32_t i) noexcept { return members_[i]; }

  /// MulticastProtocol::multicast() at member `origin`. Errors: too_large (payload over
  /// kMulticastPayloadBytesMax), not_ready (fewer than 2 members), invalid_argument (the
  /// population already carries a message).
  Result<MessageId> multicast(std::uint32_t origin, std::span<const std::byte> payload,
                              Effects& fx);
  /// MulticastProtocol::quiescent() of member i.
  [[nodiscard]] bool quiescent(std::uint32_t i) const noexcept;
  /// MulticastProtocol::has() of member i.
  [[nodiscard]] bool has(std::uint32_t i, const MessageId& id) const noexcept;
  /// Member 0's own counters (exact).
  [[nodiscard]] const MulticastStats& member0_stats() const noexcept { return member0_; }
  /// For a driver that runs the members on several threads (the sharded simulator): members
  /// i / ceil(size / stripes) form a stripe with its own counters and decode scratch, so
  /// members of different stripes share no mutable state. Call before the run, with the
  /// driver's own boundaries. Changes no result (total_stats() sums the stripes).
  void set_stripes(std::uint32_t stripes);
  /// The counters summed over every member (exact).
  [[nodiscard]] MulticastStats total_stats() const noexcept;

 private:
  friend class GossipMember;
  void send_data(Effects& fx, MulticastStats& stats, const Address& to, std::uint16_t hops,
                 std::uint8_t flags) const;

  MulticastConfig config_;
  const Group& group_;
  std::uint32_t size_;
  GossipMember* members_ = nullptr;  // size_ of them, in one huge-page-advised block
  std::size_t block_bytes_ = 0;
  // The one message.
  bool has_message_ = false;
  MessageId id_{};
  std::vector<std::byte> payload_;
  // Side state, allocated only when the config reads it (empty otherwise).
  std::vector<std::uint32_t> counter_;           // stop counter / coin (Demers' counter)
  std::vector<std::uint32_t> rounds_spread_;     // StopRule::rounds
  std::vector<std::uint32_t> received_tick_;     // retention_periods > 0
  std::vector<std::uint32_t> pulled_back_tick_;  // pull without pull_when_idle
  // Counters of member 0, and of everyone else together per stripe (one unless set_stripes).
  struct alignas(64) Stripe {
    MulticastStats others;
    wire::PullRequestFrame scratch;  // decode target: 1 KiB not zeroed per request
  };
  Stripe& stripe_of(std::uint32_t i) noexcept {
    return stripe_nodes_ == UINT32_MAX ? stripes_[0] : stripes_[i / stripe_nodes_];
  }
  MulticastStats member0_;
  std::vector<Stripe> stripes_ = std::vector<Stripe>(1);
  std::uint32_t stripe_nodes_ = UINT32_MAX;  // members per stripe
  // The config's switches, as GossipMulticast derives them.
  bool push_, pull_, wants_feedback_, pull_counting_;
};

}  // namespace grapevine::detail
