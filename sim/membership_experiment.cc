#include "sim/membership_experiment.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <limits>
#include <map>

#include "core/membership/membership_node.h"
#include "sim/stats.h"
#include "util/rng.h"
#include "wire/native.h"
#include "wire/native_membership.h"

namespace grapevine::sim {
namespace {

constexpr double kNever = std::numeric_limits<double>::infinity();

struct Roles {
  std::vector<NodeIndex> crashed, leavers, slow;
  std::vector<std::uint8_t> role;  // 0 survivor, 1 crashed, 2 leaver (slow ones are survivors)
  std::vector<bool> is_slow;
};

// Distinct random members for each role; the introducer (0) always survives.
Roles assign_roles(const MembershipExperiment& e, Rng& rng) {
  Roles r;
  r.role.assign(e.nodes, 0);
  r.is_slow.assign(e.nodes, false);
  std::vector<NodeIndex> pool;
  for (NodeIndex i = 1; i < e.nodes; ++i) pool.push_back(i);
  rng.shuffle(std::span(pool));
  std::size_t next = 0;
  auto take = [&](std::uint32_t k, std::vector<NodeIndex>& out) {
    for (std::uint32_t j = 0; j < k && next < pool.size(); ++j) out.push_back(pool[next++]);
  };
  take(e.fail, r.crashed);
  take(e.leave, r.leavers);
  take(e.slow, r.slow);
  for (NodeIndex i : r.crashed) r.role[i] = 1;
  for (NodeIndex i : r.leavers) r.role[i] = 2;
  for (NodeIndex i : r.slow) r.is_slow[i] = true;
  return r;
}

// ---- own probes (SWIM's per-member bound) ----------------------------------------------------

using ProbeSink = std::function<void(NodeIndex prober, NodeId target, Time at)>;

// Passes every effect on; reports each datagram that carries a ping addressed to its target.
class TapEffects final : public Effects {
 public:
  TapEffects(Effects& inner, NodeIndex self, Time now, const ProbeSink& sink)
      : inner_(inner), self_(self), now_(now), sink_(sink) {}
  void send(const Address& to, std::span<const std::byte> datagram) override {
    wire::FrameIterator it(datagram);
    wire::Frame f;
    while (it.next(f)) {
      if (f.type != std::uint8_t(wire::MemberFrame::ping)) continue;
      auto ping = wire::decode_ping(f.body);
      if (ping && ping->target == node_id_of(to)) sink_(self_, ping->target, now_);
      break;
    }
    inner_.send(to, datagram);
  }
  void emit(const Event& e) override { inner_.emit(e); }
  void send_stream(const Address& to, std::span<const std::byte> m) override {
    inner_.send_stream(to, m);
  }
  void reply_stream(StreamId s, std::span<const std::byte> m) override {
    inner_.reply_stream(s, m);
  }

 private:
  Effects& inner_;
  NodeIndex self_;
  Time now_;
  const ProbeSink& sink_;
};

// A membership machine whose timer calls go through TapEffects. A SWIM node starts its own
// probes only from on_timeout; the pings it relays for a ping-req leave from on_datagram, so the
// pings seen here are exactly its own probes.
class ProbeTap final : public Machine {
 public:
  ProbeTap(std::unique_ptr<Machine> inner, NodeIndex self, ProbeSink sink)
      : inner_(std::move(inner)), self_(self), sink_(std::move(sink)) {}
  void on_datagram(Time now, const Address& from, std::span<const std::byte> bytes,
                   Effects& fx) override {
    inner_->on_datagram(now, from, bytes, fx);
  }
  void on_stream(Time now, const Address& from, std::span<const std::byte> message, StreamId stream,
                 Effects& fx) override {
    inner_->on_stream(now, from, message, stream, fx);
  }
  void on_timeout(Time now, Effects& fx) override {
    TapEffects tap(fx, self_, now, sink_);
    inner_->on_timeout(now, tap);
  }
  [[nodiscard]] Time next_deadline() const noexcept override { return inner_->next_deadline(); }

 private:
  std::unique_ptr<Machine> inner_;
  NodeIndex self_;
  ProbeSink sink_;
};

// ---- lagging members (slow message processing) -------------------------------------------------

// Holds each datagram for `lag` once switched on, then hands it to the machine in arrival order;
// the machine's own timers run on time (as in memberlist, where timers do not wait for the UDP
// handler). Streams pass straight through (memberlist serves TCP on other goroutines).
class LagTap final : public Machine {
 public:
  LagTap(std::unique_ptr<Machine> inner, Duration lag) : inner_(std::move(inner)), lag_(lag) {}
  void start_lagging() { lagging_ = true; }

