// Joining through seeds with bounded work on both sides (MembershipConfig::
// join_seeds_per_attempt, join_answers_per_second; docs/performance.md, "Toward 10,000 nodes").
// memberlist's Join pushes-pulls every seed at once and retries all of them; a seed answers
// every join with its full state. Our deviations, both off by default: a joiner contacts k
// seeds per attempt, the next k on each retry, backing off; a seed answers at most so many
// joins a second (a token bucket) and merges, without answering, the joiners past it.
//
// Prompt gossip of joins (MembershipConfig::join_gossip_delay, on by default; docs/
// performance.md, "Join convergence beside memberlist"). In memberlist news of a joiner waits
// at each hop for the holder's next gossip tick (gossip_interval / 2 on average, 200 ms ticks
// on LAN), so it reaches 64 members in ~0.8 s. Here a node that learns of a new member runs one
// extra gossip round join_gossip_delay later (unless its own tick comes first; rounds at least
// gossip_interval / 10 apart), so the news moves at about that delay per hop. The round sends
// what the queue holds, as a tick would, to twice as many members (2 x gossip_nodes): with 3,
// about e^-3 of the members missed the flood and waited for a tick, which set the tail (64
// joiners at 200/s, simulated: median 0.51 s with 3 targets, 0.36 s with 6; the last join
// starts at 0.315 s). Each update still goes out
// at most retransmit_limit() times per node, only sooner: the join costs ~7% more bytes at 64
// (native; more datagrams, each less full). Its targets come from a hash, not rng_, so the
// other timers' random draws stay as they were. Nothing happens at rest (no joins, no round).
#include <algorithm>

#include "core/membership/membership_node.h"
#include "util/hash.h"

namespace grapevine::detail {

Duration MembershipNode::join_retry_delay() const noexcept {
  const Duration base = config_.join_retry_interval;
  const std::size_t k = config_.join_seeds_per_attempt;
  if (k == 0 || seeds_.empty()) return base;  // memberlist's fixed interval
  // Backoff: doubles after each pass over every seed (at most 16x), plus up to half an
  // interval of jitter from a hash (rng_'s draws stay as they were), so joiners that busy
  // seeds left unanswered come back spread out instead of as the same storm.
  const std::size_t passes = join_attempts_ * k / seeds_.size();
  const Duration backoff = base * (std::int64_t(1) << std::min<std::size_t>(passes, 4));
  const std::uint64_t h = mix64(self_id_ ^ (std::uint64_t(join_attempts_) << 32));
  return backoff + Duration::nanoseconds(std::int64_t(h % std::uint64_t(base.ns() / 2 + 1)));
}

void MembershipNode::contact_seeds(Effects& fx) {
  ++join_attempts_;
  const std::size_t k = config_.join_seeds_per_attempt;
  if (k == 0 || k >= seeds_.size()) {
    for (const Address& seed : seeds_) send_push_pull(fx, seed, true);
    return;
  }
  for (std::size_t i = 0; i < k; ++i) {
    send_push_pull(fx, seeds_[(seed_next_ + i) % seeds_.size()], true);
  }
  seed_next_ = (seed_next_ + k) % seeds_.size();
}

// Prompt rounds are at least gossip_interval / this apart (20 ms on LAN). Simulated demo
// scenario, 1,000 joiners at 200/s: datagrams per node-second over the run 119 without a
// spacing, 94 with this one, 54 with a quarter interval (16 without prompt rounds), join
// convergence 5.1, 5.3 and 5.5 s (12.0 s without); at 64 joiners this spacing changes nothing
// (median 0.36 s), a quarter interval costs 60 ms (0.42 s).
constexpr std::int64_t kJoinGossipRoundsPerInterval = 10;

void MembershipNode::arm_join_gossip() {
  if (config_.join_gossip_delay <= Duration::zero() || !started_ || leaving_) return;
  if (join_gossip_at_ != Time::max()) return;  // one pending round covers every new member
  // At most kJoinGossipRoundsPerInterval prompt rounds a gossip interval: in a long storm
  // (thousands joining) a node learns of someone every few milliseconds.
  const Duration spacing =
      Duration::nanoseconds(config_.gossip_interval.ns() / kJoinGossipRoundsPerInterval);
  const Time at = std::max(clock_ + config_.join_gossip_delay, join_gossip_last_ + spacing);
  // The regular round comes first: it carries the news.
  if (config_.gossip_interval > Duration::zero() && gossip_ticker_.deadline() <= at) return;
  join_gossip_at_ = at;
}

void MembershipNode::join_gossip_round(Time now, Effects& fx) {
  join_gossip_at_ = Time::max();
  join_gossip_last_ = now;
  if (leaving_ || queue_.empty() || list_.live_size() < 2) return;
  const std::uint32_t live = list_.live_size() - 1;  // live slot 0 is this node
  const std::uint32_t want = std::min({2 * config_.gossip_nodes, std::uint32_t(16), live});
  NodeId chosen[16];
  std::uint32_t n = 0;
  for (std::uint32_t attempt = 0; n < want && attempt < want * 4; ++attempt) {
    const std::uint64_t h =
        mix64(std::uint64_t(now.ns()) ^ mix64(self_id_ + 0x6a6f696eULL * (attempt + 1)));
    const NodeId id = list_.at(list_.live_slot(1 + std::uint32_t(h % live))).id;
    if (std::find(chosen, chosen + n, id) == chosen + n) chosen[n++] = id;
  }
  for (std::uint32_t i = 0; i < n && !queue_.empty(); ++i) {
    send_messages(fx, list_.at(list_.find(chosen[i])).address, 0);
  }
  ++stats_.join_gossip_rounds;
}

bool MembershipNode::take_join_answer(Time now) {
  const double rate = config_.join_answers_per_second;
  if (rate <= 0) return true;
  if (join_tokens_ < 0) {
    join_tokens_ = rate;
  } else {
    join_tokens_ = std::min(rate, join_tokens_ + rate * (now - join_tokens_at_).to_seconds());
  }
  join_tokens_at_ = now;
  if (join_tokens_ < 1.0) return false;
  join_tokens_ -= 1.0;
  return true;
}

}  // namespace grapevine::detail
