// LiveCluster: a small test DSL over grapevine::Runtime. N nodes in one process on 127.0.0.1,
// every port picked by the kernel (port 0), driven from the test thread: run_for() and
// run_until() turn the loop in short slices and look at the nodes in between, so every check
// runs on the loop thread and needs no locking. Every membership event and delivery is recorded
// with the monotonic time it happened at.
//
// The detection and spread bounds below are derived from the config, not tuned to pass; each
// says which protocol steps it adds up.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/membership/suspicion.h"
#include "grapevine/runtime.h"

namespace grapevine::testing {

struct Recorded {
  Time at;
  EventKind kind;
  std::string subject;
};

struct Delivered {
  Time at;
  MessageId id;
  std::string payload;
};

/// memberlist's Local timings (suspicion_mult 3, one indirect check, retransmit_mult 2) with every
/// duration divided by `divisor`, so a detection takes ~2 s of wall time rather than ~8 s. The
/// probe timeout stays at least 100 ms: a loaded CI machine (ASan, parallel tests) must not
/// turn scheduling delays into missed acks.
inline NodeConfig fast_local_config(std::int64_t divisor = 4) {
  NodeConfig c;
  c.membership = MembershipConfig::local();
  MembershipConfig& m = c.membership;
  m.detector = Detector::lifeguard;
  m.probe_interval = m.probe_interval / divisor;
  m.probe_timeout = std::max(m.probe_timeout / divisor, Duration::milliseconds(100));
  m.gossip_interval = m.gossip_interval / divisor;
  m.gossip_to_the_dead = m.gossip_to_the_dead / divisor;
  m.push_pull_interval = m.push_pull_interval / divisor;
  m.reconnect_interval = m.reconnect_interval / divisor;
  m.join_retry_interval = m.join_retry_interval / divisor;
  c.multicast.protocol = MulticastProtocolKind::pushpull;
  c.multicast.period = Duration::milliseconds(100);
  return c;
}

inline std::int64_t ceil_log2(std::size_t n) {
  std::int64_t k = 0;
  while ((std::size_t(1) << k) < n) ++k;
  return k;
}

/// Slack for the machine itself: thread scheduling, a sanitizer build, other tests beside us.
inline constexpr Duration kMachineSlack = Duration::seconds(1);

/// Time for an update (alive, suspect, dead, left) to reach every one of `n` members: one probe
/// period (it rides the next ping or ack) plus 2 ceil(log2 n) gossip rounds (an epidemic with
/// gossip_nodes >= 1 targets per round doubles at least every round; twice that for stragglers),
/// plus one anti-entropy round: an update is retransmitted only retransmit_mult x
/// ceil(log10(n+1)) times, some of them to members already dead (gossip_to_the_dead), so in a
/// small group a member may miss the gossip and learn it at its next push-pull.
inline Duration spread_bound(const MembershipConfig& c, std::size_t n) {
  return c.probe_interval + c.gossip_interval * (2 * ceil_log2(n)) + c.push_pull_interval +
         kMachineSlack;
}

/// Crash to "failed" at every live member of a group of `n` (SWIM / Lifeguard), summing:
///  - the first probe of the dead member: (n-1) probe periods (each of the n-1 others probes
///    every member once per round of n-1 periods, in its own random order);
///  - that probe failing: one probe period (probe timeout, then the indirect probes until the
///    period ends);
///  - the suspicion timeout at its longest: Lifeguard's max with no confirmation, that is
///    suspicion_max_timeout_mult x suspicion_mult x max(1, log10 n) x probe_interval (SWIM: the
///    min), as src/core/membership/suspicion.h computes it;
///  - the "dead" news spreading: spread_bound().
inline Duration failure_detection_bound(const MembershipConfig& c, std::size_t n) {
  const Duration min = detail::suspicion_min(c.suspicion_mult, n, c.probe_interval);
  const Duration suspicion =
      c.detector == Detector::lifeguard ? min * std::int64_t(c.suspicion_max_timeout_mult) : min;
  return c.probe_interval * std::int64_t(n - 1) + c.probe_interval + suspicion +
         spread_bound(c, n);
}

/// A join through one seed converging at every member: the joiner's first push-pull (at once,
/// or after a join retry), then the seed's alive announcement spreading (spread_bound, which
/// includes an anti-entropy round for anything the gossip missed).
inline Duration convergence_bound(const MembershipConfig& c, std::size_t n) {
  return c.join_retry_interval + spread_bound(c, n);
}

/// A gossip multicast reaching all `n` members: 2 ceil(log2 n) + 4 periods (push-pull's
/// infection at least doubles per period) plus slack.
inline Duration multicast_bound(const MulticastConfig& c, std::size_t n) {
  return c.period * (2 * ceil_log2(n) + 4) + kMachineSlack;
}

class LiveCluster {
 public:
  LiveCluster(std::size_t n, const NodeConfig& base, const RuntimeOptions& options = {})
      : runtime_(options), events_(n), deliveries_(n) {
    nodes_.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      NodeConfig c = base;
      c.membership.name = name(i);
      NodeCallbacks cb;
      cb.on_member_event = [this, i](const Event& e) {
        events_[i].push_back(Recorded{Runtime::now(), e.kind, std::string(e.subject_name)});
      };
      cb.on_delivery = [this, i](const MessageId& id, std::span<const std::byte> payload,
                                 std::uint32_t) {
        deliveries_[i].push_back(Delivered{
            Runtime::now(), id,
            std::string(reinterpret_cast<const char*>(payload.data()), payload.size())});
      };
      auto h = runtime_.add_node(c, *Address::parse("127.0.0.1:0"), std::move(cb));
      if (!h) {
        ADD_FAILURE() << "add_node " << i << ": " << h.error().detail;
      }
      nodes_.push_back(h ? *h : nullptr);
    }
  }

