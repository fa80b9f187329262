#include "core/membership/heartbeat.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/membership/flat_index.h"
#include "core/membership/membership_node.h"
#include "core/membership/phi_accrual.h"
#include "core/targets.h"

namespace grapevine::detail {
namespace {

// Shared by both heartbeat detectors: the tick, the counter, and the timeouts.
class HeartbeatBase : public FailureDetector {
 public:
  explicit HeartbeatBase(MembershipNode& node) : node_(node) { node_.list().track_beats(); }
  void start(Time now) override {
    ticker_.start(now, node_.config().heartbeat_interval, true, node_.rng());
  }
  void stop() override { stopped_ = true; }
  [[nodiscard]] Time deadline() const noexcept override {
    return stopped_ ? Time::max() : ticker_.deadline();
  }
  void on_timeout(Time now, Effects& fx) override {
    if (stopped_ || !ticker_.due(now)) return;
    ticker_.advance(now, node_.config().heartbeat_interval, 0.0, node_.rng());
    MemberBeat& self = node_.list().beat(0);
    ++self.counter;
    self.at = now;
    beat(now, fx);
    check_timeouts(now, fx);
  }
  [[nodiscard]] bool accepts_accusations() const noexcept override { return false; }

 protected:
  virtual void beat(Time now, Effects& fx) = 0;
  /// Automatic T_fail in heartbeat intervals for a group of n.
  [[nodiscard]] virtual double auto_fail_intervals(double n) const = 0;
  /// All-to-all revives a member heard from again; gossip-style waits for cleanup.
  [[nodiscard]] virtual bool forget_after_cleanup() const = 0;
  /// Whether the alive member `r` has been silent too long (default: longer than T_fail).
  [[nodiscard]] virtual bool timed_out(Time now, std::uint32_t slot, Duration t_fail) {
    return now - node_.list().beat(slot).at > t_fail;
  }
  /// The member's counter rose at `now` (after heartbeat_at was stamped).
  virtual void on_rise(Time /*now*/, const MemberRecord& /*r*/) {}
  /// The member's row was forgotten (after T_cleanup).
  virtual void on_forget(NodeId /*id*/) {}

  [[nodiscard]] Duration fail_timeout() const {
    const MembershipConfig& c = node_.config();
    if (c.fail_timeout > Duration::zero()) return c.fail_timeout;
    // n counts failed members too: when many crash at once, gossip slows (sends to the dead
    // are wasted) exactly when the live count drops, so shrinking T_fail then would let the
    // last stale counters outlive T_cleanup and resurrect the dead.
    double n = double(std::max<std::size_t>(node_.list().record_count(), 2));
    return Duration::nanoseconds(
        std::int64_t(auto_fail_intervals(n) * double(c.heartbeat_interval.ns())));
  }

  void check_timeouts(Time now, Effects& fx) {
    const Duration t_fail = fail_timeout();
    const auto t_cleanup =
        Duration::nanoseconds(std::int64_t(double(t_fail.ns()) * node_.config().cleanup_factor));
    MemberList& list = node_.list();
    std::vector<NodeId> forget;
    for (std::uint32_t slot = 1; slot < list.record_count(); ++slot) {
      MemberRecord& r = list.at(slot);
      if (r.state == MemberState::alive && timed_out(now, slot, t_fail)) {
        node_.mark_failed_locally(now, slot, fx);
      } else if (r.state == MemberState::failed && forget_after_cleanup() &&
                 now - list.beat(slot).at > t_cleanup) {
        forget.push_back(r.id);
      }
    }
    for (NodeId id : forget) {
      list.remove(id);
      on_forget(id);
    }
  }

  /// A fresher heartbeat for the member in `slot`.
  void heard(Time now, std::uint32_t slot, std::uint64_t counter, Effects& fx) {
    const MemberRecord& r = node_.list().at(slot);
    if (counter <= node_.list().beat(slot).counter) return;
    if (r.state == MemberState::failed) {
      if (forget_after_cleanup()) return;  // kept, ignored, until cleanup
      node_.revive_locally(now, slot, fx);
    }
    MemberBeat& b = node_.list().beat(slot);
    b.counter = counter;
    b.at = now;
    on_rise(now, r);
  }

  MembershipNode& node_;
  Ticker ticker_;
  bool stopped_ = false;
};

class GossipHeartbeat : public HeartbeatBase {
 public:
  using HeartbeatBase::HeartbeatBase;