  void on_datagram(Time now, const Address& from, std::span<const std::byte> bytes,
                   Effects& fx) override {
    if (!lagging_) {
      inner_->on_datagram(now, from, bytes, fx);
      return;
    }
    held_.push_back(Held{now + lag_, from, std::vector<std::byte>(bytes.begin(), bytes.end())});
  }
  void on_stream(Time now, const Address& from, std::span<const std::byte> message, StreamId stream,
                 Effects& fx) override {
    inner_->on_stream(now, from, message, stream, fx);
  }
  void on_timeout(Time now, Effects& fx) override {
    while (!held_.empty() && held_.front().release <= now) {
      const Held h = std::move(held_.front());
      held_.pop_front();
      inner_->on_datagram(now, h.from, h.bytes, fx);
    }
    if (now >= inner_->next_deadline()) inner_->on_timeout(now, fx);
  }
  [[nodiscard]] Time next_deadline() const noexcept override {
    Time t = inner_->next_deadline();
    return held_.empty() ? t : std::min(t, held_.front().release);
  }

 private:
  struct Held {
    Time release;
    Address from;
    std::vector<std::byte> bytes;
  };
  std::unique_ptr<Machine> inner_;
  Duration lag_;
  bool lagging_ = false;
  std::deque<Held> held_;
};

bool is_swim(Detector d) {
  return d == Detector::swim || d == Detector::lifeguard;
}

// ---- heartbeat spread (gossip heartbeat) ------------------------------------------------------

// Follows one heartbeat of each of a few survivors until every survivor holds that counter (or
// a later one), then the next beat. Reads the members' lists; changes nothing.
class HeartbeatSpread {
 public:
  HeartbeatSpread(MembershipCluster& c, std::vector<NodeIndex> survivors, std::size_t subjects)
      : c_(c), survivors_(std::move(survivors)) {
    for (std::size_t k = 0; k < std::min(subjects, survivors_.size()); ++k) {
      Track t;
      t.subject = survivors_[k * survivors_.size() / std::min(subjects, survivors_.size())];
      t.base = core(t.subject).list().beat(0).counter;
      tracks_.push_back(t);
    }
  }

  void poll(Time now, MembershipResult& r) {
    for (Track& t : tracks_) {
      const detail::MemberBeat& self = core(t.subject).list().beat(0);
      if (t.counter == 0) {
        if (self.counter <= t.base) continue;
        t.counter = self.counter;
        t.beat_at = self.at;
        t.latest = t.beat_at;
        t.seen.assign(survivors_.size(), false);
        t.remaining = survivors_.size() - 1;
      }
      collect(t);
      if (t.remaining == 0) {
        r.heartbeat_spread_samples.push_back((t.latest - t.beat_at).to_seconds());
      } else if (now - t.beat_at > Duration::seconds(60)) {
        ++r.heartbeat_spreads_unfinished;
      } else {
        continue;
      }
      t.base = self.counter;  // wait for a beat after this one
      t.counter = 0;
    }
  }

 private:
  struct Track {
    NodeIndex subject = 0;
    std::uint64_t base = 0, counter = 0;  // counter 0: waiting for the subject's next beat
    Time beat_at, latest;
    std::vector<bool> seen;
    std::size_t remaining = 0;
  };

  detail::MembershipNode& core(NodeIndex i) {
    return dynamic_cast<detail::MembershipNode&>(c_.node(i));
  }

  void collect(Track& t) {
    const NodeId id = node_id_of(sim_address(t.subject));
    for (std::size_t k = 0; k < survivors_.size(); ++k) {
      if (t.seen[k] || survivors_[k] == t.subject) continue;
      detail::MemberList& list = core(survivors_[k]).list();
      const std::uint32_t slot = list.find(id);
      if (slot == detail::MemberList::kNone || list.beat(slot).counter < t.counter) continue;
      t.seen[k] = true;
      --t.remaining;
      // The local time the counter last rose: exact unless a later one also came within the
      // last poll interval.
      t.latest = std::max(t.latest, list.beat(slot).at);
    }
  }

