// grapevine demo: N nodes in this process on real loopback sockets. Shows, as it happens, joins
// converging, a multicast spreading, crashed members detected and a graceful leave, then a
// summary (a table, or one JSON object with --json).
//
// --membership consistent (Rapid): a crashed member is removed from the configuration rather
// than listed as failed, and a leaver removed with a `left` event; so "detected everywhere" means
// no live node lists it any more, "seen as left" counts the live nodes that got a `left` event
// about the leaver, and at the end every live node must be in one configuration
// (configurations_at_end == 1).
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "agent_config.h"
#include "base64.h"
#include "commands.h"
#include "grapevine/runtime.h"
#include "node_json.h"
#include "options.h"
#include "report.h"
#include "ui_server.h"

namespace grapevine::tools {
namespace {

struct DemoFlags {
  std::uint32_t nodes = 64;
  std::uint32_t crash = 2;
  bool json = false;
  std::string detector = "lifeguard";
  std::string profile = "lan";
  std::string multicast = "pushpull";
  std::string bind_ip = "127.0.0.1";
  std::uint64_t seed = 1;
  std::string multicast_period = "200ms";
  std::string steady;  // measure a quiet stretch after the join, before the faults
  std::uint32_t join_rate = 0;     // joins started per second; 0 = auto (join_rate_for)
  std::uint32_t seeds = 0;         // the first S nodes are the seeds; 0 = auto (seeds_for)
  std::uint32_t seed_answers = 0;  // join answers per second per seed; 0 = auto
  std::string bootstrap = "join";
  std::string membership = "eventual";
  std::vector<std::string> keys;  // --encrypt: seal every packet (docs/security.md)
  std::string ui;                 // --ui IP:PORT: the cluster as a picture in the browser
  std::string ui_token;           // --ui-token: needed for a non-loopback --ui
  std::string ui_wait = "0s";     // --ui-wait: wait this long for a browser before the scenario
  std::string turn_time_max = "500ms";  // RuntimeOptions::turn_time_max; "0" = off
  std::string shared_sockets = "auto";  // on|off|auto: RuntimeOptions::shared_sockets
  std::uint32_t packet_bytes = 1400;    // MembershipConfig::packet_budget_bytes
  std::string catch_up = "1s";          // MembershipConfig::churn_anti_entropy_delay; 0 = off
  std::string gossip_interval;          // MembershipConfig::gossip_interval; empty = the profile's
  std::uint32_t rumor_stop_after = MembershipConfig{}.rumor_stop_after;  // 0 = off
  std::uint32_t threads = 0;  // RuntimeOptions::threads; 0 = auto (threads_for)
  std::int64_t expected_members = -1;  // MembershipConfig::expected_members; -1 = --nodes
};

volatile sig_atomic_t g_demo_stop = 0;

// Defaults for large N (docs/performance.md, "The runtime"): a seed per 1,000 nodes, and joins
// at a rate the process sustains. A joiner's full-state push-pull grows with N (~50 B a member),
// and every join is news every member must hear, so the join's total work grows as N^2.
std::uint32_t seeds_for(std::uint32_t n) { return std::max<std::uint32_t>(1, n / 1000); }
// Above 5,000: 250,000 / N (25 a second at 10,000), as each join costs ~N; times the loop
// threads from 2,000 nodes (each serves its share). The demo paces the joins by the nodes'
// clock besides, so a process short of CPU slows them further.
std::uint32_t join_rate_for(std::uint32_t n, std::uint32_t threads) {
  if (n <= 1000) return 200;
  if (n <= 2000) return 100 * threads;
  if (n <= 5000) return 50 * threads;
  return std::max<std::uint32_t>(10, 250000 / n) * threads;
}

// --threads 0: one loop below 1,000 nodes (a loop idles at that size), else one per hardware
// thread, at most 8 (each loop thread hosts its share of the nodes: docs/performance.md).
std::uint32_t threads_for(std::uint32_t n) {
  if (n < 1000) return 1;
  return std::clamp<std::uint32_t>(std::thread::hardware_concurrency(), 1, 8);
}

// One UDP socket and one TCP listener per node, the streams' sockets (both ends in this
// process) and a margin.
rlim_t fds_needed(std::uint32_t nodes) { return rlim_t(nodes) * 2 + 512; }

// --shared-sockets auto: per-node sockets while the descriptor limit (hard) holds them, else
// every node on its own 127.0.0.0/8 address behind shared sockets (RuntimeOptions).
bool use_shared_sockets(const DemoFlags& f) {
  if (f.shared_sockets == "on") return true;
  if (f.shared_sockets == "off") return false;
  if (f.shared_sockets != "auto") {
    throw UsageError("--shared-sockets: expected auto|on|off, got '" + f.shared_sockets + "'");
  }
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) != 0) return false;
  return r.rlim_max != RLIM_INFINITY && r.rlim_max < fds_needed(f.nodes);
}

// Shared sockets: node i at --bind-ip + i, all within 127.0.0.0/8.
Address shared_address(const Address& base, std::uint32_t nodes, std::uint32_t i) {
  const std::uint64_t last = std::uint64_t(base.ipv4_u32()) + nodes - 1;
  if (base.family != 4 || base.ip[0] != 127 ||
      last > Address::ipv4(127, 255, 255, 254, 0).ipv4_u32()) {
    throw UsageError("--shared-sockets: --bind-ip + --nodes must stay within 127.0.0.0/8 (node i "
                     "is at --bind-ip + i)");
  }
  return Address::ipv4_u32(base.ipv4_u32() + i, 0);
}

// Thousands of nodes share one loop: a turn of seconds (the process short of CPU) is a stall of
// every node at once, so the nodes' clock advances at most --turn-time-max per turn and their
// timeouts stretch with it (RuntimeOptions::turn_time_max).
RuntimeOptions runtime_options(const DemoFlags& f) {
  RuntimeOptions o;
  o.turn_time_max = parse_duration("--turn-time-max", f.turn_time_max);
  if (o.turn_time_max < Duration::zero()) throw UsageError("--turn-time-max: must be >= 0");
  o.shared_sockets = use_shared_sockets(f);
  o.threads = f.threads != 0 ? f.threads : threads_for(f.nodes);
  return o;
}