  void on_hb_entry(Time now, const wire::HeartbeatEntry& e, Effects& fx) override {
    if (e.id == node_.self_id() || e.left) return;  // leaves travel as dead updates
    std::uint32_t slot = node_.list().find(e.id);
    if (slot == MemberList::kNone) {
      slot = node_.learn(now, e.id, e.address, fx);
      if (slot == MemberList::kNone) return;
    }
    if (node_.list().at(slot).state == MemberState::left) return;
    heard(now, slot, e.counter, fx);
  }

 private:
  [[nodiscard]] double auto_fail_intervals(double n) const override {
    // A fresh counter reaches everyone in about log2 n + ln n rounds. When half the group has
    // just crashed, half of every member's gossip goes to the dead until they are declared
    // failed, and a counter takes about twice as long; T_fail is twice *that* plus slack, so
    // neither a mass crash nor loss makes false failures (or, through T_cleanup, resurrections)
    // (docs/experiments.md, F7/F8: 2 (log2 n + ln n) + 4 had false failures in 10-25% of
    // half-crash runs at n = 10..100).
    return 4.0 * (std::log2(n) + std::log(n)) + 4.0;
  }
  [[nodiscard]] bool forget_after_cleanup() const override { return true; }

  void beat(Time now, Effects& fx) override {
    MemberList& list = node_.list();
    if (list.live_size() < 2) return;
    // The rows: every live member with its counter (failed rows are not gossiped).
    std::vector<wire::HeartbeatEntry> rows;
    rows.reserve(list.live_size());
    for (std::uint32_t i = 0; i < list.live_size(); ++i) {
      const MemberRecord& r = list.at(list.live_slot(i));
      rows.push_back(wire::HeartbeatEntry{r.id, r.address, list.beat(list.live_slot(i)).counter,
                                          false});
    }
    std::uint32_t targets[16];
    const std::uint32_t want = std::min<std::uint32_t>(node_.config().heartbeat_fanout, 16);
    std::uint32_t n = pick(now, std::span(targets, want));
    for (std::uint32_t t = 0; t < n; ++t) node_.send_hb_rows(fx, list.address(targets[t]), rows);
  }

 protected:
  /// Gossip targets (indexes into the live group): uniform among the other members.
  virtual std::uint32_t pick(Time /*now*/, std::span<std::uint32_t> out) {
    return pick_targets(node_.list(), 0, false, node_.rng(), out);
  }
};

class AllToAll final : public HeartbeatBase {
 public:
  using HeartbeatBase::HeartbeatBase;

  void on_heartbeat(Time now, const wire::HeartbeatFrame& f, const Address& from,
                    Effects& fx) override {
    if (f.sender == node_.self_id()) return;
    std::uint32_t slot = node_.list().find(f.sender);
    if (slot == MemberList::kNone) slot = node_.learn(now, f.sender, from, fx);
    if (slot == MemberList::kNone || node_.list().at(slot).state == MemberState::left) return;
    heard(now, slot, f.counter, fx);
  }

 private:
  [[nodiscard]] double auto_fail_intervals(double /*n*/) const override { return 5.0; }
  [[nodiscard]] bool forget_after_cleanup() const override { return false; }

  void beat(Time /*now*/, Effects& fx) override {
    MemberList& list = node_.list();
    const wire::HeartbeatFrame f{node_.self_id(), list.beat(0).counter};
    // Heartbeats carry queued updates, each for a limited number of transmissions, so the first
    // members a beat reaches get them all. Start at a random member: otherwise the same tail of
    // the list never hears a leave, and reports the leaver failed (7 of 30 seeds at n = 100).
    const std::uint32_t others = list.live_size() - 1;
    const auto start = others > 0 ? std::uint32_t(node_.rng().below(others)) : 0;
    for (std::uint32_t k = 0; k < others; ++k) {
      node_.send_heartbeat(fx, list.address(1 + (start + k) % others), f);
    }
    // Failed members are still heartbeated: if they were only slow, they hear us and we them.
    for (std::uint32_t slot = 1; slot < list.record_count(); ++slot) {
      if (list.at(slot).state == MemberState::failed) {
        node_.send_heartbeat(fx, list.at(slot).address, f);
      }
    }
  }
};

// Gossip-style heartbeating judged by phi-accrual (Hayashibara et al. 2004; phi_accrual.h): each
// member's counter rises are the heartbeats of its own estimator, and the member is failed
// (locally, as gossip-style) once phi reaches phi_threshold instead of after a fixed T_fail.
// Rows, cleanup and the refusal to resurrect are gossip-style's (T_cleanup still derives from the
// automatic T_fail: it bounds how long stale counters circulate, which phi does not change).
class PhiHeartbeat final : public GossipHeartbeat {
 public:
  explicit PhiHeartbeat(MembershipNode& node) : GossipHeartbeat(node) {
    const MembershipConfig& c = node.config();
    params_.threshold = c.phi_threshold;
    params_.window = c.phi_window;
    params_.min_std_deviation = c.phi_min_std_deviation;
    params_.acceptable_pause = c.phi_acceptable_pause;
    params_.first_heartbeat_estimate = c.phi_first_heartbeat_estimate;
  }

