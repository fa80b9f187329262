#include "agent_services.h"

#include <spdlog/spdlog.h>

#include <future>

#include "commands.h"
#include "options.h"
#include "seeds.h"

namespace grapevine::tools {

void add_service_flags(CLI::App& cmd, ServiceFlags& f) {
  cmd.add_option("--event-handler", f.event_handlers,
                 "run SCRIPT for events, serf's syntax: [FILTER,...=]SCRIPT, filters "
                 "member-join|member-leave|member-failed|member-update|member-reap|user[:NAME]|"
                 "query[:NAME]|* (repeatable; SERF_*/GRAPEVINE_* env, serf's stdin)");
  cmd.add_option("--coalesce-period", f.coalesce_period,
                 "coalesce member events (and user events sent with coalesce) for up to this "
                 "long before running handlers (default 5s; 0 = off)");
  cmd.add_option("--quiescent-period", f.quiescent_period,
                 "flush coalesced member events after this long without a new one (default 1s)");
  cmd.add_option("--handler-timeout", f.handler_timeout,
                 "kill an event handler script running longer (default 30s)");
  cmd.add_option("--snapshot", f.snapshot,
                 "keep members and clocks in FILE; a restart rejoins them without --join and "
                 "does not handle old user events again");
  cmd.add_option("--retry-join", f.retry_join,
                 "seeds (IP:PORT, HOST[:PORT], _SERVICE._udp.DOMAIN), re-resolved and retried "
                 "with backoff until a join succeeds (repeatable or comma-separated)")
      ->delimiter(',');
  cmd.add_option("--retry-interval", f.retry_interval,
                 "longest wait between --retry-join attempts (default 30s)");
  cmd.add_option("--retry-max", f.retry_max, "give up after this many attempts (default 0 = never)");
  cmd.add_flag("--replay", f.replay,
               "joins deliver the user events the seed still buffers, sent before this agent "
               "joined (serf's -replay; default: never delivered)");
}

void apply_service_flags(const ServiceFlags& f, AgentConfig& c) {
  ServiceConfig& s = c.service;
  for (const auto& h : f.event_handlers) s.event_handlers.push_back(h);
  for (const auto& h : s.event_handlers) (void)parse_handler_spec("--event-handler", h);
  for (const auto& r : f.retry_join) s.retry_join.push_back(r);
  if (!f.coalesce_period.empty())
    s.coalesce_period = parse_duration("--coalesce-period", f.coalesce_period);
  if (!f.quiescent_period.empty())
    s.quiescent_period = parse_duration("--quiescent-period", f.quiescent_period);
  if (!f.handler_timeout.empty())
    s.handler_timeout = parse_duration("--handler-timeout", f.handler_timeout);
  if (!f.retry_interval.empty())
    s.retry_interval = parse_duration("--retry-interval", f.retry_interval);
  if (!f.retry_max.empty()) s.retry_max = parse_count("--retry-max", f.retry_max, 0, 1000000);
  if (!f.snapshot.empty()) s.snapshot = f.snapshot;
  if (f.replay) s.replay = true;
  if (s.retry_interval <= Duration::zero()) throw UsageError("--retry-interval: must be > 0");
  if (s.handler_timeout <= Duration::zero()) throw UsageError("--handler-timeout: must be > 0");
}

AgentServices::AgentServices(const AgentConfig& cfg) : cfg_(cfg) {
  if (!cfg.service.snapshot.empty()) {
    std::string err;
    snapshot_ = Snapshotter::open(cfg.service.snapshot, cfg.name, restored_, err);
    if (!snapshot_) throw std::runtime_error("--snapshot: " + err);
    spdlog::info("snapshot {}: {} member(s), event clock {}{}", cfg.service.snapshot,
                 restored_.alive.size(), restored_.event_clock,
                 restored_.left ? ", left cleanly (no rejoin)" : "");
  }
  HandlerOptions o;
  for (const auto& h : cfg.service.event_handlers) {
    o.handlers.push_back(parse_handler_spec("--event-handler", h));
  }
  o.self_name = cfg.name;
  o.self_tags = cfg.tags;
  o.coalesce_period = cfg.service.coalesce_period;
  o.quiescent_period = cfg.service.quiescent_period;
  o.user_coalesce_period = cfg.service.coalesce_period;
  o.script_timeout = cfg.service.handler_timeout;
  o.user_event_min_ltime = restored_.event_clock + 1;
  handlers_ = std::make_unique<HandlerRunner>(std::move(o));
}

AgentServices::~AgentServices() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (joiner_.joinable()) joiner_.join();
}

