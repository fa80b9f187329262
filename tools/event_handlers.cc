#include "event_handlers.h"

#include <spdlog/spdlog.h>

#include <cctype>
#include <chrono>

#include "commands.h"
#include "handler_script.h"

namespace grapevine::tools {
namespace {

constexpr const char* kTypes[] = {"member-join",   "member-leave", "member-failed",
                                  "member-update", "member-reap",  "user",
                                  "query",         "*"};

bool known_type(const std::string& t) {
  for (const char* k : kTypes) {
    if (t == k) return true;
  }
  return false;
}

Time steady_now() {
  return Time::from_ns(std::chrono::duration_cast<std::chrono::nanoseconds>(
                           std::chrono::steady_clock::now().time_since_epoch())
                           .count());
}

std::string tags_text(const Tags& tags) {
  std::string out;
  for (const auto& [k, v] : tags) out += (out.empty() ? "" : ",") + k + "=" + v;
  return out;
}

// "10.0.0.1:7946" -> "10.0.0.1", "[::1]:7946" -> "::1" (serf's stdin has the IP only).
std::string ip_of(const Address& a) {
  std::string s = a.to_string();
  const auto colon = s.rfind(':');
  if (colon != std::string::npos) s.resize(colon);
  if (s.size() >= 2 && s.front() == '[') s = s.substr(1, s.size() - 2);
  return s;
}

const char* member_type(EventKind k) {
  switch (k) {
    case EventKind::joined: return "member-join";
    case EventKind::left: return "member-leave";
    case EventKind::failed: return "member-failed";
    case EventKind::updated: return "member-update";
    case EventKind::replaced: return "member-reap";
    default: return nullptr;
  }
}

}  // namespace

HandlerSpec parse_handler_spec(const std::string& flag, const std::string& text) {
  HandlerSpec spec;
  const auto eq = text.find('=');
  std::string filters = "*";
  spec.script = text;
  // serf: the part before the first '=' is the filter list unless it holds a space or '/'
  // (then the whole thing is the script, e.g. "FOO=1 ./x.sh").
  if (eq != std::string::npos && text.substr(0, eq).find_first_of(" /") == std::string::npos) {
    filters = text.substr(0, eq);
    spec.script = text.substr(eq + 1);
  }
  if (spec.script.empty()) throw UsageError(flag + ": empty script in '" + text + "'");
  std::size_t start = 0;
  while (start <= filters.size()) {
    const auto comma = filters.find(',', start);
    std::string item = filters.substr(start, comma == std::string::npos ? std::string::npos
                                                                        : comma - start);
    HandlerFilter f;
    const auto colon = item.find(':');
    f.type = item.substr(0, colon);
    if (colon != std::string::npos) f.name = item.substr(colon + 1);
    if (!known_type(f.type) || (colon != std::string::npos && f.type != "user" &&
                                f.type != "query")) {
      throw UsageError(flag + ": unknown event filter '" + item +
                       "' (member-join, member-leave, member-failed, member-update, "
                       "member-reap, user, user:NAME, query, query:NAME, *)");
    }
    spec.filters.push_back(std::move(f));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return spec;
}

bool handler_matches(const HandlerSpec& spec, const HandlerEvent& e) {
  for (const auto& f : spec.filters) {
    if (f.type == "*") return true;
    if (f.type == e.type && (f.name.empty() || f.name == e.name)) return true;
  }
  return false;
}

std::optional<HandlerEvent> handler_event_of(const Event& e) {
  HandlerEvent h;
  if (e.kind == EventKind::user_event) {
    h.type = "user";
    h.name = std::string(e.user_name);
    h.payload.assign(reinterpret_cast<const char*>(e.payload.data()), e.payload.size());
    h.ltime = e.ltime;
    h.coalesce = e.coalesce;
    return h;
  }
  const char* type = member_type(e.kind);
  if (type == nullptr) return std::nullopt;
  h.type = type;
  HandlerMember m;
  m.name = std::string(e.subject_name);
  m.ip = ip_of(e.subject);
  if (auto tags = decode_tags(e.subject_meta)) {
    if (auto it = tags->find("role"); it != tags->end()) m.role = it->second;
    m.tags = tags_text(*tags);
  }
  h.members.push_back(std::move(m));
  return h;
}

std::vector<std::pair<std::string, std::string>> handler_env(const std::string& self_name,
                                                             const Tags& self_tags,
                                                             const HandlerEvent& e) {
  std::vector<std::pair<std::string, std::string>> serf = {{"EVENT", e.type},
                                                           {"SELF_NAME", self_name}};
  auto role = self_tags.find("role");
  serf.emplace_back("SELF_ROLE", role == self_tags.end() ? "" : role->second);
  for (const auto& [k, v] : self_tags) {
    std::string key = "TAG_";
    for (char c : k) key.push_back(std::isalnum(static_cast<unsigned char>(c))
                                       ? char(std::toupper(static_cast<unsigned char>(c)))
                                       : '_');
    serf.emplace_back(key, v);
  }
  if (e.type == "user") {
    serf.emplace_back("USER_EVENT", e.name);
    serf.emplace_back("USER_LTIME", std::to_string(e.ltime));
  } else if (e.type == "query") {
    serf.emplace_back("QUERY_NAME", e.name);
    serf.emplace_back("QUERY_LTIME", std::to_string(e.ltime));
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [k, v] : serf) {
    out.emplace_back("SERF_" + k, v);
    out.emplace_back("GRAPEVINE_" + k, v);
  }
  return out;
}

std::string handler_stdin(const HandlerEvent& e) {
  if (!e.is_member()) return e.payload;
  std::string out;
  for (const auto& m : e.members) out += m.name + "\t" + m.ip + "\t" + m.role + "\t" + m.tags + "\n";
  return out;
}

HandlerRunner::HandlerRunner(HandlerOptions options)
    : opt_(std::move(options)),
      coalescer_(opt_.coalesce_period, opt_.quiescent_period, opt_.user_coalesce_period),
      thread_([this] { worker(); }),
      query_thread_([this] { query_worker(); }) {}

HandlerRunner::~HandlerRunner() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  query_cv_.notify_all();
  thread_.join();
  query_thread_.join();
}

bool HandlerRunner::has_query_handler(const std::string& name) const {
  HandlerEvent e;
  e.type = "query";
  e.name = name;
  for (const auto& spec : opt_.handlers) {
    if (handler_matches(spec, e)) return true;
  }
  return false;
}

bool HandlerRunner::submit_query(std::string name, std::string payload, std::uint64_t ltime,
                                 std::function<void(std::optional<std::string>)> done) {
  {
    std::lock_guard lock(mu_);
    if (stop_ || queries_.size() >= std::max<std::size_t>(1, opt_.events_queue_max / 16)) {
      ++stats_.dropped;
      return false;
    }
    queries_.push_back({std::move(name), std::move(payload), ltime, std::move(done)});
  }
  query_cv_.notify_one();
  return true;
}

void HandlerRunner::query_worker() {
  std::unique_lock lock(mu_);
  while (true) {
    query_cv_.wait(lock, [&] { return stop_ || !queries_.empty(); });
    if (stop_) return;  // stopping: queries still waiting go unanswered
    QueryJob job = std::move(queries_.front());
    queries_.pop_front();
    lock.unlock();
    job.done(answer_query(job.name, job.payload, job.ltime));
    lock.lock();
  }
}

bool HandlerRunner::submit(const Event& e) {
  auto h = handler_event_of(e);
  return h ? submit(std::move(*h)) : true;
}

bool HandlerRunner::submit(HandlerEvent e) {
  if (opt_.handlers.empty()) return true;
  if (e.type == "user" && e.ltime < opt_.user_event_min_ltime) {
    ++stats_.skipped_old;
    return true;
  }
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= opt_.events_queue_max) {
      ++stats_.dropped;
      spdlog::warn("event handlers: queue full ({}), {} event dropped", opt_.events_queue_max,
                   e.type);
      return false;
    }
    queue_.push_back(std::move(e));
  }
  cv_.notify_one();
  return true;
}