  void on_member_added(NodeId id) override {
    if (std::uint32_t i = index_.find(id); i != FlatIndex::kMissing) estimators_[i].reset();
  }

 private:
  PhiAccrual& estimator(NodeId id) {
    std::uint32_t i = index_.find(id);
    if (i != FlatIndex::kMissing) return estimators_[i];
    if (!free_.empty()) {
      i = free_.back();
      free_.pop_back();
      estimators_[i] = PhiAccrual(params_);
    } else {
      i = std::uint32_t(estimators_.size());
      estimators_.emplace_back(params_);
    }
    index_.put(id, i);
    return estimators_[i];
  }

  bool timed_out(Time now, std::uint32_t slot, Duration t_fail) override {
    // Listed (through a join, an alive, a preload) but its counter never rose here: nothing to
    // fit, so gossip-style's T_fail.
    const std::uint32_t i = index_.find(node_.list().at(slot).id);
    if (i == FlatIndex::kMissing || !estimators_[i].heard()) {
      return now - node_.list().beat(slot).at > t_fail;
    }
    return !estimators_[i].available(now);
  }
  void on_rise(Time now, const MemberRecord& r) override { estimator(r.id).heartbeat(now); }
  void on_forget(NodeId id) override {
    std::uint32_t i = index_.find(id);
    if (i == FlatIndex::kMissing) return;
    index_.erase(id);
    estimators_[i] = PhiAccrual(params_);  // frees its window
    free_.push_back(i);
  }

  // Deviation from van Renesse: targets are drawn among the members whose counter rose here
  // within twice their mean interval (when there are enough of them), so gossip is not wasted
  // on members that have gone quiet while they are still listed. Without it, half the group
  // crashing halves the gossip reaching the living, doubles their inter-arrival times, and
  // phi (fitted to the old times) fails live members (accuracy 0.92 at N = 100).
  std::uint32_t pick(Time now, std::span<std::uint32_t> out) override {
    MemberList& list = node_.list();
    fresh_.clear();
    for (std::uint32_t i = 1; i < list.live_size(); ++i) {
      const MemberRecord& r = list.at(list.live_slot(i));
      const std::uint32_t k = index_.find(r.id);
      const double mean_ms = k == FlatIndex::kMissing || !estimators_[k].heard()
                                 ? double(params_.first_heartbeat_estimate.ns()) / 1e6
                                 : estimators_[k].mean_ms();
      const Time beat_at = list.beat(list.live_slot(i)).at;
      if (double((now - beat_at).ns()) / 1e6 <= 2.0 * mean_ms) fresh_.push_back(i);
    }
    if (fresh_.size() < out.size()) return GossipHeartbeat::pick(now, out);
    std::uint32_t n = 0;
    for (; n < out.size(); ++n) {  // a partial Fisher-Yates shuffle
      const auto j = n + std::uint32_t(node_.rng().below(fresh_.size() - n));
      std::swap(fresh_[n], fresh_[j]);
      out[n] = fresh_[n];
    }
    return n;
  }

  PhiAccrualParams params_;
  std::vector<std::uint32_t> fresh_;  // scratch for pick()
  FlatIndex index_;  // member id -> estimators_ index
  std::vector<PhiAccrual> estimators_;
  std::vector<std::uint32_t> free_;
};

}  // namespace

std::unique_ptr<FailureDetector> make_phi_detector(MembershipNode& node) {
  return std::make_unique<PhiHeartbeat>(node);
}

std::unique_ptr<FailureDetector> make_gossip_heartbeat_detector(MembershipNode& node) {
  return std::make_unique<GossipHeartbeat>(node);
}

std::unique_ptr<FailureDetector> make_all_to_all_detector(MembershipNode& node) {
  return std::make_unique<AllToAll>(node);
}

}  // namespace grapevine::detail