void AgentServices::on_event(const Event& e) {
  handlers_->submit(e);
  if (!snapshot_) return;
  const std::string name(e.subject_name);
  switch (e.kind) {
    case EventKind::joined:
    case EventKind::alive:
    case EventKind::updated: snapshot_->alive(name, e.subject); break;
    case EventKind::failed:
    case EventKind::left: snapshot_->not_alive(name); break;
    case EventKind::user_event: snapshot_->event_clock(e.ltime); break;
    default: break;
  }
}

void AgentServices::on_leave() {
  if (snapshot_) snapshot_->leave();
}

bool AgentServices::sleep_for(Duration d) {
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, std::chrono::nanoseconds(d.ns()), [&] { return stop_; });
}

bool AgentServices::in_loop(const std::function<void()>& fn) {
  auto task = std::make_shared<std::packaged_task<void()>>(fn);
  auto done = task->get_future();
  rt_->post([task] { (*task)(); });
  for (int i = 0; i < 100; ++i) {  // 10 s
    if (done.wait_for(std::chrono::milliseconds(100)) == std::future_status::ready) return true;
    std::lock_guard lock(mu_);
    if (stop_) return false;
  }
  return false;
}

void AgentServices::start(Runtime& rt, NodeHandle& node) {
  rt_ = &rt;
  node_ = &node;
  // serf's restore: our next user event is stamped after every one handled before the restart
  // (before the loop runs: NodeHandle calls are allowed then).
  if (restored_.event_clock > 0) node.witness_event_clock(restored_.event_clock + 1);
  std::vector<std::string> known;
  if (!restored_.left) {
    for (const auto& [name, addr] : restored_.alive) known.push_back(addr.to_string());
  }
  if (known.empty() && cfg_.service.join_names.empty() && cfg_.service.retry_join.empty()) return;
  joiner_ = std::thread([this, known] {
    if (!known.empty()) try_join(known, "the snapshot's members");
    if (!cfg_.service.join_names.empty()) try_join(cfg_.service.join_names, "--join");
    if (!cfg_.service.retry_join.empty()) retry_loop();
  });
}

// Resolves the seeds, joins through them, and waits up to 3 s for another member to show up.
bool AgentServices::try_join(const std::vector<std::string>& seeds, const char* why) {
  ++join_attempts_;
  std::vector<Address> addrs;
  for (const auto& s : seeds) {
    std::string err;
    auto got = resolve_seed(s, err);
    if (got.empty()) spdlog::warn("join through {}: {}", why, err);
    addrs.insert(addrs.end(), got.begin(), got.end());
  }
  const Address self = node_->address();
  std::erase(addrs, self);
  if (addrs.empty()) {
    ++join_failures_;
    return false;
  }
  spdlog::info("joining through {} ({} address(es), first {})", why, addrs.size(),
               addrs.front().to_string());
  if (!in_loop([&] {
        if (auto r = node_->join(addrs, JoinOptions{cfg_.service.replay}); !r) {
          spdlog::warn("join: {}", r.error().detail);
        }
      })) {
    return false;
  }
  for (int i = 0; i < 30; ++i) {
    std::size_t alive = 0;
    if (!in_loop([&] {
          for (const auto& m : node_->members()) alive += m.state == MemberState::alive;
        })) {
      return false;
    }
    if (alive > 1) return true;
    if (!sleep_for(Duration::milliseconds(100))) return false;
  }
  ++join_failures_;
  spdlog::warn("join through {}: no member answered", why);
  return false;
}

void AgentServices::retry_loop() {
  const std::uint32_t max = cfg_.service.retry_max;
  std::uint64_t rnd = std::hash<std::string>{}(cfg_.name) ^ std::uint64_t(::time(nullptr));
  for (std::uint32_t attempt = 1; max == 0 || attempt <= max; ++attempt) {
    if (try_join(cfg_.service.retry_join, "--retry-join")) {
      spdlog::info("--retry-join: joined on attempt {}", attempt);
      return;
    }
    rnd = rnd * 6364136223846793005ull + 1442695040888963407ull;
    if (!sleep_for(retry_backoff(attempt, cfg_.service.retry_interval, rnd >> 33))) return;
  }
  spdlog::error("--retry-join: gave up after {} attempts", max);
}

std::string AgentServices::render_metrics() const {
  const auto& h = handlers_->stats();
  std::string out;
  auto line = [&](const char* name, std::uint64_t v) {
    out += std::string("grapevine_") + name + " " + std::to_string(v) + "\n";
  };
  line("handler_events_total", h.events);
  line("handler_runs_total", h.runs);
  line("handler_failures_total", h.failures);
  line("handler_timeouts_total", h.timeouts);
  line("handler_events_dropped_total", h.dropped);
  line("handler_events_coalesced_total", h.coalesced);
  line("handler_user_events_skipped_total", h.skipped_old);
  line("snapshot_bad_lines_total", restored_.bad_lines);
  line("join_attempts_total", join_attempts_);
  line("join_failures_total", join_failures_);
  return out;
}

}  // namespace grapevine::tools