// Raise the soft limit, or say why N nodes cannot be started.
void ensure_fd_limit(std::uint32_t nodes) {
  const rlim_t need = fds_needed(nodes);
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) != 0) return;
  if (r.rlim_cur >= need) return;
  rlimit want{std::min<rlim_t>(std::max(need, r.rlim_cur), r.rlim_max), r.rlim_max};
  if (r.rlim_max < need) {
    want = rlimit{need, need};  // raising the hard limit needs CAP_SYS_RESOURCE
  }
  if (::setrlimit(RLIMIT_NOFILE, &want) != 0 || want.rlim_cur < need) {
    throw UsageError("--nodes " + std::to_string(nodes) + " needs " + std::to_string(need) +
                     " file descriptors (2 per node + 512 for streams), but RLIMIT_NOFILE is " +
                     std::to_string(r.rlim_cur) + " (hard limit " + std::to_string(r.rlim_max) +
                     ") and cannot be raised here: run with a higher `ulimit -Hn` (root or "
                     "CAP_SYS_RESOURCE), or --shared-sockets on, or fewer than " +
                     std::to_string(r.rlim_max > 512 ? (r.rlim_max - 512) / 2 : 0) + " nodes");
  }
}

struct Crash {
  std::uint32_t node;
  Time at;
  double first = -1, all = -1;
};

class Demo {
 public:
  explicit Demo(const DemoFlags& f) : f_(f), rt_(runtime_options(f)) {}
  int run();

 private:
  int scenario();
  void say(const char* fmt, ...) __attribute__((format(printf, 2, 3))) {
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    std::FILE* out = f_.json ? stderr : stdout;
    std::fprintf(out, "[%6.2fs] %s\n", (Runtime::now() - start_).to_seconds(), line);
    std::fflush(out);
    if (ui_) ui_->publish("log", {{"text", line}});
  }
  // The nodes' callbacks (RuntimeOptions::threads: nodes on different loops call back at the
  // same time). Under cb_mu_: delivered_, crashes_' first detections, false_failures_,
  // saw_left_event_, watched_'s entries and the UI's events. Between run_for() calls only this
  // thread runs, and reads them without the lock.
  void on_member_event(std::uint32_t observer, const Event& e);
  void on_delivery(std::uint32_t node, const MessageId& id, std::uint32_t hops);
  std::mutex cb_mu_;
  // --ui: the browser view (tools/ui/demo.js). The snapshot is computed on this (the loop's)
  // thread every ui_tick() and handed to the UI server's thread under ui_mu_.
  void start_ui();
  void ui_tick(bool force = false);
  std::string ui_snapshot() const;
  void serve_until_signal();
  std::unique_ptr<UiServer> ui_;
  std::mutex ui_mu_;
  std::string ui_json_;
  Time ui_at_{};
  // How long the join may take, of the nodes' clock: the joins' own time twice, and a minute.
  [[nodiscard]] Duration join_patience() const {
    return Duration::seconds(60) +
           Duration::nanoseconds(std::int64_t(2e9 * f_.nodes / f_.join_rate));
  }
  // A step of wait(): 20 ms, or 100 ms from 1,000 nodes, where every step is a pause of all
  // the loop threads (RuntimeOptions::threads) and each waits for the slowest one's turn.
  [[nodiscard]] Duration wait_step() const {
    return Duration::milliseconds(f_.nodes < 1000 ? 20 : 100);
  }
  // Runs the loop in small steps until `done` holds or `timeout` passes (of the nodes' clock
  // with `node_clock`: a stalled process waits longer); returns the wall seconds it took, or -1.
  template <class Done>
  double wait(Done&& done, Duration timeout, bool node_clock = false) {
    const Time t0 = Runtime::now();
    const Time n0 = node_now();
    while ((node_clock ? node_now() - n0 : Runtime::now() - t0) < timeout) {
      if (done()) return (Runtime::now() - t0).to_seconds();
      rt_.run_for(wait_step());
      ui_tick();
    }
    return done() ? (Runtime::now() - t0).to_seconds() : -1;
  }
  bool all_see(std::uint32_t subject, MemberState s);
  // The crashed nodes and the leaver are watched through the events about them: each
  // observer's last word on each (alive when the watch starts). all_see() then reads one byte
  // per observer instead of copying every observer's member list (O(N^2) per check: at 5,000
  // nodes seconds per 20 ms step, during which the loop did not run).
  std::map<std::uint32_t, std::vector<MemberState>> watched_;
  void watch(std::uint32_t subject) { watched_[subject].assign(nodes_.size(), MemberState::alive); }
  void note_watched(std::uint32_t observer, const Event& e);
  // The clock the nodes see between loop turns (RuntimeOptions::turn_time_max).
  [[nodiscard]] Time node_now() const { return Runtime::now() - rt_.withheld(); }
  // Consistent mode: no active node other than `subject` lists it.
  bool none_lists(std::uint32_t subject);
  // Consistent mode: the configuration of every active node; returns the distinct ids.
  std::uint32_t report_configurations();
  void measure_steady(Duration d);
  struct Totals {
    double cpu_ms = 0;
    std::uint64_t messages = 0, bytes = 0;
    std::uint64_t streams = 0, stream_bytes = 0;  // of which over TCP (push-pull state sync)
    std::uint64_t rejected = 0, suspicions = 0;
  };
  Totals totals() const;
  nlohmann::json steady_;
  [[nodiscard]] bool active(std::uint32_t i) const { return nodes_[i]->running() && i != leaver_; }