  MembershipCluster& c_;
  std::vector<NodeIndex> survivors_;
  std::vector<Track> tracks_;
};

// ---- bookkeeping ------------------------------------------------------------------------------

// Per (observer, watched subject) first times of each kind of event.
struct Matrix {
  std::size_t columns = 0;
  std::vector<double> cells;
  void reset(std::size_t rows, std::size_t cols) {
    columns = cols;
    cells.assign(rows * cols, kNever);
  }
  double& at(NodeIndex row, std::int32_t col) {
    return cells[std::size_t(row) * columns + std::size_t(col)];
  }
  void first(NodeIndex row, std::int32_t col, double t) {
    double& cell = at(row, col);
    cell = std::min(cell, t);
  }
};

struct Tracking {
  Roles roles;
  std::vector<std::int32_t> watched;  // subject -> column (crashed, then leavers), or -1
  std::vector<NodeIndex> columns;
  Matrix failed, left, suspected, own_probe;
  std::vector<std::uint32_t> false_by;
  std::map<std::pair<NodeIndex, NodeIndex>, double> open_false;  // (observer, subject) -> time
  double fail_at = 0;
};

void observe(Tracking& k, MembershipResult& r, double t, NodeIndex observer, NodeIndex subject,
             EventKind kind) {
  const Roles& roles = k.roles;
  const bool gone = t >= k.fail_at && roles.role[subject] != 0;
  const std::int32_t col = k.watched[subject];
  if (kind == EventKind::failed) {
    if (!gone) {
      ++r.false_failures;
      ++k.false_by[observer];
      k.open_false.emplace(std::make_pair(observer, subject), t);
      if (roles.is_slow[subject]) ++r.false_failures_at_slow;
      if (roles.is_slow[observer]) ++r.false_failures_by_slow;
    } else if (roles.role[subject] == 2) {
      ++r.leaves_as_failed;
    } else {
      k.failed.first(observer, col, t);
    }
  } else if (kind == EventKind::suspected && gone && roles.role[subject] == 1) {
    k.suspected.first(observer, col, t);
  } else if (kind == EventKind::left && gone && roles.role[subject] == 2) {
    k.left.first(observer, col, t);
  } else if (kind == EventKind::joined && gone && roles.role[subject] == 1) {
    // Back after this observer had marked it failed. (A first join of a member that crashed
    // meanwhile is news arriving late, not a resurrection.)
    if (k.failed.at(observer, col) < kNever) ++r.resurrections;
  } else if (kind == EventKind::joined) {
    k.open_false.erase(std::make_pair(observer, subject));  // taken back
  }
}

void detection_metrics(Tracking& k, const std::vector<NodeIndex>& survivors, Duration period,
                       MembershipResult& r) {
  std::uint64_t detected = 0;
  for (NodeIndex s : k.roles.crashed) {
    const std::int32_t col = k.watched[s];
    double earliest = kNever, latest = 0, suspected = kNever;
    for (NodeIndex o : survivors) {
      const double t = k.failed.at(o, col), ts = k.suspected.at(o, col);
      if (t < kNever) ++detected;
      earliest = std::min(earliest, t);
      latest = std::max(latest, t);
      suspected = std::min(suspected, ts);
      if (t < kNever && ts <= t) r.suspicion_to_failure_samples.push_back(t - ts);
      if (k.own_probe.cells.empty()) continue;
      const double probe = k.own_probe.at(o, col);
      if (probe < kNever) {
        r.own_probe_periods.push_back((probe - k.fail_at) / period.to_seconds() + 1.0);
      } else {
        ++r.own_probe_pairs_missing;
      }
    }
    if (earliest < kNever) r.detection_first_samples.push_back(earliest - k.fail_at);
    if (suspected < kNever) r.suspicion_first_samples.push_back(suspected - k.fail_at);
    if (latest < kNever && !survivors.empty()) {
      r.detection_all_samples.push_back(latest - k.fail_at);
      ++r.crashes_detected_by_all;
    }
  }
  const double pairs = double(survivors.size()) * double(k.roles.crashed.size());
  r.completeness = pairs > 0 ? double(detected) / pairs : 1.0;
}

void leave_metrics(Tracking& k, const std::vector<NodeIndex>& survivors, MembershipResult& r) {
  std::uint64_t saw_left = 0;
  for (NodeIndex s : k.roles.leavers) {
    double latest = 0;
    for (NodeIndex o : survivors) {
      const double t = k.left.at(o, k.watched[s]);
      if (t < kNever) ++saw_left;
      latest = std::max(latest, t);
    }
    if (latest < kNever && !survivors.empty()) r.leave_all_samples.push_back(latest - k.fail_at);
  }
  const double leave_pairs = double(survivors.size()) * double(k.roles.leavers.size());
  r.leaves_seen_as_left = leave_pairs > 0 ? double(saw_left) / leave_pairs : 1.0;
}

bool views_agree(MembershipCluster& c, const Roles& roles,
                 const std::vector<NodeIndex>& survivors) {
  for (NodeIndex o : survivors) {
    const Group& g = c.node(o).live_group();
    std::uint32_t matched = 0;
    for (std::uint32_t k = 0; k < g.size(); ++k) {
      NodeIndex j = c.index_of(node_id_of(g.address(k)));
      if (j < roles.role.size() && roles.role[j] == 0) ++matched;
    }
    if (matched != survivors.size() || g.size() != survivors.size()) return false;
  }
  return true;
}

struct Sent {
  std::uint64_t messages = 0, bytes = 0;
};

Sent sent_by_all(MembershipCluster& c) {
  Sent s;
  for (NodeIndex i = 0; i < c.size(); ++i) {
    const MembershipStats& st = c.node(i).stats();
    s.messages += st.datagrams_sent + st.streams_sent;
    s.bytes += st.bytes_sent + st.stream_bytes_sent;
  }
  return s;
}

void load_metrics(MembershipCluster& c, const MembershipExperiment& e, const Sent& at_fail,
                  MembershipResult& r) {
  const Sent total = sent_by_all(c);
  for (NodeIndex i = 0; i < e.nodes; ++i) {
    const MembershipStats& s = c.node(i).stats();
    r.suspicions += s.suspicions;
    r.refutations += s.refutations;
    r.probes += s.probes;
    r.probes_failed += s.probes_failed;
    r.indirect_probes += s.indirect_probes;
    r.nacks += s.nacks_received;
    r.stream_pings += s.stream_pings;
    r.stream_ping_acks += s.stream_ping_acks;
    r.push_pulls += s.push_pulls;
  }
  const double member_seconds = double(e.nodes) * e.duration.to_seconds();
  r.messages_per_member_per_second = double(total.messages) / member_seconds;
  r.bytes_per_member_per_second = double(total.bytes) / member_seconds;
  const double steady_seconds = double(e.nodes - r.crashed) * (e.duration - e.fail_at).to_seconds();
  r.steady_messages_per_member_per_second =
      double(total.messages - at_fail.messages) / steady_seconds;
  r.steady_bytes_per_member_per_second = double(total.bytes - at_fail.bytes) / steady_seconds;
}

}  // namespace

MembershipResult run_membership(const MembershipExperiment& e,
                                const std::function<void(const MembershipEventRecord&)>& on_event) {
  const auto wall_start = std::chrono::steady_clock::now();
  MembershipResult r;
  r.nodes = e.nodes;
  Tracking k;
  k.fail_at = e.fail_at.to_seconds();
  MembershipClusterOptions o;
  o.nodes = e.nodes;
  o.config = e.config;
  LinkProfile link;
  link.latency_min = e.latency_min;
  link.latency_max = e.latency_max;
  link.loss = e.loss;
  link.stream_loss = e.stream_loss;
  o.network = NetworkConfig::uniform(link);
  o.seed = e.seed;
  o.join_spread = e.join_spread;
  o.preloaded = e.preloaded;
  // Roles first (their own seed), so lagging members can be wrapped as they are built.
  Rng rng(derive_seed(e.seed, 0x726f6c65));
  k.roles = assign_roles(e, rng);
  const Roles& roles = k.roles;
  std::function<NodeIndex(NodeId)> index_of;  // set once the cluster exists
  ProbeSink sink;
  if (is_swim(e.config.detector)) {
    sink = [&](NodeIndex prober, NodeId target, Time at) {
      const double t = at.to_seconds();
      const NodeIndex j = index_of(target);
      if (t < k.fail_at || j >= e.nodes || k.roles.role[j] != 1) return;
      k.own_probe.first(prober, k.watched[j], t);
    };
  }
  std::vector<LagTap*> laggers;
  const bool lag = e.slow_lag > Duration::zero();
  if (sink || (lag && e.slow > 0)) {
    o.wrap = [&](std::unique_ptr<Membership> m, NodeIndex i) -> std::unique_ptr<Machine> {
      std::unique_ptr<Machine> top = std::move(m);
      if (sink) top = std::make_unique<ProbeTap>(std::move(top), i, sink);
      if (lag && roles.is_slow[i]) {
        auto tap = std::make_unique<LagTap>(std::move(top), e.slow_lag);
        laggers.push_back(tap.get());
        top = std::move(tap);
      }
      return top;
    };
  }
  MembershipCluster c(o);
  index_of = [&c](NodeId id) { return c.index_of(id); };

  // Per (observer, subject) first event times, only for subjects that crash or leave.
  k.watched.assign(e.nodes, -1);
  for (NodeIndex s : roles.crashed) {
    k.watched[s] = std::int32_t(k.columns.size()), k.columns.push_back(s);
  }
  for (NodeIndex s : roles.leavers) {
    k.watched[s] = std::int32_t(k.columns.size()), k.columns.push_back(s);
  }
  for (Matrix* m : {&k.failed, &k.left, &k.suspected}) m->reset(e.nodes, k.columns.size());
  if (is_swim(e.config.detector)) k.own_probe.reset(e.nodes, k.columns.size());
  k.false_by.assign(e.nodes, 0);

  c.sim().set_observer([&](Time now, NodeIndex observer, const Event& ev) {
    if (ev.kind == EventKind::delivered) return;
    NodeIndex subject = c.index_of(ev.subject_id);
    MembershipEventRecord rec{now, observer, subject, ev.kind};
    if (on_event) on_event(rec);
    if (subject >= e.nodes) return;
    observe(k, r, now.to_seconds(), observer, subject, ev.kind);
  });

  // Join phase: measure convergence (everyone lists everyone alive).
  for (Time t = Time::zero(); t < Time::zero() + e.fail_at;) {
    t = std::min(Time::zero() + e.fail_at, t + Duration::milliseconds(250));
    c.sim().run_until(t);
    if (r.join_convergence_seconds < 0) {
      bool all = true;
      for (NodeIndex i = 0; i < e.nodes && all; ++i) {
        all = c.node(i).member_count(MemberState::alive) == e.nodes;
      }
      if (all) r.join_convergence_seconds = t.to_seconds();
    }
  }
  const Sent at_fail = sent_by_all(c);
  for (NodeIndex i : roles.crashed) c.crash(i);
  for (NodeIndex i : roles.leavers) c.leave(i);
  if (lag) {
    for (LagTap* t : laggers) t->start_lagging();
  } else {
    for (NodeIndex i : roles.slow) c.set_slow(i, e.slow_service);
  }

  std::vector<NodeIndex> survivors;
  for (NodeIndex i = 0; i < e.nodes; ++i) {
    if (roles.role[i] == 0) survivors.push_back(i);
  }
  if (e.config.detector == Detector::gossip_heartbeat || e.config.detector == Detector::phi) {
    HeartbeatSpread spread(c, survivors, 10);
    for (Time t = Time::zero() + e.fail_at; t < Time::zero() + e.duration;) {
      t = std::min(Time::zero() + e.duration, t + Duration::milliseconds(50));
      c.sim().run_until(t);
      spread.poll(t, r);
    }
  } else {
    c.sim().run_until(Time::zero() + e.duration);
  }

  // ---- metrics ----
  r.crashed = std::uint32_t(roles.crashed.size());
  r.left = std::uint32_t(roles.leavers.size());
  r.slow = std::uint32_t(roles.slow.size());
  r.survivors = std::uint32_t(survivors.size());
  detection_metrics(k, survivors, e.config.probe_interval, r);
  leave_metrics(k, survivors, r);
  std::uint64_t accurate = 0;
  for (NodeIndex i : survivors) accurate += k.false_by[i] == 0 ? 1 : 0;
  r.accuracy = survivors.empty() ? 1.0 : double(accurate) / double(survivors.size());
  const double heal_grace = e.duration.to_seconds() - 30.0;
  for (const auto& [pair, t] : k.open_false) {
    if (t < heal_grace && roles.role[pair.first] == 0) ++r.unhealed_false_failures;
  }
  r.final_views_agree = views_agree(c, roles, survivors);
  if (!r.detection_first_samples.empty()) {
    r.detection_first_seconds_p50 = percentile(r.detection_first_samples, 0.5);
    r.detection_first_seconds_p99 = percentile(r.detection_first_samples, 0.99);
  }
  if (!r.detection_all_samples.empty()) {
    r.detection_all_seconds_p50 = percentile(r.detection_all_samples, 0.5);
    r.detection_all_seconds_p99 = percentile(r.detection_all_samples, 0.99);
  }
  load_metrics(c, e, at_fail, r);
  r.events = c.sim().counters().events;
  r.delivery_hash = c.sim().delivery_hash();
  r.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return r;
}

}  // namespace grapevine::sim
