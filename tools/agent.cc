// grapevine agent: one node on real sockets, controlled over a local RPC address, with readable
// logs, Prometheus metrics, and a graceful leave on SIGINT/SIGTERM.
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <future>
#include <map>
#include <optional>
#include <thread>

#include "regex/re2_tag_matcher.h"
#include "agent_config.h"
#include "agent_services.h"
#include "agent_tls.h"
#include "base64.h"
#include "commands.h"
#include "kv.h"
#include "node_json.h"
#include "node_flags.h"
#include "options.h"
#include "query_rpc.h"
#include "rpc.h"
#include "ui_server.h"

namespace grapevine::tools {
namespace {

struct Flags {
  NodeFlags node;
  ServiceFlags service;  // event handlers, snapshot, retry-join (agent_services.h)
  std::string name, bind, join, rpc_addr, metrics_addr, leave_timeout, log_level;
  std::string ui_addr;
  // Limits (docs/limits.md); empty = as the TOML file or the default.
  std::string allowed_cidrs, inbound_streams_max, inbound_stream_bytes_max, stream_timeout,
      datagrams_per_source, rate_limited_sources_max, rpc_auth, rpc_clients_max,
      rpc_request_bytes_max, rpc_output_bytes_max;
  bool insecure = false;
  TlsFlags tls;  // --tls-cert, --tls-key, --tls-ca (agent_tls.h)
  std::vector<std::string> query_responses;  // --query-response NAME=TEXT
};

// The limit flags over the TOML file's values.
void apply_limit_flags(const Flags& f, AgentConfig& c) {
  constexpr std::uint32_t kMax = 1u << 30;
  RuntimeOptions& r = c.runtime;
  if (!f.allowed_cidrs.empty()) {
    r.allowed_cidrs = parse_cidr_list("--allowed-cidrs", split_list(f.allowed_cidrs));
  }
  if (!f.inbound_streams_max.empty()) {
    r.inbound_streams_max = parse_count("--inbound-streams-max", f.inbound_streams_max, 0, kMax);
  }
  if (!f.inbound_stream_bytes_max.empty()) {
    r.inbound_stream_bytes_max =
        parse_bytes("--inbound-stream-bytes-max", f.inbound_stream_bytes_max);
  }
  if (!f.stream_timeout.empty()) {
    r.stream_timeout = parse_duration("--stream-timeout", f.stream_timeout);
  }
  if (!f.datagrams_per_source.empty()) {
    r.datagrams_per_source_per_second =
        parse_count("--datagrams-per-source", f.datagrams_per_source, 0, 1000000);
  }
  if (!f.rate_limited_sources_max.empty()) {
    r.rate_limited_sources_max =
        parse_count("--rate-limited-sources-max", f.rate_limited_sources_max, 1, 1u << 24);
  }
  if (!f.rpc_auth.empty()) {
    c.rpc.auth = f.rpc_auth;
  } else if (const char* env = std::getenv("GRAPEVINE_RPC_AUTH");
             env && *env && c.rpc.auth.empty()) {
    c.rpc.auth = env;
  }
  if (!f.rpc_clients_max.empty()) {
    c.rpc.clients_max = parse_count("--rpc-clients-max", f.rpc_clients_max, 1, 65536);
  }
  if (!f.rpc_request_bytes_max.empty()) {
    c.rpc.request_bytes_max = parse_bytes("--rpc-request-bytes-max", f.rpc_request_bytes_max);
  }
  if (!f.rpc_output_bytes_max.empty()) {
    c.rpc.output_bytes_max = parse_bytes("--rpc-output-bytes-max", f.rpc_output_bytes_max);
  }
  if (c.rpc.request_bytes_max == 0 || c.rpc.output_bytes_max == 0) {
    throw UsageError("--rpc-request-bytes-max/--rpc-output-bytes-max: must be > 0");
  }
  if (r.stream_timeout <= Duration::zero()) throw UsageError("--stream-timeout: must be > 0");
}

void add_limit_flags(CLI::App& cmd, Flags& f) {
  cmd.add_option("--allowed-cidrs", f.allowed_cidrs,
                 "accept datagrams and streams only from these networks, comma-separated "
                 "(A.B.C.D/N or IPV6/N; default: all)");
  cmd.add_option("--inbound-streams-max", f.inbound_streams_max,
                 "inbound TCP streams open at once; more are closed at once (default 128)");
  cmd.add_option("--inbound-stream-bytes-max", f.inbound_stream_bytes_max,
                 "bytes buffered across all inbound streams; a stream passing it is dropped "
                 "(default 64MiB)");
  cmd.add_option("--stream-timeout", f.stream_timeout,
                 "give-up time of each TCP stream, from connect/accept (default 10s)");
  cmd.add_option("--datagrams-per-source", f.datagrams_per_source,
                 "datagrams per second accepted from one source IP (default 0 = no limit)");
  cmd.add_option("--rate-limited-sources-max", f.rate_limited_sources_max,
                 "source IPs the datagram rate limiter tracks (default 4096)");
  cmd.add_option("--rpc-auth", f.rpc_auth,
                 "token every RPC request must carry (clients: --rpc-auth; env "
                 "GRAPEVINE_RPC_AUTH)");
  cmd.add_option("--rpc-clients-max", f.rpc_clients_max,
                 "RPC clients connected at once; more are refused (default 64)");
  cmd.add_option("--rpc-request-bytes-max", f.rpc_request_bytes_max,
                 "longest RPC request line (default 1MiB)");
  cmd.add_option("--rpc-output-bytes-max", f.rpc_output_bytes_max,
                 "output queued per RPC client; a monitor further behind is dropped "
                 "(default 4MiB)");
}

bool is_loopback(const Address& a) {
  if (a.family == 4) return a.ip[0] == 127;
  static constexpr std::uint8_t kV6Loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return a.family == 6 && std::equal(a.ip.begin(), a.ip.end(), kV6Loopback);
}

// Protected by default: a node reachable from a network needs a key (docs/security.md).
void check_protected(const AgentConfig& c, bool insecure) {
  if (!insecure && !c.insecure && c.ui_addr && !is_loopback(*c.ui_addr) && c.rpc.auth.empty()) {
    throw UsageError("refusing to serve the UI on " + c.ui_addr->to_string() +
                     " without a token: pass --rpc-auth TOKEN (then open "
                     "http://HOST:PORT/?token=TOKEN), or --insecure");
  }
  if (insecure || c.insecure || !c.node.membership.memberlist.keys.empty()) return;
  if (is_loopback(c.bind)) return;
  throw UsageError("refusing to bind " + c.bind.to_string() +
                   " without a key: pass --encrypt KEY (make one with `grapevine keygen`), or "
                   "--insecure to run unencrypted");
}

AgentConfig build_config(const Flags& f) {
  AgentConfig c = build_agent_config(f.node);
  if (!f.name.empty()) c.name = f.name;
  if (!f.bind.empty()) c.bind = parse_address("--bind", f.bind);
  if (!f.join.empty()) {  // IP:PORT seeds, and DNS/SRV names resolved when joining (seeds.h)
    c.join.clear();
    c.service.join_names.clear();
    for (const auto& item : split_list(f.join)) {
      if (auto a = Address::parse(item)) c.join.push_back(*a);
      else c.service.join_names.push_back(item);
    }
  }
  apply_service_flags(f.service, c);
  if (!f.rpc_addr.empty()) c.rpc_addr = parse_address("--rpc-addr", f.rpc_addr);
  if (!f.metrics_addr.empty()) c.metrics_addr = parse_address("--metrics-addr", f.metrics_addr);
  if (!f.ui_addr.empty()) c.ui_addr = parse_address("--ui-addr", f.ui_addr);
  if (!f.leave_timeout.empty())
    c.leave_timeout = parse_duration("--leave-timeout", f.leave_timeout);
  if (!f.log_level.empty()) c.log_level = f.log_level;
  apply_limit_flags(f, c);
  apply_tls_flags(f.tls, c);
  if (c.name.empty()) {
    char host[256] = "node";
    gethostname(host, sizeof host - 1);
    c.name = std::string(host) + "-" + std::to_string(c.bind.port);
  }
  c.node.membership.name = c.name;
  check_node_config(c);
  check_protected(c, f.insecure);
  auto level = spdlog::level::from_str(c.log_level);
  if (level == spdlog::level::off && c.log_level != "off") {
    throw UsageError("--log-level: expected trace|debug|info|warn|error|off, got '" + c.log_level +
                     "'");
  }
  spdlog::set_level(level);
  return c;
}

// Runs `fn` on the loop thread and waits for its result.
template <class F>
auto in_loop(Runtime& rt, F&& fn) -> decltype(fn()) {
  auto task = std::make_shared<std::packaged_task<decltype(fn())()>>(std::forward<F>(fn));
  auto future = task->get_future();
  rt.post([task] { (*task)(); });
  if (future.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    throw std::runtime_error("the agent's loop did not answer within 10 s");
  }
  return future.get();
}

// {"cmd":"serf-query","name":N,"payload":P,"nodes":[..],"tags":{"k":"re"},"relay_factor":0,
//  "timeout_ms":0,"ack":true} (serf dialect): sends a serf query and waits for its timeout;
// answers {"ok":true,"ltime":T,"acks":[names],"responses":{name:payload}}.
nlohmann::json handle_serf_query(Runtime& rt, NodeHandle& node, const nlohmann::json& req) {
  auto fail = [](const std::string& why) { return nlohmann::json{{"ok", false}, {"error", why}}; };
  const std::string name = req.value("name", ""), payload = req.value("payload", "");
  SerfQueryOptions o;
  for (const auto& n : req.value("nodes", nlohmann::json::array())) {
    if (n.is_string()) o.nodes.push_back(n.get<std::string>());
  }
  const nlohmann::json tags = req.value("tags", nlohmann::json::object());
  for (const auto& [k, v] : tags.items()) {
    if (!v.is_string()) continue;
    if (auto why = detail::re2_tag_pattern_error(v.get<std::string>()); !why.empty()) {
      return fail("serf-query: tag " + k + ": bad regular expression: " + why);
    }
    o.tags.emplace_back(k, v.get<std::string>());
  }
  o.request_ack = req.value("ack", true);
  o.relay_factor = std::uint8_t(std::clamp(req.value("relay_factor", 0), 0, 255));
  o.timeout = Duration::milliseconds(std::clamp(req.value("timeout_ms", 0), 0, 60'000));
  const Time issued = rt.now();
  auto ltime = in_loop(rt, [&] {
    return node.serf_query(name, std::as_bytes(std::span(payload.data(), payload.size())), o);
  });
  if (!ltime) return fail(ltime.error().detail);
  SerfQueryResult r;
  for (;;) {  // until the deadline (the node marks it done within a second of it)
    if (!in_loop(rt, [&] { return node.serf_query_result(*ltime, r); })) return fail("forgotten");
    if (r.done || rt.now() > r.deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  nlohmann::json responses = nlohmann::json::object();
  for (const auto& [from, p] : r.responses) {
    responses[from] = std::string(reinterpret_cast<const char*>(p.data()), p.size());
  }
  return {{"ok", true},
          {"ltime", *ltime},
          {"acks", r.acks},
          {"responses", responses},
          {"timeout_seconds", double((r.deadline - issued).ns()) / 1e9}};
}

// {"cmd":"keys","op":"list|install|use|remove","key":"BASE64"}: this agent's keyring
// (docs/security.md); answers {"ok":true,"keys":[primary first]}.
nlohmann::json handle_keys(Runtime& rt, NodeHandle& node, const nlohmann::json& req) {
  auto fail = [](const std::string& why) { return nlohmann::json{{"ok", false}, {"error", why}}; };
  const std::string op = req.value("op", "list");
  if (op != "list") {
    KeyringOp k;
    if (op == "install") k = KeyringOp::install;
    else if (op == "use") k = KeyringOp::use;
    else if (op == "remove") k = KeyringOp::remove;
    else return fail("keys: op must be list, install, use or remove");
    auto key = base64_decode(req.value("key", ""));
    if (!key) return fail("keys: the key is not base64");
    auto r = in_loop(rt, [&] { return node.change_keyring(k, *key); });
    if (!r) return fail(std::string("keys: ") + r.error().detail);
  }
  return in_loop(rt, [&] {
    nlohmann::json keys = nlohmann::json::array();
    for (const auto& k : node.keyring()) keys.push_back(base64_encode(k));
    return nlohmann::json{{"ok", true}, {"keys", keys}};
  });
}

// {"cmd":"tags","set":{"k":"v"},"delete":["k"]}: this node's tags, changed while running (a new
// incarnation announces them; `updated` events elsewhere). Answers the tags now in force.
nlohmann::json handle_tags(Runtime& rt, NodeHandle& node, const nlohmann::json& req) {
  auto fail = [](const std::string& why) { return nlohmann::json{{"ok", false}, {"error", why}}; };
  const nlohmann::json set = req.value("set", nlohmann::json::object());
  const nlohmann::json del = req.value("delete", nlohmann::json::array());
  if (!set.is_object() || !del.is_array()) return fail("tags: set must be an object, delete a list");
  return in_loop(rt, [&]() -> nlohmann::json {
    Tags tags;
    const NodeId self = node.membership().self_id();
    for (const auto& m : node.members()) {
      if (m.id != self) continue;
      if (auto t = decode_tags(m.meta)) tags = std::move(*t);
    }
    for (const auto& [k, v] : set.items()) {
      if (!v.is_string() || k.empty()) return fail("tags: each tag is a non-empty key and a string");
      tags.insert_or_assign(k, v.get<std::string>());
    }
    for (const auto& k : del) {
      if (!k.is_string()) return fail("tags: delete takes key strings");
      if (auto it = tags.find(k.get<std::string>()); it != tags.end()) tags.erase(it);
    }
    auto meta = encode_tags(tags);
    if (!meta) return fail(std::string("tags: ") + meta.error().detail);
    if (auto r = node.update_meta(*meta); !r) return fail(r.error().detail);
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [k, v] : tags) out[k] = v;
    return {{"ok", true}, {"tags", out}};
  });
}

nlohmann::json handle(Runtime& rt, NodeHandle& node, const AgentConfig& cfg,
                      const std::atomic<std::uint64_t>& delivered, const nlohmann::json& req,
                      std::function<void()> leave_and_exit) {
  const std::string cmd = req.value("cmd", "");
  auto fail = [](const std::string& why) { return nlohmann::json{{"ok", false}, {"error", why}}; };
  if (cmd == "members") {
    return in_loop(rt, [&] {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& m : node.members()) list.push_back(member_json(m));
      return nlohmann::json{{"ok", true},
                            {"members", list},
                            {"configuration", configuration_json(node.membership().configuration())}};
    });
  }
  if (cmd == "view") {
    return in_loop(rt, [&] {
      const ViewMachine* v = node.view();
      if (v == nullptr) return fail("no partial view (start the agent with --view hyparview)");
      nlohmann::json active = nlohmann::json::array();
      for (const auto& a : v->view()) active.push_back(a.to_string());
      const auto& s = v->stats();
      return nlohmann::json{{"ok", true},
                            {"kind", view_kind_name(v->kind())},
                            {"active", active},
                            {"passive_size", v->passive_size()},
                            {"payload_sent", s.payload_sent},
                            {"duplicates", s.duplicates},
                            {"malformed", s.malformed}};
    });
  }
  if (cmd == "tags") return handle_tags(rt, node, req);
  if (cmd == "serf-query") return handle_serf_query(rt, node, req);
  if (cmd == "event") {  // {"cmd":"event","name":N,"payload":P,"coalesce":true} -> {"ltime":T}
    const std::string name = req.value("name", ""), payload = req.value("payload", "");
    const bool coalesce = req.value("coalesce", true);
    auto r = in_loop(rt, [&] {
      return node.user_event(name, std::as_bytes(std::span(payload.data(), payload.size())),
                             coalesce);
    });
    if (!r) return fail(r.error().detail);
    return {{"ok", true}, {"ltime", *r}};
  }
  if (cmd == "join") {
    std::vector<Address> seeds;
    for (const auto& s : req.value("seeds", nlohmann::json::array())) {
      auto a = Address::parse(s.is_string() ? s.get<std::string>() : "");
      if (!a) return fail("bad seed address (expected IP:PORT)");
      seeds.push_back(*a);
    }
    const JoinOptions options{req.value("replay", false)};  // serf's `join -replay`
    auto r = in_loop(rt, [&] { return node.join(seeds, options); });
    return r ? nlohmann::json{{"ok", true}} : fail(r.error().detail);
  }
  if (cmd == "leave") {
    leave_and_exit();
    return {{"ok", true}};
  }
  if (cmd == "force-leave") {
    std::string name = req.value("name", "");
    auto r = in_loop(rt, [&] { return node.force_leave(name); });
    return r ? nlohmann::json{{"ok", true}} : fail(r.error().detail);
  }
  if (cmd == "send") {
    std::string payload = req.value("payload", "");
    auto r = in_loop(rt, [&] {
      return node.multicast(std::as_bytes(std::span(payload.data(), payload.size())));
    });
    if (!r) return fail(r.error().detail);
    return {{"ok", true}, {"id", message_id_text(*r)}};
  }
  if (cmd == "info") {
    return in_loop(rt, [&] {
      const auto& s = node.membership().stats();
      return nlohmann::json{
          {"ok", true},
          {"name", cfg.name},
          {"address", node.address().to_string()},
          {"detector", detector_name(cfg.node.membership.detector)},
          {"membership", membership_mode_name(cfg.node.membership.mode)},
          {"configuration", configuration_json(node.membership().configuration())},
          {"multicast", cfg.node.view ? "plumtree" : protocol_name(cfg.node.multicast.protocol)},
          {"view", cfg.node.view ? view_kind_name(cfg.node.view->kind) : "none"},
          {"health_score", node.membership().health_score()},
          {"dialect", cfg.node.membership.memberlist.serf ? "serf"
                                                          : dialect_name(cfg.node.membership.dialect)},
          {"topology_aware", cfg.node.multicast.topology_aware},
          {"delivered", delivered.load()},
          {"stats",
           {{"probes", s.probes},
            {"rejected", s.rejected_received + node.seal_stats().rejected_total()},
            {"suspicions", s.suspicions},
            {"refutations", s.refutations},
            {"stream_pings", s.stream_pings},
            {"stream_ping_acks", s.stream_ping_acks},
            {"datagrams_out", node.io_stats().datagrams_out},
            {"datagrams_in", node.io_stats().datagrams_in},
            {"delivered", delivered.load()},
            {"malformed", s.malformed_received + node.multicast_stats().malformed_received}}}};
    });
  }
  auto loop = [&](const std::function<void()>& f) { in_loop(rt, [&] { f(); return 0; }); };
  // `grapevine query` in the serf dialect: serf's own query (serf agents and grapevine members
  // answer), in the native `query` answer's shape; arrival times are not kept there (ms -1).
  if (cmd == "query" && cfg.node.membership.memberlist.serf) {
    nlohmann::json r = handle_serf_query(rt, node, req);
    if (!r.value("ok", false)) return r;
    nlohmann::json events = nlohmann::json::array();
    for (const auto& a : r["acks"]) events.push_back({{"type", "ack"}, {"from", a}, {"ms", -1}});
    for (const auto& [from, p] : r["responses"].items()) {
      events.push_back({{"type", "response"}, {"from", from}, {"ms", -1}, {"payload", p}});
    }
    r["name"] = req.value("name", "");
    r["events"] = events;
    return r;
  }
  if (auto q = handle_query_rpc(cmd, req, node, loop)) return *q;  // query, cluster-wide keys
  if (cmd == "keys") return handle_keys(rt, node, req);             // "local": true
  if (auto kv = handle_kv(cmd, req, node, loop)) return *kv;
  return fail("unknown cmd '" + cmd +
              "' (members, view, join, leave, force-leave, send, info, keys, tags, event, query, "
              "serf-query, monitor, "
              "kv-set, kv-get, kv-delete, kv-list, kv-stats)");
}

int run_agent(const Flags& flags) {
  AgentConfig cfg = build_config(flags);
  // SIGINT/SIGTERM are taken by a thread of ours (sigwait), so block them everywhere first.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  // The runtime's own messages (grapevine/log.h) go to the agent's log.
  cfg.runtime.log = [](LogLevel level, std::string_view message) {
    const auto lv = level == LogLevel::debug  ? spdlog::level::debug
                    : level == LogLevel::info ? spdlog::level::info
                    : level == LogLevel::warn ? spdlog::level::warn
                                              : spdlog::level::err;
    spdlog::log(lv, "{}", message);
  };
  Runtime rt(cfg.runtime);
  EventHub hub;
  AgentServices services(cfg);
  // The browser UI (--ui-addr): its snapshot reads the node on the loop thread.
  NodeHandle* ui_node = nullptr;
  UiServer ui(
      UiServer::Page::agent,
      [&] { return in_loop(rt, [&] { return agent_ui_snapshot(*ui_node, cfg.name); }); },
      cfg.rpc.auth);
  NodeCallbacks cb;
  cb.on_member_event = [&](const Event& e) {
    services.on_event(e);
    if (ui.has_streams() && e.kind != EventKind::state_changed) {
      nlohmann::json j = event_json(e);
      ui.publish(j.value("event", "member"), j);
    }
    if (e.kind == EventKind::view_changed || e.kind == EventKind::view_stalled) {
      spdlog::info("{} configuration {:x} epoch {} ({} members)", event_kind_name(e.kind),
                   e.configuration_id, e.configuration_epoch, e.members.size());
    } else if (e.kind == EventKind::user_event) {
      spdlog::info("user event {} ltime {} ({} bytes)", e.user_name, e.ltime, e.payload.size());
    } else if (e.kind == EventKind::query) {
      spdlog::info("query {} from {} ltime {} ({} bytes)", e.user_name, e.subject_name, e.ltime,
                   e.payload.size());
    } else {
      spdlog::info("member {} {} ({}) incarnation {}", event_kind_name(e.kind), e.subject_name,
                   e.subject.to_string(), e.incarnation);
    }
    hub.publish(event_json(e).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  };
  std::atomic<std::uint64_t> delivered{0};
  cb.on_delivery = [&](const MessageId& id, std::span<const std::byte> payload,
                       std::uint32_t hops) {
    ++delivered;
    if (ui.has_streams()) ui.publish("delivered", delivery_json(id, payload, hops));
    spdlog::info("delivered {} ({} bytes, {} hops)", message_id_text(id), payload.size(), hops);
    hub.publish(delivery_json(id, payload, hops)
                    .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  };
  // Built-in answers to queries by name (a query handler; event handler scripts come later).
  std::map<std::string, std::string, std::less<>> answers;
  for (const auto& a : flags.query_responses) {
    const auto eq = a.find('=');
    if (eq == std::string::npos || eq == 0) throw UsageError("--query-response: expected NAME=TEXT");
    answers[a.substr(0, eq)] = a.substr(eq + 1);
  }
  cb.on_query = [answers, &services, &rt,
                 &ui_node](const Event& e) -> std::optional<std::vector<std::byte>> {
    auto it = answers.find(e.user_name);
    if (it != answers.end()) {
      const auto b = std::as_bytes(std::span(it->second.data(), it->second.size()));
      return std::vector<std::byte>(b.begin(), b.end());
    }
    // A `query` event handler (--event-handler query:NAME=SCRIPT) answers off the loop: its
    // stdout (at most 1 KiB) goes back through NodeHandle::respond.
    HandlerRunner* h = services.handlers();
    const std::string name(e.user_name);
    if (h == nullptr || !h->has_query_handler(name)) return std::nullopt;
    const std::uint64_t ltime = e.ltime;
    const std::uint32_t id = e.query_id;
    h->submit_query(name, std::string(reinterpret_cast<const char*>(e.payload.data()),
                                      e.payload.size()),
                    ltime, [&rt, &ui_node, ltime, id](std::optional<std::string> out) {
                      if (!out) return;
                      rt.post([&ui_node, ltime, id, text = std::move(*out)] {
                        if (ui_node == nullptr) return;
                        auto r = ui_node->respond(
                            ltime, id, std::as_bytes(std::span(text.data(), text.size())));
                        if (!r) spdlog::warn("query handler answer: {}", r.error().detail);
                      });
                    });
    return std::nullopt;
  };
  auto added = rt.add_node(cfg.node, cfg.bind, cb);
  if (!added) {
    throw std::runtime_error("cannot start a node on " + cfg.bind.to_string() + ": " +
                             added.error().detail);
  }
  NodeHandle& node = **added;
  ui_node = &node;
  publish_state_changes(node, hub);
  spdlog::info("agent {} on {} ({} detector, {} multicast)", cfg.name, node.address().to_string(),
               detector_name(cfg.node.membership.detector),
               cfg.node.view ? "plumtree" : protocol_name(cfg.node.multicast.protocol));
  const auto& ms = cfg.node.membership;
  if (!ms.zone.empty() || ms.zone_prefix > 0 || cfg.node.multicast.topology_aware) {
    spdlog::info("zone {}{}", ms.zone.empty() ? "/" + std::to_string(ms.zone_prefix) : ms.zone,
                 cfg.node.multicast.topology_aware ? ", topology-aware multicast" : "");
  }
  if (cfg.runtime.tls.enabled()) {
    spdlog::info("mutual TLS on streams (CA {}){}", cfg.runtime.tls.ca_file,
                 ms.dialect == Dialect::memberlist
                     ? ": not interoperable with Go memberlist, whose streams are plain TCP"
                     : "");
  }
  if (!cfg.join.empty()) {
    if (auto r = node.join(cfg.join, JoinOptions{cfg.service.replay}); !r) {
      spdlog::warn("join: {}", r.error().detail);
    }
  }
  services.start(rt, node);  // seeds by name, the snapshot's members, --retry-join

  std::once_flag leaving;
  auto leave_and_exit = [&] {
    std::call_once(leaving, [&] {
      spdlog::info("leaving the group (waiting {} ms for the news to spread)",
                   cfg.leave_timeout.ms());
      rt.post([&] {
        services.on_leave();
        node.leave();
      });
      std::thread([&rt, t = cfg.leave_timeout] {
        std::this_thread::sleep_for(std::chrono::nanoseconds(t.ns()));
        rt.stop();
      }).detach();
    });
  };
  RpcServer rpc(
      [&](const nlohmann::json& req) {
        return handle(rt, node, cfg, delivered, req, leave_and_exit);
      },
      hub, cfg.rpc);
  if (auto err = rpc.start(cfg.rpc_addr); !err.empty())
    throw std::runtime_error("--rpc-addr: " + err);
  spdlog::info("rpc on {}", cfg.rpc_addr.to_string());
  std::unique_ptr<MetricsServer> metrics;
  if (cfg.metrics_addr) {
    metrics = std::make_unique<MetricsServer>([&] {
      return in_loop(rt, [&] { return render_metrics(node); }) + render_rpc_metrics(rpc.stats()) +
             services.render_metrics() +
             (cfg.ui_addr ? render_ui_metrics(ui.stats()) : std::string());
    });
    if (auto err = metrics->start(*cfg.metrics_addr); !err.empty()) {
      throw std::runtime_error("--metrics-addr: " + err);
    }
    spdlog::info("metrics on http://{}/metrics", cfg.metrics_addr->to_string());
  }
  if (cfg.ui_addr) {
    if (auto err = ui.start(*cfg.ui_addr, is_loopback(*cfg.ui_addr) && cfg.rpc.auth.empty());
        !err.empty()) {
      throw std::runtime_error("--ui-addr: " + err);
    }
    spdlog::info("ui on http://{}/{}", ui.address().to_string(),
                 cfg.rpc.auth.empty() ? "" : "?token=(the --rpc-auth token)");
  }
  std::thread signals([&] {
    int sig = 0;
    sigwait(&sigs, &sig);
    spdlog::info("signal {}: graceful leave", sig == SIGINT ? "SIGINT" : "SIGTERM");
    leave_and_exit();
  });
  signals.detach();

  rt.run();
  ui.stop();
  if (metrics) metrics->stop();
  rpc.stop();
  spdlog::info("agent stopped");
  return 0;
}

}  // namespace

void add_agent(CLI::App& app, std::function<int()>& run_cmd) {
  auto f = std::make_shared<Flags>();
  auto* cmd = app.add_subcommand("agent", "Run one grapevine node on real sockets");
  cmd->add_option("--name", f->name, "member name (default: HOSTNAME-PORT)");
  cmd->add_option("--bind", f->bind, "UDP and TCP address IP:PORT (default 127.0.0.1:7946)");
  cmd->add_option("--join", f->join,
                  "seeds to join through, comma-separated IP:PORT, HOST[:PORT] (A/AAAA) or "
                  "_SERVICE._udp.DOMAIN (SRV)");
  cmd->add_option("--rpc-addr", f->rpc_addr, "local control address (default 127.0.0.1:7373)");
  cmd->add_option("--metrics-addr", f->metrics_addr, "serve Prometheus metrics on IP:PORT");
  cmd->add_option("--ui-addr", f->ui_addr,
                  "serve a live view of the cluster to a browser on http://IP:PORT/ (a "
                  "non-loopback address needs --rpc-auth, whose token the page then needs as "
                  "?token=, or --insecure)");
  cmd->add_option("--leave-timeout", f->leave_timeout,
                  "how long to keep gossiping after a leave before exiting (default 2s)");
  cmd->add_option("--log-level", f->log_level, "trace|debug|info|warn|error|off");
  cmd->add_flag("--insecure", f->insecure,
                "allow a non-loopback --bind without --encrypt (anyone who can send a packet "
                "can then change the membership), and a non-loopback --ui-addr without "
                "--rpc-auth");
  cmd->add_option("--query-response", f->query_responses,
                  "answer queries named NAME with TEXT (NAME=TEXT, repeatable; others get only an "
                  "ack)");
  add_node_flags(*cmd, f->node);
  add_limit_flags(*cmd, *f);
  add_service_flags(*cmd, f->service);
  add_tls_flags(*cmd, f->tls);
  cmd->callback([f, &run_cmd] { run_cmd = [f] { return run_agent(*f); }; });
}

}  // namespace grapevine::tools