  DemoFlags f_;
  Runtime rt_;
  std::vector<NodeHandle*> nodes_;
  std::map<NodeId, std::uint32_t> index_;
  std::map<MessageId, std::set<std::uint32_t>> delivered_;
  std::vector<Crash> crashes_;
  std::uint32_t leaver_ = UINT32_MAX;
  std::uint64_t false_failures_ = 0;
  double join_cpu_s_ = 0;           // CPU from the first join to convergence (or giving up)
  std::uint64_t failed_joins_ = 0;  // join() refused at once (e.g. no seed): counted, reported
  // Prints, for each node that does not yet list every member alive, how many it lists, which
  // members it lacks (up to 4) and its stream counters.
  void report_incomplete_join();
  // One line: joins started, lists complete, alive members listed (min / median), CPU, RSS.
  void report_join_progress(std::uint32_t started, double cpu_s);
  bool consistent_ = false;
  std::set<std::uint32_t> saw_left_event_;  // observers that got `left` about the leaver
  Time start_ = Runtime::now();
};

void Demo::on_delivery(std::uint32_t node, const MessageId& id, std::uint32_t hops) {
  std::lock_guard<std::mutex> lock(cb_mu_);
  delivered_[id].insert(node);
  if (ui_) ui_->publish("delivered", {{"node", node}, {"id", message_id_text(id)}, {"hops", hops}});
}

void Demo::on_member_event(std::uint32_t i, const Event& e) {
  const bool verdict = e.kind == EventKind::failed || e.kind == EventKind::left;
  const bool shown = ui_ && (verdict || e.kind == EventKind::suspected || e.kind == EventKind::alive);
  if (!verdict && !shown && watched_.empty()) return;  // most events: a join heard, no lock
  std::lock_guard<std::mutex> lock(cb_mu_);
  if (shown) {
    if (auto it = index_.find(e.subject_id); it != index_.end()) {
      ui_->publish("member", {{"observer", i}, {"subject", it->second},
                              {"kind", event_kind_name(e.kind)}});
    }
  }
  if (!watched_.empty()) note_watched(i, e);
  if (!verdict) return;
  auto it = index_.find(e.subject_id);
  if (it == index_.end()) return;
  const std::uint32_t s = it->second;
  if (e.kind == EventKind::left) {
    if (s == leaver_) saw_left_event_.insert(i);
    return;
  }
  if (nodes_[s]->running() && s != leaver_) ++false_failures_;
  for (Crash& c : crashes_) {
    if (c.node == s && c.first < 0) c.first = (Runtime::now() - c.at).to_seconds();
  }
}

void Demo::note_watched(std::uint32_t observer, const Event& e) {
  MemberState s;
  switch (e.kind) {
    case EventKind::joined:
    case EventKind::alive: s = MemberState::alive; break;
    case EventKind::suspected: s = MemberState::suspect; break;
    case EventKind::failed: s = MemberState::failed; break;
    case EventKind::left: s = MemberState::left; break;
    default: return;
  }
  auto it = index_.find(e.subject_id);
  if (it == index_.end()) return;
  if (auto w = watched_.find(it->second); w != watched_.end()) w->second[observer] = s;
}

bool Demo::all_see(std::uint32_t subject, MemberState s) {
  if (auto w = watched_.find(subject); w != watched_.end()) {
    for (std::uint32_t i = 0; i < nodes_.size(); ++i) {
      if (i != subject && active(i) && w->second[i] != s) return false;
    }
    return true;
  }
  const NodeId id = node_id_of(nodes_[subject]->address());
  for (std::uint32_t i = 0; i < nodes_.size(); ++i) {
    if (i == subject || !active(i)) continue;
    bool ok = false;
    for (const auto& m : nodes_[i]->members()) ok = ok || (m.id == id && m.state == s);
    if (!ok) return false;
  }
  return true;
}

bool Demo::none_lists(std::uint32_t subject) {
  const NodeId id = node_id_of(nodes_[subject]->address());
  for (std::uint32_t i = 0; i < nodes_.size(); ++i) {
    if (i == subject || !active(i)) continue;
    for (const auto& m : nodes_[i]->members()) {
      if (m.id == id) return false;
    }
  }
  return true;
}

std::uint32_t Demo::report_configurations() {
  std::map<std::uint64_t, std::vector<std::uint32_t>> by_id;
  for (std::uint32_t i = 0; i < nodes_.size(); ++i) {
    if (!active(i)) continue;
    const ConfigurationInfo c = nodes_[i]->membership().configuration();
    by_id[c.member ? c.id : 0].push_back(i);
  }
  for (const auto& [id, who] : by_id) {
    const ConfigurationInfo c = nodes_[who.front()]->membership().configuration();
    say("configuration %016llx (epoch %llu, %u members): %zu live nodes in it%s",
        (unsigned long long)id, (unsigned long long)c.epoch, c.size, who.size(),
        id == 0 ? " (not members: joining)" : "");
  }
  return std::uint32_t(by_id.size());
}

