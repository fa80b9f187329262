// Joining through seeds with bounded work on both sides (MembershipConfig::
// join_seeds_per_attempt, join_answers_per_second; docs/performance.md, "Toward 10,000 nodes").
// memberlist's Join pushes-pulls every seed at once and retries all of them; a seed answers
// every join with its full state. Our deviations, both off by default: a joiner contacts k
// seeds per attempt, the next k on each retry, backing off; a seed answers at most so many
// joins a second (a token bucket) and merges, without answering, the joiners past it.
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
