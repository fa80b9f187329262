// The agent's query and cluster-wide keyring RPC (query_rpc.h).
#include "query_rpc.h"

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "base64.h"
#include "core/serf/messages.h"
#include "regex/re2_tag_matcher.h"

namespace grapevine::tools {
namespace {

using Clock = std::chrono::steady_clock;

nlohmann::json fail(const std::string& why) { return {{"ok", false}, {"error", why}}; }

std::string text(std::span<const std::byte> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// What one query gathered, filled on the runtime's loop, read by the RPC thread.
struct Gather {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::size_t expect = 0;  // keys: done early once this many members answered (0: never)
  Clock::time_point start = Clock::now();
  nlohmann::json events = nlohmann::json::array();
  std::vector<std::pair<std::string, std::vector<std::byte>>> responses;
  std::vector<std::string> acks;
};

QueryCallback gatherer(const std::shared_ptr<Gather>& g) {
  return [g](const Event& e) {
    std::lock_guard<std::mutex> lock(g->mu);
    const std::string from(e.subject_name);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - g->start);
    if (e.kind == EventKind::query_ack) {
      g->acks.push_back(from);
      g->events.push_back({{"type", "ack"}, {"from", from}, {"ms", ms.count()}});
    } else if (e.kind == EventKind::query_response) {
      g->responses.emplace_back(from, std::vector<std::byte>(e.payload.begin(), e.payload.end()));
      g->events.push_back(
          {{"type", "response"}, {"from", from}, {"ms", ms.count()}, {"payload", text(e.payload)}});
      if (g->expect != 0 && g->responses.size() >= g->expect) g->done = true;
    } else if (e.kind == EventKind::query_done) {
      g->done = true;
    }
    g->cv.notify_all();
  };
}

// Waits for the query issued with `ticket` to be done (or its deadline plus 2 s).
void wait_done(Gather& g, const QueryTicket& ticket) {
  const Duration left = ticket.deadline - Runtime::now() + Duration::seconds(2);
  std::unique_lock<std::mutex> lock(g.mu);
  g.cv.wait_for(lock, std::chrono::nanoseconds(std::max<std::int64_t>(left.ns(), 0)),
                [&] { return g.done; });
}

double seconds_of(const QueryTicket& t, Time issued) { return double((t.deadline - issued).ns()) / 1e9; }

nlohmann::json run_query(const nlohmann::json& req, NodeHandle& node, const LoopRunner& loop) {
  QueryParams p;
  for (const auto& n : req.value("nodes", nlohmann::json::array())) {
    if (!n.is_string()) return fail("query: nodes must be names");
    p.nodes.push_back(n.get<std::string>());
  }
  const nlohmann::json tags = req.value("tags", nlohmann::json::object());
  for (const auto& [k, v] : tags.items()) {
    if (!v.is_string()) return fail("query: tags must map keys to regexes");
    if (auto why = detail::re2_tag_pattern_error(v.get<std::string>()); !why.empty()) {
      return fail("query: tag " + k + ": bad regular expression: " + why);
    }
    p.tags.push_back({k, v.get<std::string>()});
  }
  p.request_ack = req.value("ack", true);
  const int relay = req.value("relay_factor", 0);
  if (relay < 0 || relay > kQueryRelayFactorMax) return fail("query: relay_factor is 0..5");
  p.relay_factor = std::uint8_t(relay);
  p.timeout = Duration::milliseconds(req.value("timeout_ms", std::int64_t(0)));
  const std::string name = req.value("name", ""), payload = req.value("payload", "");
  auto g = std::make_shared<Gather>();
  Result<QueryTicket> t = make_error(Errc::not_ready, "not issued");
  Time issued{};
  loop([&] {
    issued = Runtime::now();
    t = node.query(name, std::as_bytes(std::span(payload.data(), payload.size())), p, gatherer(g));
  });
  if (!t) return fail(std::string("query: ") + t.error().detail);
  wait_done(*g, *t);
  std::lock_guard<std::mutex> lock(g->mu);
  nlohmann::json responses = nlohmann::json::object();
  for (const auto& [from, bytes] : g->responses) responses[from] = text(bytes);
  return {{"ok", true},           {"name", name},     {"acks", g->acks},
          {"responses", responses}, {"events", g->events}, {"timeout_seconds", seconds_of(*t, issued)}};
}

// The serf dialect: serf's key manager queries (`_serf_install-key`, `_serf_use-key`,
// `_serf_remove-key`, `_serf_list-keys`), answered by serf agents and grapevine ones alike,
// summed up as the native dialect's answer. nullopt when the node is not in the serf dialect.
std::optional<nlohmann::json> run_serf_keys(const std::string& op, std::span<const std::byte> key,
                                            Duration timeout, NodeHandle& node,
                                            const LoopRunner& loop) {
  const std::string name = op == "list" ? "_serf_list-keys" : "_serf_" + op + "-key";
  Result<std::uint64_t> lt = make_error(Errc::not_ready, "not issued");
  std::size_t members = 0;
  const Time issued = Runtime::now();
  loop([&] {
    members = node.membership().member_count(MemberState::alive);
    SerfQueryOptions options;
    options.timeout = timeout;  // zero: serf's default (3.2 s and up with LAN timings)
    lt = node.serf_query(name, key, options);
  });
  if (!lt && std::string_view(lt.error().detail).find("serf dialect") != std::string_view::npos) {
    return std::nullopt;  // the native dialect: its own keyring queries
  }
  if (!lt) return fail(std::string("keys: ") + lt.error().detail);
  SerfQueryResult r;
  for (;;) {  // until every live member answered, or the deadline
    bool known = false;
    loop([&] { known = node.serf_query_result(*lt, r); });
    if (!known) return fail("keys: the query was forgotten");
    if (r.done || r.responses.size() >= members || Runtime::now() > r.deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  nlohmann::json failed = nlohmann::json::object(), keys = nlohmann::json::object();
  std::size_t failures = 0;
  for (const auto& [from, bytes] : r.responses) {
    auto a = bytes.empty() || bytes[0] != std::byte(detail::serf::MessageType::key_response)
                 ? Result<detail::serf::KeyResponse>(make_error(Errc::malformed, "not a key response"))
                 : detail::serf::decode_key_response(std::span(bytes).subspan(1));
    if (!a || !a->result) {
      ++failures;
      failed[from] = a ? a->message : std::string("malformed answer");
      continue;
    }
    for (const auto& k : a->keys) keys[k] = keys.value(k, 0) + 1;
  }
  nlohmann::json out = {{"ok", true},          {"op", op},
                        {"members", members},  {"responses", r.responses.size()},
                        {"failures", failures}, {"failed", failed},
                        {"timeout_seconds", double((r.deadline - issued).ns()) / 1e9}};
  if (op == "list") out["keys"] = keys;
  return out;
}

nlohmann::json run_keys(const nlohmann::json& req, NodeHandle& node, const LoopRunner& loop) {
  static const std::map<std::string, KeyringCommand> ops = {{"list", KeyringCommand::list},
                                                            {"install", KeyringCommand::install},
                                                            {"use", KeyringCommand::use},
                                                            {"remove", KeyringCommand::remove}};
  const auto op = ops.find(req.value("op", "list"));
  if (op == ops.end()) return fail("keys: op must be list, install, use or remove");
  std::vector<std::byte> key;
  if (op->second != KeyringCommand::list) {
    auto k = base64_decode(req.value("key", ""));
    if (!k) return fail("keys: the key is not base64");
    key = std::move(*k);
  }
  QueryParams params;
  params.timeout = Duration::milliseconds(req.value("timeout_ms", std::int64_t(0)));
  if (params.timeout < Duration::zero()) return fail("keys: timeout_ms must not be negative");
  if (auto serf = run_serf_keys(op->first, key, params.timeout, node, loop)) return *serf;
  auto g = std::make_shared<Gather>();
  Result<QueryTicket> t = make_error(Errc::not_ready, "not issued");
  Time issued{};
  std::size_t members = 0;
  loop([&] {
    issued = Runtime::now();
    members = node.membership().member_count(MemberState::alive);
    {
      std::lock_guard<std::mutex> lock(g->mu);
      g->expect = members;
    }
    t = node.keyring_query(op->second, key, params, gatherer(g));
  });
  if (!t) return fail(std::string("keys: ") + t.error().detail);
  wait_done(*g, *t);
  std::lock_guard<std::mutex> lock(g->mu);
  nlohmann::json failed = nlohmann::json::object(), keys = nlohmann::json::object();
  std::size_t failures = 0;
  for (const auto& [from, bytes] : g->responses) {
    auto a = decode_keyring_answer(bytes);
    if (!a || !a->ok) {
      ++failures;
      failed[from] = a ? a->message : std::string("malformed answer");
      continue;
    }
    for (const auto& k : a->keys) {
      const std::string b64 = base64_encode(k);
      keys[b64] = keys.value(b64, 0) + 1;
    }
  }
  nlohmann::json out = {{"ok", true},          {"op", op->first},
                        {"members", members},  {"responses", g->responses.size()},
                        {"failures", failures}, {"failed", failed},
                        {"timeout_seconds", seconds_of(*t, issued)}};
  if (op->second == KeyringCommand::list) out["keys"] = keys;
  return out;
}

}  // namespace

std::optional<nlohmann::json> handle_query_rpc(const std::string& cmd, const nlohmann::json& req,
                                               NodeHandle& node, const LoopRunner& loop) {
  if (cmd == "query") return run_query(req, node, loop);
  if (cmd == "keys" && !req.value("local", false)) return run_keys(req, node, loop);
  return std::nullopt;
}

}  // namespace grapevine::tools