Demo::Totals Demo::totals() const {
  Totals t;
  for (auto* n : nodes_) {
    t.messages += n->io_stats().datagrams_out + n->io_stats().streams_out;
    t.bytes += n->io_stats().bytes_out + n->io_stats().stream_bytes_out;
    t.streams += n->io_stats().streams_out;
    t.stream_bytes += n->io_stats().stream_bytes_out;
    t.rejected += n->seal_stats().rejected_total();
    t.suspicions += n->membership().stats().suspicions;
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  t.cpu_ms = double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
             double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
  return t;
}

void Demo::report_join_progress(std::uint32_t started, double cpu_s) {
  std::vector<std::uint32_t> counts;
  counts.reserve(nodes_.size());
  for (auto* n : nodes_) counts.push_back(n->membership().member_count(MemberState::alive));
  std::sort(counts.begin(), counts.end());
  const auto complete =
      std::size_t(counts.end() - std::lower_bound(counts.begin(), counts.end(), f_.nodes));
  say("join: %u of %u started; %zu lists complete; alive listed min %u, median %u; %.1f join CPU "
      "s; peak RSS %.2f GiB",
      started, f_.nodes, complete, counts.front(), counts[counts.size() / 2], cpu_s,
      double(peak_rss_bytes()) / double(1u << 30));
}

// At most kLaggardLines nodes are listed (each costs a scan of its list), then a summary line:
// at 5,000 nodes listing every one took seconds of the loop's time.
void Demo::report_incomplete_join() {
  constexpr std::uint32_t kLaggardLines = 20;
  std::vector<std::uint32_t> counts;
  std::uint64_t timed_out = 0, refused = 0, errors = 0;  // streams, over all nodes
  for (auto* n : nodes_) {
    const auto alive = std::uint32_t(n->membership().member_count(MemberState::alive));
    if (alive != f_.nodes) counts.push_back(alive);
    timed_out += n->io_stats().streams_timed_out;
    refused += n->io_stats().streams_refused;
    errors += n->io_stats().stream_errors;
  }
  std::sort(counts.begin(), counts.end());
  if (!counts.empty()) {
    say("join: %zu of %u nodes incomplete; alive members listed: min %u, median %u, max %u; %zu "
        "list only themselves; streams (all nodes) timed out %llu, refused %llu, errors %llu",
        counts.size(), f_.nodes, counts.front(), counts[counts.size() / 2], counts.back(),
        std::size_t(std::count(counts.begin(), counts.end(), 1u)), (unsigned long long)timed_out,
        (unsigned long long)refused, (unsigned long long)errors);
  }
  std::uint32_t shown_nodes = 0;
  for (std::uint32_t i = 0; i < nodes_.size() && shown_nodes < kLaggardLines; ++i) {
    NodeHandle& n = *nodes_[i];
    const std::uint32_t alive = n.membership().member_count(MemberState::alive);
    if (alive == f_.nodes) continue;
    ++shown_nodes;
    std::set<NodeId> listed;
    for (const auto& m : n.members()) {
      if (m.state == MemberState::alive) listed.insert(m.id);
    }
    std::string lacks;
    std::uint32_t shown = 0;
    for (std::uint32_t k = 0; k < nodes_.size() && shown < 4; ++k) {
      if (listed.count(node_id_of(nodes_[k]->address())) == 0) {
        lacks += " node-" + std::to_string(k);
        ++shown;
      }
    }
    const IoStats io = n.io_stats();
    say("join: node-%u lists %u/%u alive (lacks%s); streams out %llu in %llu, timed out %llu, "
        "refused %llu, errors %llu",
        i, alive, f_.nodes, lacks.c_str(), (unsigned long long)io.streams_out,
        (unsigned long long)io.streams_in, (unsigned long long)io.streams_timed_out,
        (unsigned long long)io.streams_refused, (unsigned long long)io.stream_errors);
  }
}

// Steady state: no joins, faults or multicasts; just the protocols' background work. The join's
// news is still being gossiped when every list is complete (each member re-broadcasts what it
// learned, O(N) updates retransmitted ~log N times): the window starts once every broadcast
// queue has drained (at most 60 s later), so it measures a group at rest, not the join's tail.
void Demo::measure_steady(Duration d) {
  const double settle_s = wait([&] {
    for (auto* n : nodes_) {
      if (n->membership().queue_depth() != 0) return false;
    }
    return true;
  }, Duration::seconds(60));
  const Totals before = totals();
  const Time t0 = Runtime::now();
  rt_.run_for(d);
  const Totals after = totals();
  const double node_seconds = double(f_.nodes) * (Runtime::now() - t0).to_seconds();
  steady_ = {{"seconds", (Runtime::now() - t0).to_seconds()},
             {"settle_seconds", settle_s < 0 ? nullptr : nlohmann::json(settle_s)},
             {"cpu_ms_per_node_second", (after.cpu_ms - before.cpu_ms) / node_seconds},
             {"cpu_fraction_of_one_core",
              (after.cpu_ms - before.cpu_ms) / 1e3 / (Runtime::now() - t0).to_seconds()},
             {"messages_per_node_per_second", double(after.messages - before.messages) / node_seconds},
             {"bytes_per_node_per_second", double(after.bytes - before.bytes) / node_seconds},
             {"stream_messages_per_node_per_second",
              double(after.streams - before.streams) / node_seconds},
             {"stream_bytes_per_node_per_second",
              double(after.stream_bytes - before.stream_bytes) / node_seconds},
             {"rejected_packets", after.rejected - before.rejected},
             {"suspicions", after.suspicions - before.suspicions}};
  say("steady state for %.0f s: %.3f CPU ms per node-second (%.1f%% of one core), %.2f messages "
      "and %.0f bytes per node-second",
      steady_["seconds"].get<double>(), steady_["cpu_ms_per_node_second"].get<double>(),
      100 * steady_["cpu_fraction_of_one_core"].get<double>(),
      steady_["messages_per_node_per_second"].get<double>(),
      steady_["bytes_per_node_per_second"].get<double>());
}

int Demo::run() {
  const int rc = scenario();
  if (ui_) serve_until_signal();
  return rc;
}

int Demo::scenario() {
  NodeConfig cfg;
  cfg.membership = profile_by_name("--profile", f_.profile);
  if (!parse_detector(f_.detector, cfg.membership.detector)) {
    throw UsageError("--detector: expected swim|lifeguard|gossip-heartbeat|all-to-all|phi");
  }
  if (!parse_protocol(f_.multicast.c_str(), cfg.multicast.protocol)) {
    throw UsageError("--multicast: expected push|pull|pushpull");
  }
  if (!parse_membership_mode(f_.membership, cfg.membership.mode)) {
    throw UsageError("--membership: expected eventual|consistent, got '" + f_.membership + "'");
  }
  consistent_ = cfg.membership.mode == MembershipMode::consistent;
  cfg.membership.packet_budget_bytes = f_.packet_bytes;
  cfg.membership.churn_anti_entropy_delay = parse_duration("--catch-up", f_.catch_up);
  if (!f_.gossip_interval.empty()) {
    cfg.membership.gossip_interval = parse_duration("--gossip-interval", f_.gossip_interval);
  }
  cfg.membership.rumor_stop_after = f_.rumor_stop_after;
  cfg.membership.expected_members =
      std::uint32_t(f_.expected_members < 0 ? f_.nodes : f_.expected_members);
  cfg.multicast.fanout = 3;
  cfg.multicast.period = parse_duration("--multicast-period", f_.multicast_period);
  for (const auto& k : f_.keys) {
    auto key = base64_decode(k);
    if (!key || key->size() != 32) throw UsageError("--encrypt: expected base64 of 32 bytes");
    cfg.membership.memberlist.keys.push_back(*key);
  }
  if (f_.nodes < 4) throw UsageError("--nodes: at least 4 (two crash, one leaves)");
  if (f_.crash + 2 > f_.nodes) throw UsageError("--crash: too many for --nodes");
  if (f_.join_rate == 0) f_.join_rate = join_rate_for(f_.nodes, runtime_options(f_).threads);
  if (f_.seeds == 0) f_.seeds = seeds_for(f_.nodes);
  f_.seeds = std::min(f_.seeds, f_.nodes - 1);
  // Each joiner contacts one seed at a time (another on each retry); each seed answers at most
  // --seed-answers joins a second (by default twice its share of --join-rate, at least 10):
  // joiners past it are merged and gossiped, and fetch the state by catch-up anti-entropy.
  cfg.membership.join_seeds_per_attempt = 1;
  cfg.membership.join_answers_per_second =
      f_.seed_answers != 0 ? f_.seed_answers : std::max<std::uint32_t>(10, 2 * f_.join_rate / f_.seeds);
  const bool shared = use_shared_sockets(f_);
  if (!shared) ensure_fd_limit(f_.nodes);  // shared: a few sockets, and the streams'
  auto bind = parse_address("--bind-ip", f_.bind_ip + ":0");

  for (std::uint32_t i = 0; i < f_.nodes; ++i) {
    NodeCallbacks cb;
    cb.on_delivery = [this, i](const MessageId& id, std::span<const std::byte>, std::uint32_t hops) {
      on_delivery(i, id, hops);
    };
    cb.on_member_event = [this, i](const Event& e) { on_member_event(i, e); };
    cfg.membership.name = "node-" + std::to_string(i);
    auto r = rt_.add_node(cfg, shared ? shared_address(bind, f_.nodes, i) : bind, cb);
    if (!r) throw std::runtime_error(std::string("cannot start node: ") + r.error().detail);
    nodes_.push_back(*r);
    index_[node_id_of((*r)->address())] = i;
  }
  say("started %u nodes on %s (ports %u..%u)%s, %s, %s multicast", f_.nodes, f_.bind_ip.c_str(),
      nodes_.front()->address().port, nodes_.back()->address().port,
      shared ? (" on shared sockets, addresses up to " + nodes_.back()->address().to_string())
                   .c_str()
             : "",
      consistent_ ? "consistent membership" : (f_.detector + " detector").c_str(),
      f_.multicast.c_str());
  if (!f_.ui.empty()) start_ui();

  // 1. Everyone joins through the seeds (nodes 0..S-1; the seeds themselves through node 0).
  // Joins are staggered (--join-rate), as members of a real cluster start: a thousand members
  // joining one introducer in the same millisecond is a storm no deployment sees.
  std::vector<Address> seeds;
  for (std::uint32_t i = 0; i < f_.seeds; ++i) seeds.push_back(nodes_[i]->address());
  // Joins are paced by the nodes' clock: when the loop stalls (turns over --turn-time-max) the
  // joins wait with it, so they start at the rate the process sustains, not the wall's.
  const Time join_start = node_now();
  const double join_cpu0 = totals().cpu_ms;
  std::uint32_t next = 1;
  if (f_.bootstrap == "preloaded") {
    // A static roster: everyone starts knowing everyone (steady-state benchmarks).
    std::vector<Address> all;
    for (auto* n : nodes_) all.push_back(n->address());
    for (auto* n : nodes_) n->preload(all);
    next = f_.nodes;
  } else if (f_.bootstrap != "join") {
    throw UsageError("--bootstrap: expected join|preloaded, got '" + f_.bootstrap + "'");
  }
  bool diagnosed = false;
  Time progress_at = Runtime::now();
  const double join_s = wait([&] {
    const double t = (node_now() - join_start).to_seconds();
    // Large groups: a progress line every 30 s of wall time (a join of minutes, which a memory
    // or time guard may have to stop, says how far it got).
    if (f_.nodes >= 5000 && Runtime::now() - progress_at >= Duration::seconds(30)) {
      progress_at = Runtime::now();
      report_join_progress(next, (totals().cpu_ms - join_cpu0) / 1e3);
    }
    const auto due = std::uint32_t(1 + t * f_.join_rate);
    for (; next < f_.nodes && next <= due; ++next) {
      // A seed joins through node 0; anyone else starts at a seed drawn from its id.
      const auto via = next < f_.seeds ? std::span(seeds.data(), 1) : std::span(seeds);
      if (auto r = nodes_[next]->join(via); !r) {
        ++failed_joins_;
        say("join: node-%u could not start its join: %s", next, r.error().detail);
      }
    }
    if (next < f_.nodes) return false;
    std::uint32_t incomplete = 0;
    for (auto* n : nodes_) {
      if (n->membership().member_count(MemberState::alive) != f_.nodes) ++incomplete;
    }
    if (incomplete != 0 && !diagnosed && t > 3.0 + double(f_.nodes) / f_.join_rate) {
      diagnosed = true;
      report_incomplete_join();
    }
    return incomplete == 0;
  }, join_patience(), true);
  // CPU, not wall time, is what a loaded machine cannot distort: joins per CPU second is the
  // rate one core sustains.
  join_cpu_s_ = (totals().cpu_ms - join_cpu0) / 1e3;
  say("join: every node lists all %u members after %.2f s (%u seeds, %u joins/s), %.1f CPU s",
      f_.nodes, join_s, f_.seeds, f_.join_rate, join_cpu_s_);
  if (!f_.steady.empty()) measure_steady(parse_duration("--steady", f_.steady));

  // 2. One multicast.
  const std::uint32_t origin = f_.nodes / 2;
  const std::string text = "hello from node-" + std::to_string(origin);
  auto id = nodes_[origin]->multicast(std::as_bytes(std::span(text.data(), text.size())));
  if (!id) throw std::runtime_error(id.error().detail);
  const double mc_s = wait([&] { return delivered_[*id].size() == f_.nodes; },
                           Duration::seconds(10));
  const double mc_frac = double(delivered_[*id].size()) / double(f_.nodes);
  say("multicast: \"%s\" reached %zu/%u nodes in %.2f s", text.c_str(), delivered_[*id].size(),
      f_.nodes, mc_s);

  // 3. Crashes: sockets closed, nothing said.
  for (std::uint32_t k = 0; k < f_.crash; ++k) {
    const std::uint32_t victim = 1 + k * (f_.nodes - 2) / std::max<std::uint32_t>(f_.crash, 1);
    crashes_.push_back(Crash{victim, Runtime::now()});
    if (!consistent_) watch(victim);
    nodes_[victim]->crash();
    say("crash: node-%u killed", victim);
  }
  wait([&] {
    bool all = true;
    for (Crash& c : crashes_) {
      const bool gone = consistent_ ? none_lists(c.node) : all_see(c.node, MemberState::failed);
      if (c.all < 0 && gone) {
        c.all = (Runtime::now() - c.at).to_seconds();
        say("detect: node-%u %s everywhere (first %.2f s, all %.2f s)", c.node,
            consistent_ ? "removed from the configuration" : "failed", c.first, c.all);
      }
      all = all && c.all >= 0;
    }
    return all;
  }, Duration::seconds(90));

  // 4. A graceful leave.
  leaver_ = f_.nodes - 1;
  if (!consistent_) watch(leaver_);
  nodes_[leaver_]->leave();
  say("leave: node-%u says goodbye", leaver_);
  const double leave_s = wait([&] {
    return consistent_ ? none_lists(leaver_) : all_see(leaver_, MemberState::left);
  }, Duration::seconds(15));
  std::uint32_t saw_left = 0, others = 0;
  for (std::uint32_t i = 0; i < f_.nodes; ++i) {
    if (!active(i)) continue;
    ++others;
    if (consistent_) {  // removed from the configuration, told apart by the event's kind
      saw_left += saw_left_event_.count(i) ? 1 : 0;
      continue;
    }
    saw_left += watched_[leaver_][i] == MemberState::left ? 1 : 0;
  }
  say("leave: %u/%u nodes list node-%u as left (not failed) after %.2f s", saw_left, others,
      leaver_, leave_s);
  const std::uint32_t configurations = consistent_ ? report_configurations() : 0;

  // Summary.
  const double elapsed = (Runtime::now() - start_).to_seconds();
  std::uint64_t msgs = 0, bytes = 0;
  for (auto* n : nodes_) {
    msgs += n->io_stats().datagrams_out + n->io_stats().streams_out;
    bytes += n->io_stats().bytes_out + n->io_stats().stream_bytes_out;
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const double cpu_ms = double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
                        double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
  const double node_seconds = double(f_.nodes) * elapsed;
  nlohmann::json j;
  j["nodes"] = f_.nodes;
  j["detector"] = f_.detector;
  j["multicast"] = f_.multicast;
  j["join_convergence_seconds"] = join_s;
  j["failed_joins"] = failed_joins_;
  j["seeds"] = f_.seeds;
  j["join_cpu_seconds"] = join_cpu_s_;
  j["join_rate"] = f_.join_rate;
  j["clock_withheld_seconds"] = rt_.withheld().to_seconds();
  j["shared_sockets"] = shared;
  j["threads"] = runtime_options(f_).threads;
  if (shared) j["unroutable_datagrams"] = rt_.unroutable_datagrams();
  std::uint64_t answered = 0, refused = 0;
  for (std::uint32_t i = 0; i < f_.seeds; ++i) {
    answered += nodes_[i]->membership().stats().joins_answered;
    refused += nodes_[i]->membership().stats().joins_refused;
  }
  j["seed_joins_answered"] = answered;
  std::uint64_t push_pulls = 0, stream_bytes = 0;
  for (const NodeHandle* n : nodes_) {
    push_pulls += n->membership().stats().push_pulls;
    stream_bytes += n->io_stats().stream_bytes_out;
  }
  j["push_pulls"] = push_pulls;  // full state exchanges started, all nodes, whole run
  j["stream_bytes_out"] = stream_bytes;
  j["seed_joins_refused"] = refused;
  // Gossip of alive records, summed over the nodes (MembershipStats; join_reply_gossip).
  std::uint64_t queued_gossip = 0, queued_push_pull = 0, quiet = 0, updates = 0;
  std::uint64_t stopped = 0;  // rumor_stop_after
  for (NodeHandle* n : nodes_) {
    const MembershipStats& m = n->membership().stats();
    queued_gossip += m.alive_queued_gossip;
    queued_push_pull += m.alive_queued_push_pull;
    quiet += m.alive_join_reply_quiet;
    updates += m.updates_sent;
    stopped += m.rumors_stopped;
  }
  j["alive_queued_gossip"] = queued_gossip;
  j["alive_queued_push_pull"] = queued_push_pull;
  j["alive_join_reply_quiet"] = quiet;
  j["updates_sent"] = updates;
  j["rumors_stopped"] = stopped;
  j["peak_rss_bytes"] = peak_rss_bytes();
  j["multicast_delivery_seconds"] = mc_s;
  j["multicast_delivered_fraction"] = mc_frac;
  j["crashes"] = nlohmann::json::array();
  for (const Crash& c : crashes_) {
    j["crashes"].push_back({{"node", "node-" + std::to_string(c.node)},
                            {"detection_first_seconds", c.first},
                            {"detection_all_seconds", c.all}});
  }
  j["leave_seen_as_left_fraction"] = others ? double(saw_left) / double(others) : 0.0;
  j["false_failures"] = false_failures_;
  j["messages_per_node_per_second"] = double(msgs) / node_seconds;
  j["bytes_per_node_per_second"] = double(bytes) / node_seconds;
  j["cpu_ms_per_node_second"] = cpu_ms / node_seconds;
  j["rss_bytes_per_node"] = double(peak_rss_bytes()) / double(f_.nodes);
  j["elapsed_seconds"] = elapsed;
  if (!steady_.is_null()) j["steady"] = steady_;
  if (consistent_) {  // eventual output unchanged
    j["membership"] = "consistent";
    j["configurations_at_end"] = configurations;
  }
  if (f_.json) {
    std::cout << j.dump() << "\n";
    return 0;
  }
  std::printf("\nsummary (%u nodes, %.1f s)\n", f_.nodes, elapsed);
  std::printf("  join convergence            %8.2f s\n", join_s);
  std::printf("  multicast delivery          %8.2f s  (%.3f delivered)\n", mc_s, mc_frac);
  for (const Crash& c : crashes_) {
    std::printf("  node-%-4u crash detected     %8.2f s first, %.2f s everywhere\n", c.node,
                c.first, c.all);
  }
  if (consistent_) std::printf("  configurations at end       %8u\n", configurations);
  std::printf("  leave seen as left          %8.3f of nodes\n",
              j["leave_seen_as_left_fraction"].get<double>());
  std::printf("  false failures              %8llu\n",
              static_cast<unsigned long long>(false_failures_));
  std::printf("  messages per node per s     %8.2f\n", j["messages_per_node_per_second"].get<double>());
  std::printf("  bytes per node per s        %8.0f\n", j["bytes_per_node_per_second"].get<double>());
  std::printf("  cpu ms per node per s       %8.3f\n", j["cpu_ms_per_node_second"].get<double>());
  std::printf("  peak rss per node           %8.0f bytes\n", j["rss_bytes_per_node"].get<double>());
  return 0;
}

// ---- --ui -------------------------------------------------------------------------------------

void Demo::start_ui() {
  const Address bind = parse_address("--ui", f_.ui);
  if (!ui_address_is_loopback(bind) && f_.ui_token.empty()) {
    throw UsageError("--ui: refusing to serve " + bind.to_string() +
                     " without --ui-token TOKEN (the page is then http://HOST:PORT/?token=TOKEN)");
  }
  ui_tick(true);
  ui_ = std::make_unique<UiServer>(
      UiServer::Page::demo,
      [this] {
        std::lock_guard<std::mutex> lock(ui_mu_);
        return ui_json_;
      },
      f_.ui_token);
  if (auto err = ui_->start(bind, f_.ui_token.empty()); !err.empty()) {
    ui_.reset();
    throw std::runtime_error("--ui: " + err);
  }
  say("ui: http://%s/%s", ui_->address().to_string().c_str(),
      f_.ui_token.empty() ? "" : "?token=...");
  const Duration patience = parse_duration("--ui-wait", f_.ui_wait);
  if (patience > Duration::zero()) {
    say("ui: waiting up to %.0f s for a browser to open the page", patience.to_seconds());
    wait([&] { return ui_->has_streams(); }, patience);
  }
}

// The picture's data: for each node, what the live nodes (other than itself) list it as.
std::string Demo::ui_snapshot() const {
  nlohmann::json list = nlohmann::json::array();
  std::vector<std::map<NodeId, MemberState>> views;
  std::uint32_t observers = 0;
  for (std::uint32_t o = 0; o < nodes_.size(); ++o) {
    views.emplace_back();
    if (!active(o)) continue;
    ++observers;
    for (const auto& m : nodes_[o]->members()) views.back()[m.id] = m.state;
  }
  static constexpr const char* kNames[] = {"alive", "suspect", "failed", "left", "absent"};
  for (std::uint32_t s = 0; s < nodes_.size(); ++s) {
    const NodeId id = node_id_of(nodes_[s]->address());
    std::uint32_t seen[5] = {0, 0, 0, 0, 0};
    for (std::uint32_t o = 0; o < nodes_.size(); ++o) {
      if (o == s || !active(o)) continue;
      auto it = views[o].find(id);
      const int k = it == views[o].end() ? 4
                    : it->second == MemberState::alive   ? 0
                    : it->second == MemberState::suspect ? 1
                    : it->second == MemberState::failed  ? 2
                                                          : 3;
      ++seen[k];
    }
    int top = 0;
    for (int k = 1; k < 5; ++k) top = seen[k] > seen[top] ? k : top;
    std::string state = kNames[top];
    const bool running = nodes_[s]->running();
    if (top == 4) state = consistent_ && (s == leaver_ || !running) ? "removed" : "unknown";
    if (observers == 0 || (observers == 1 && active(s))) state = running ? "alive" : "failed";
    nlohmann::json counts = nlohmann::json::object();
    for (int k = 0; k < 5; ++k) counts[kNames[k]] = seen[k];
    list.push_back({{"name", "node-" + std::to_string(s)},
                    {"address", nodes_[s]->address().to_string()},
                    {"running", running && s != leaver_},
                    {"state", state},
                    {"seen", counts}});
  }
  return nlohmann::json{{"kind", "demo"},
                        {"elapsed", (Runtime::now() - start_).to_seconds()},
                        {"observers", observers},
                        {"nodes", std::move(list)}}
      .dump();
}

void Demo::ui_tick(bool force) {
  if (!force && !ui_) return;
  const Duration every = Duration::milliseconds(nodes_.size() > 256 ? 1000 : 250);
  if (!force && Runtime::now() - ui_at_ < every) return;
  ui_at_ = Runtime::now();
  std::string json = ui_snapshot();
  std::lock_guard<std::mutex> lock(ui_mu_);
  ui_json_ = std::move(json);
}

void Demo::serve_until_signal() {
  struct sigaction sa {};
  sa.sa_handler = [](int) { g_demo_stop = 1; };
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  say("ui: the cluster keeps running at http://%s/ until interrupted (Ctrl-C)",
      ui_->address().to_string().c_str());
  while (g_demo_stop == 0) {
    rt_.run_for(Duration::milliseconds(50));
    ui_tick();
  }
  say("ui: interrupted; stopping");
  ui_->stop();
}

}  // namespace

void add_demo(CLI::App& app, std::function<int()>& run_cmd) {
  auto f = std::make_shared<DemoFlags>();
  auto* cmd = app.add_subcommand(
      "demo", "N nodes on loopback sockets: joins, a multicast, crashes detected, a leave");
  cmd->add_option("--nodes", f->nodes, "nodes to start")->capture_default_str();
  cmd->add_option("--crash", f->crash, "nodes to kill")->capture_default_str();
  cmd->add_flag("--json", f->json, "print one JSON object at the end (progress on stderr)");
  cmd->add_option("--detector", f->detector,
                  "swim|lifeguard|gossip-heartbeat|all-to-all|phi (eventual membership)")
      ->capture_default_str();
  cmd->add_option("--membership", f->membership,
                  "eventual (SWIM-family lists) or consistent (Rapid: one agreed configuration)")
      ->capture_default_str();
  cmd->add_option("--profile", f->profile, "lan|wan|local timings")->capture_default_str();
  cmd->add_option("--multicast", f->multicast, "push|pull|pushpull")->capture_default_str();
  cmd->add_option("--bootstrap", f->bootstrap,
                  "join: through the seeds at --join-rate; preloaded: start with the full roster")
      ->capture_default_str();
  cmd->add_option("--join-rate", f->join_rate,
                  "members starting their join per second of the nodes' clock (0: 200 up to "
                  "1,000 nodes; past that, per loop thread (--threads), 100 up to 2,000, 50 up "
                  "to 5,000, else 250,000/N, at least 10)")
      ->capture_default_str()
      ->check(CLI::Range(0u, 100000u));
  cmd->add_option("--seeds", f->seeds,
                  "the first S nodes are seeds; each joiner starts at one drawn from its id and "
                  "tries the next on a retry (0: one per 1,000 nodes)")
      ->capture_default_str();
  cmd->add_option("--seed-answers", f->seed_answers,
                  "join push-pulls a seed answers per second; joiners past it get the state by "
                  "anti-entropy (0: twice a seed's share of --join-rate, at least 10)")
      ->capture_default_str();
  cmd->add_option("--multicast-period", f->multicast_period, "multicast gossip period")
      ->capture_default_str();
  cmd->add_option("--turn-time-max", f->turn_time_max,
                  "the nodes' clock advances at most this much per event-loop turn: a longer "
                  "turn (the process short of CPU) stretches their probe and suspicion timeouts "
                  "instead of failing live members (0: off)")
      ->capture_default_str();
  cmd->add_option("--steady", f->steady,
                  "after the join, once every broadcast queue has drained (at most 60 s), "
                  "measure this long of steady state (CPU, messages, bytes)");
  cmd->add_option("--bind-ip", f->bind_ip,
                  "IP to bind every node to (ports are picked); with shared sockets node i is "
                  "at this IP + i, on one port")
      ->capture_default_str();
  cmd->add_option("--shared-sockets", f->shared_sockets,
                  "on: every node on its own 127.0.0.0/8 address, all served by a few shared "
                  "sockets (a handful of descriptors for any N); off: a UDP socket and a TCP "
                  "listener per node; auto: on when the descriptor limit cannot hold 2 per node")
      ->capture_default_str();
  cmd->add_option("--packet-bytes", f->packet_bytes,
                  "membership datagram budget: gossip and piggybacked updates per datagram "
                  "(memberlist's UDPBufferSize; loopback carries up to 8192 without "
                  "fragmenting)")
      ->capture_default_str()
      ->check(CLI::Range(256u, 8192u));
  cmd->add_option("--gossip-interval", f->gossip_interval,
                  "membership gossip period (memberlist's GossipInterval; default: the "
                  "profile's, 200 ms for lan)");
  cmd->add_option("--catch-up", f->catch_up,
                  "catch-up anti-entropy after learning of a new member: a digest exchange "
                  "(and a full push-pull if the lists differ) this long after (0: off)")
      ->capture_default_str();
  cmd->add_option("--rumor-stop-after", f->rumor_stop_after,
                  "rumor mongering with a counter: a member stops gossiping an alive record once "
                  "it has heard it again this many times (MembershipConfig::rumor_stop_after; "
                  "0: off, memberlist's queue)")
      ->capture_default_str();
  cmd->add_option("--threads", f->threads,
                  "event-loop threads; the nodes are spread over them round-robin, each loop "
                  "with its own sockets (0: 1 below 1,000 nodes, else one per hardware thread, "
                  "at most 8)")
      ->capture_default_str()
      ->check(CLI::Range(0u, 64u));
  cmd->add_option("--expected-members", f->expected_members,
                  "room each node reserves for members at start (MembershipConfig::"
                  "expected_members; -1: --nodes, 0: grow as members arrive)")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t(-1), std::int64_t(4194304)));
  cmd->add_option("--encrypt", f->keys,
                  "seal every packet and stream with this base64 32-byte key (grapevine keygen)");
  cmd->add_option("--ui", f->ui,
                  "serve the cluster as a live picture on http://IP:PORT/ (loopback unless "
                  "--ui-token), and keep the cluster running after the scenario until Ctrl-C");
  cmd->add_option("--ui-token", f->ui_token,
                  "token the page's API requests must carry (open http://IP:PORT/?token=TOKEN); "
                  "needed for a non-loopback --ui");
  cmd->add_option("--ui-wait", f->ui_wait,
                  "with --ui: wait up to this long for a browser to open the page before the "
                  "scenario starts")
      ->capture_default_str();
  cmd->callback([f, &run_cmd] { run_cmd = [f] { Demo d(*f); return d.run(); }; });
}

}  // namespace grapevine::tools
