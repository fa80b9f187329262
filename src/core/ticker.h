// Ticker: a protocol period with optional jitter and random phase, as one deadline. Protocols
// call start() on their first on_timeout and advance() each time the tick is handled.
#pragma once

#include "grapevine/time.h"
#include "util/rng.h"

namespace grapevine::detail {

class Ticker {
 public:
  /// First tick one period after `now`, or at a random offset in (0, period] if random_phase.
  void start(Time now, Duration period, bool random_phase, Rng& rng) noexcept {
    Duration first = period;
    if (random_phase) first = Duration::nanoseconds(rng.between(1, period.ns()));
    next_ = now + first;
    started_ = true;
  }
  /// Schedules the next tick one (jittered) period after the current one. Ticks never pile up:
  /// a late driver skips missed ticks rather than firing them in a burst.
  void advance(Time now, Duration period, double jitter, Rng& rng) noexcept {
    Duration step = period;
    if (jitter > 0.0) {
      auto spread = std::int64_t(double(period.ns()) * jitter);
      step = Duration::nanoseconds(period.ns() + rng.between(-spread, spread));
    }
    next_ = next_ + step;
    if (next_ <= now) next_ = now + step;
  }
  [[nodiscard]] bool started() const noexcept { return started_; }
  [[nodiscard]] bool due(Time now) const noexcept { return started_ && now >= next_; }
  /// Time::zero() before start: asks the driver for an immediate first call.
  [[nodiscard]] Time deadline() const noexcept { return started_ ? next_ : Time::zero(); }

 private:
  Time next_{};
  bool started_ = false;
};

}  // namespace grapevine::detail