  [[nodiscard]] static std::string name(std::size_t i) { return "n" + std::to_string(i); }
  [[nodiscard]] std::size_t size() const { return nodes_.size(); }
  [[nodiscard]] bool ok() const {
    return std::all_of(nodes_.begin(), nodes_.end(), [](auto* p) { return p != nullptr; });
  }
  NodeHandle& node(std::size_t i) { return *nodes_[i]; }
  Runtime& runtime() { return runtime_; }
  const std::vector<Recorded>& events(std::size_t i) const { return events_[i]; }
  const std::vector<Delivered>& deliveries(std::size_t i) const { return deliveries_[i]; }

  /// Every node but `seed` joins through `seed`'s address.
  void join_all(std::size_t seed = 0) {
    const Address a = node(seed).address();
    for (std::size_t i = 0; i < size(); ++i) {
      if (i != seed) {
        EXPECT_TRUE(node(i).join(std::span(&a, 1))) << name(i);
      }
    }
  }

  void run_for(Duration d) { runtime_.run_for(d); }

  /// Turns the loop in slices of `step` until `done()` holds; returns how long that took, or
  /// nothing if `timeout` passed first.
  std::optional<Duration> run_until(const std::function<bool()>& done, Duration timeout,
                                    Duration step = Duration::milliseconds(20)) {
    const Time t0 = Runtime::now();
    while (!done()) {
      if (Runtime::now() - t0 >= timeout) return std::nullopt;
      runtime_.run_for(step);
    }
    return Runtime::now() - t0;
  }

  /// `subject`'s state in node `observer`'s list (nothing if unknown there).
  std::optional<MemberState> state_of(std::size_t observer, std::size_t subject) {
    for (const MemberInfo& m : node(observer).members()) {
      if (m.name == name(subject)) return m.state;
    }
    return std::nullopt;
  }

  /// Every node in `observers` lists every node in `subjects` in state `state`.
  bool all_see(const std::vector<std::size_t>& observers, const std::vector<std::size_t>& subjects,
               MemberState state) {
    for (std::size_t o : observers) {
      for (std::size_t s : subjects) {
        if (state_of(o, s) != state) return false;
      }
    }
    return true;
  }

  /// Every running node lists exactly the n members, all alive.
  bool converged() {
    const auto all = indices();
    for (std::size_t i : all) {
      if (node(i).members().size() != size()) return false;
    }
    return all_see(all, all, MemberState::alive);
  }

  /// 0..n-1 without the listed ones.
  std::vector<std::size_t> indices(const std::vector<std::size_t>& except = {}) const {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < size(); ++i) {
      if (std::find(except.begin(), except.end(), i) == except.end()) out.push_back(i);
    }
    return out;
  }

  /// When node `observer` first emitted `kind` about `subject` (nothing if never).
  std::optional<Time> first_event(std::size_t observer, EventKind kind, std::size_t subject) const {
    for (const Recorded& r : events_[observer]) {
      if (r.kind == kind && r.subject == name(subject)) return r.at;
    }
    return std::nullopt;
  }

  /// How many `kind` events about anyone but `except` every node emitted in total.
  std::size_t count_events(EventKind kind, const std::vector<std::size_t>& except = {}) const {
    std::size_t c = 0;
    for (const auto& list : events_) {
      for (const Recorded& r : list) {
        bool skip = false;
        for (std::size_t e : except) skip = skip || r.subject == name(e);
        if (r.kind == kind && !skip) ++c;
      }
    }
    return c;
  }

 private:
  Runtime runtime_;
  std::vector<NodeHandle*> nodes_;
  std::vector<std::vector<Recorded>> events_;
  std::vector<std::vector<Delivered>> deliveries_;
};

}  // namespace grapevine::testing