void HandlerRunner::worker() {
  std::unique_lock lock(mu_);
  while (true) {
    const Time deadline = coalescer_.next_deadline();
    auto wake = std::chrono::steady_clock::now() + std::chrono::hours(1);
    if (deadline != Time::max()) {
      wake = std::chrono::steady_clock::time_point(std::chrono::nanoseconds(deadline.ns()));
    }
    cv_.wait_until(lock, wake, [&] { return stop_ || !queue_.empty(); });
    std::vector<HandlerEvent> due;
    while (!queue_.empty()) {
      ++stats_.events;
      if (auto now = coalescer_.add(steady_now(), std::move(queue_.front()))) {
        due.push_back(std::move(*now));
      }
      queue_.pop_front();
    }
    for (auto& e : stop_ ? coalescer_.flush_all() : coalescer_.flush(steady_now())) {
      due.push_back(std::move(e));
    }
    stats_.coalesced = coalescer_.coalesced();
    busy_ = !due.empty();
    lock.unlock();
    for (const auto& e : due) run_handlers(e);
    lock.lock();
    busy_ = false;
    if (queue_.empty() && coalescer_.empty()) idle_cv_.notify_all();
    if (stop_ && queue_.empty()) return;
  }
}

void HandlerRunner::drain() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [&] { return queue_.empty() && coalescer_.empty() && !busy_; });
}

void HandlerRunner::run_handlers(const HandlerEvent& e) {
  for (const auto& spec : opt_.handlers) {
    if (handler_matches(spec, e)) run_one(spec, e, nullptr);
  }
}

bool HandlerRunner::run_one(const HandlerSpec& spec, const HandlerEvent& e, std::string* out) {
  ++stats_.runs;
  auto r = run_script(spec.script, handler_env(opt_.self_name, opt_.self_tags, e),
                      handler_stdin(e), opt_.script_timeout,
                      out ? opt_.query_response_max : opt_.output_max);
  if (r.timed_out) ++stats_.timeouts;
  if (!r.ok()) {
    ++stats_.failures;
    spdlog::warn("event handler '{}' for {}{}: {} (output: {})", spec.script, e.type,
                 e.name.empty() ? "" : ":" + e.name,
                 r.spawn_failed ? "could not start"
                 : r.timed_out  ? "timed out after " + std::to_string(opt_.script_timeout.ms()) +
                                      " ms"
                                : "exit code " + std::to_string(r.exit_code),
                 r.output);
    return false;
  }
  spdlog::debug("event handler '{}' for {}: {}", spec.script, e.type, r.output);
  if (out) *out = std::move(r.output);
  return true;
}

std::optional<std::string> HandlerRunner::answer_query(const std::string& name,
                                                       const std::string& payload,
                                                       std::uint64_t ltime) {
  HandlerEvent e;
  e.type = "query";
  e.name = name;
  e.payload = payload;
  e.ltime = ltime;
  // As serf's agent: every matching handler runs, in order; the first one that succeeds with
  // output answers (a catch-all handler that prints nothing does not answer with nothing).
  std::optional<std::string> answer;
  for (const auto& spec : opt_.handlers) {
    if (!handler_matches(spec, e)) continue;
    std::string out;
    if (run_one(spec, e, &out) && !out.empty() && !answer) answer = std::move(out);
  }
  return answer;
}

}  // namespace grapevine::tools
