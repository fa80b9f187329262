#include "core/membership/heartbeat.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/membership/membership_node.h"
#include "core/targets.h"

namespace grapevine::detail {
namespace {

// Shared by both heartbeat detectors: the tick, the counter, and the timeouts.
class HeartbeatBase : public FailureDetector {
 public:
  explicit HeartbeatBase(MembershipNode& node) : node_(node) {}
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
    MemberRecord& self = node_.list().self();
    ++self.heartbeat;
    self.heartbeat_at = now;
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
      if (r.state == MemberState::alive && now - r.heartbeat_at > t_fail) {
        node_.mark_failed_locally(now, slot, fx);
      } else if (r.state == MemberState::failed && forget_after_cleanup() &&
                 now - r.heartbeat_at > t_cleanup) {
        forget.push_back(r.id);
      }
    }
    for (NodeId id : forget) list.remove(id);
  }

  /// A fresher heartbeat for the member in `slot`.
  void heard(Time now, std::uint32_t slot, std::uint64_t counter, Effects& fx) {
    MemberRecord& r = node_.list().at(slot);
    if (counter <= r.heartbeat) return;
    if (r.state == MemberState::failed) {
      if (forget_after_cleanup()) return;  // kept, ignored, until cleanup
      node_.revive_locally(now, slot, fx);
    }
    r.heartbeat = counter;
    r.heartbeat_at = now;
  }

  MembershipNode& node_;
  Ticker ticker_;
  bool stopped_ = false;
};

class GossipHeartbeat final : public HeartbeatBase {
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

  void beat(Time /*now*/, Effects& fx) override {
    MemberList& list = node_.list();
    if (list.live_size() < 2) return;
    // The rows: every live member with its counter (failed rows are not gossiped).
    std::vector<wire::HeartbeatEntry> rows;
    rows.reserve(list.live_size());
    for (std::uint32_t i = 0; i < list.live_size(); ++i) {
      const MemberRecord& r = list.at(list.live_slot(i));
      rows.push_back(wire::HeartbeatEntry{r.id, r.address, r.heartbeat, false});
    }
    std::uint32_t targets[16];
    const std::uint32_t want = std::min<std::uint32_t>(node_.config().heartbeat_fanout, 16);
    std::uint32_t n = pick_targets(list, 0, false, node_.rng(), std::span(targets, want));
    for (std::uint32_t t = 0; t < n; ++t) node_.send_hb_rows(fx, list.address(targets[t]), rows);
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
    const wire::HeartbeatFrame f{node_.self_id(), list.self().heartbeat};
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

}  // namespace

std::unique_ptr<FailureDetector> make_gossip_heartbeat_detector(MembershipNode& node) {
  return std::make_unique<GossipHeartbeat>(node);
}

std::unique_ptr<FailureDetector> make_all_to_all_detector(MembershipNode& node) {
  return std::make_unique<AllToAll>(node);
}

}  // namespace grapevine::detail
