#include "agent_config.h"

#include <algorithm>
#include <cstdint>
#include <toml++/toml.h>

#include "base64.h"
#include "commands.h"
#include "options.h"
#include "service_toml.h"

namespace grapevine::tools {

Address parse_address(const std::string& flag, const std::string& text) {
  auto a = Address::parse(text);
  if (!a) throw UsageError(flag + ": expected IP:PORT (e.g. 127.0.0.1:7946), got '" + text + "'");
  return *a;
}

std::vector<Address> parse_address_list(const std::string& flag, const std::string& text) {
  std::vector<Address> out;
  for (const auto& item : split_list(text)) out.push_back(parse_address(flag, item));
  return out;
}

std::size_t parse_bytes(const std::string& flag, const std::string& text) {
  std::size_t i = 0;
  std::uint64_t v = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9' && v < (std::uint64_t(1) << 40)) {
    v = v * 10 + std::uint64_t(text[i++] - '0');
  }
  const std::string unit = text.substr(i);
  int shift = -1;
  if (unit.empty() || unit == "B") shift = 0;
  if (unit == "K" || unit == "KiB") shift = 10;
  if (unit == "M" || unit == "MiB") shift = 20;
  if (unit == "G" || unit == "GiB") shift = 30;
  if (i == 0 || shift < 0 || v >= (std::uint64_t(1) << 40)) {
    throw UsageError(flag + ": expected a size in bytes (e.g. 67108864 or 64MiB), got '" + text +
                     "'");
  }
  return std::size_t(v << shift);
}

std::vector<Cidr> parse_cidr_list(const std::string& flag, const std::vector<std::string>& items) {
  std::vector<Cidr> out;
  for (const auto& item : items) {
    auto c = Cidr::parse(item);
    if (!c) throw UsageError(flag + ": expected A.B.C.D/N or IPV6/N, got '" + item + "'");
    out.push_back(*c);
  }
  return out;
}

std::pair<std::string, std::string> parse_tag(const std::string& flag, const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw UsageError(flag + ": expected KEY=VALUE, got '" + text + "'");
  }
  return {text.substr(0, eq), text.substr(eq + 1)};
}

MembershipConfig profile_by_name(const std::string& flag, const std::string& name) {
  if (name == "lan") return MembershipConfig::lan();
  if (name == "wan") return MembershipConfig::wan();
  if (name == "local") return MembershipConfig::local();
  throw UsageError(flag + ": expected lan|wan|local, got '" + name + "'");
}

namespace {

struct Table {
  const toml::table& t;
  std::string file;
  std::string prefix;

  [[noreturn]] void bad(const std::string& key, const std::string& what) const {
    throw UsageError(file + ": " + prefix + key + ": " + what);
  }
  std::optional<std::string> str(const std::string& key) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) return std::nullopt;
    if (auto v = n->value<std::string>()) return *v;
    bad(key, "expected a string");
  }
  std::optional<std::int64_t> integer(const std::string& key) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) return std::nullopt;
    if (auto v = n->value<std::int64_t>(); v && *v >= 0) return *v;
    bad(key, "expected a non-negative integer");
  }
  /// A string or an array of strings (absent: empty).
  std::vector<std::string> strings(const std::string& key) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) return {};
    if (auto v = n->value<std::string>()) return {*v};
    std::vector<std::string> out;
    if (const toml::array* a = n->as_array()) {
      for (const toml::node& e : *a) {
        auto v = e.value<std::string>();
        if (!v) bad(key, "expected a string or an array of strings");
        out.push_back(*v);
      }
      return out;
    }
    bad(key, "expected a string or an array of strings");
  }
  std::optional<bool> boolean(const std::string& key) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) return std::nullopt;
    if (auto v = n->value<bool>()) return *v;
    bad(key, "expected true or false");
  }
  std::optional<double> number(const std::string& key) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) return std::nullopt;
    if (auto v = n->value<double>(); v && *v >= 0) return *v;
    bad(key, "expected a non-negative number");
  }
  std::optional<Duration> duration(const std::string& key) const {
    auto s = str(key);
    if (!s) return std::nullopt;
    return parse_duration(file + ": " + prefix + key, *s);
  }
  /// A misspelt key must not be ignored silently: names the first one not in `known`.
  void only(std::initializer_list<const char*> known) const {
    for (const auto& [key, value] : t) {
      bool ok = false;
      for (const char* k : known) ok = ok || key.str() == k;
      if (!ok) throw UsageError(file + ": unknown key '" + prefix + std::string(key.str()) + "'");
    }
  }
};

// A section that is there must be a table ([membership], not membership = ...).
const toml::table* section(const toml::table& root, const std::string& file, const char* name) {
  const toml::node* n = root.get(name);
  if (n == nullptr) return nullptr;
  if (const toml::table* t = n->as_table()) return t;
  throw UsageError(file + ": " + name + ": expected a table ([" + name + "])");
}

// [membership.consistent]: Rapid's timings (ConsistentOptions; defaults in membership.h).
void load_consistent(const Table& t, ConsistentOptions& c) {
  t.only({"rings", "high", "low", "probe_interval", "probe_timeout", "probe_misses",
          "gossip_interval", "gossip_nodes", "retransmit_mult", "propose_delay",
          "unstable_timeout", "classic_timeout", "stall_timeout"});
  if (auto v = t.integer("rings")) c.rings = std::uint32_t(*v);
  if (auto v = t.integer("high")) c.high = std::uint32_t(*v);
  if (auto v = t.integer("low")) c.low = std::uint32_t(*v);
  if (auto v = t.duration("probe_interval")) c.probe_interval = *v;
  if (auto v = t.duration("probe_timeout")) c.probe_timeout = *v;
  if (auto v = t.integer("probe_misses")) c.probe_misses = std::uint32_t(*v);
  if (auto v = t.duration("gossip_interval")) c.gossip_interval = *v;
  if (auto v = t.integer("gossip_nodes")) c.gossip_nodes = std::uint32_t(*v);
  if (auto v = t.integer("retransmit_mult")) c.retransmit_mult = std::uint32_t(*v);
  if (auto v = t.duration("propose_delay")) c.propose_delay = *v;
  if (auto v = t.duration("unstable_timeout")) c.unstable_timeout = *v;
  if (auto v = t.duration("classic_timeout")) c.classic_timeout = *v;
  if (auto v = t.duration("stall_timeout")) c.stall_timeout = *v;
  if (c.rings < 1 || c.rings > 16) t.bad("rings", "expected 1..16");
  if (c.low < 1 || c.low > c.high || c.high > c.rings) {
    t.bad("high", "expected 1 <= low <= high <= rings");
  }
  if (c.probe_interval <= Duration{} || c.gossip_interval <= Duration{} || c.probe_misses < 1) {
    t.bad("probe_interval", "probe_interval, gossip_interval and probe_misses must be positive");
  }
}

void load_membership(const Table& t, MembershipConfig& m) {
  t.only({"profile", "mode", "consistent", "rings", "high", "low", "detector", "probe_interval", "probe_timeout", "indirect_checks",
          "suspicion_mult", "retransmit_mult", "gossip_interval", "gossip_nodes",
          "push_pull_interval", "heartbeat_interval", "fail_timeout", "dialect", "encrypt", "label",
          "delegate_vsn", "serf_respond", "tcp_fallback_ping", "heartbeat_fanout", "phi_threshold", "phi_window",
          "phi_min_std_deviation", "phi_acceptable_pause", "phi_first_heartbeat_estimate",
          "join_reply_gossip", "join_reply_gossip_newest", "rumor_stop_after",
          "rumor_stop_after_accusations", "expected_members"});
  if (auto p = t.str("profile")) {
    Detector keep = m.detector;
    MembershipMode keep_mode = m.mode;
    m = profile_by_name(t.file + ": membership.profile", *p);
    m.detector = keep;
    m.mode = keep_mode;
  }
  if (auto v = t.str("mode"); v && !parse_membership_mode(*v, m.mode)) {
    t.bad("mode", "expected eventual|consistent");
  }
  // Consistent mode (Rapid): K rings, thresholds H and L.
  if (auto v = t.integer("rings")) m.consistent.rings = std::uint32_t(*v);
  if (auto v = t.integer("high")) m.consistent.high = std::uint32_t(*v);
  if (auto v = t.integer("low")) m.consistent.low = std::uint32_t(*v);
  if (const toml::node* n = t.t.get("consistent")) {
    const toml::table* c = n->as_table();
    if (c == nullptr) t.bad("consistent", "expected a table ([membership.consistent])");
    load_consistent(Table{*c, t.file, t.prefix + "consistent."}, m.consistent);
  }
  if (auto d = t.str("detector"); d && !parse_detector(*d, m.detector)) {
    t.bad("detector", "expected swim|lifeguard|gossip-heartbeat|all-to-all|phi");
  }
  if (auto v = t.duration("probe_interval")) m.probe_interval = *v;
  if (auto v = t.duration("probe_timeout")) m.probe_timeout = *v;
  if (auto v = t.integer("indirect_checks")) m.indirect_checks = std::uint32_t(*v);
  if (auto v = t.integer("suspicion_mult")) m.suspicion_mult = std::uint32_t(*v);
  if (auto v = t.integer("retransmit_mult")) m.retransmit_mult = std::uint32_t(*v);
  if (auto v = t.duration("gossip_interval")) m.gossip_interval = *v;
  if (auto v = t.integer("gossip_nodes")) m.gossip_nodes = std::uint32_t(*v);
  if (auto v = t.duration("push_pull_interval")) m.push_pull_interval = *v;
  if (auto v = t.duration("heartbeat_interval")) m.heartbeat_interval = *v;
  if (auto v = t.duration("fail_timeout")) m.fail_timeout = *v;
  if (auto v = t.boolean("tcp_fallback_ping")) m.tcp_fallback_ping = *v;
  if (auto v = t.boolean("join_reply_gossip")) m.join_reply_gossip = *v;
  if (auto v = t.integer("join_reply_gossip_newest")) {
    m.join_reply_gossip_newest = std::uint32_t(std::clamp<std::int64_t>(*v, 0, UINT32_MAX));
  }
  if (auto v = t.integer("heartbeat_fanout")) m.heartbeat_fanout = std::uint32_t(*v);
  if (auto v = t.integer("rumor_stop_after")) {
    if (*v < 0 || *v > 1000) t.bad("rumor_stop_after", "expected 0 (off) .. 1000");
    m.rumor_stop_after = std::uint32_t(*v);
  }
  if (auto v = t.integer("rumor_stop_after_accusations")) {
    if (*v < 0 || *v > 1000) t.bad("rumor_stop_after_accusations", "expected 0 (off) .. 1000");
    m.rumor_stop_after_accusations = std::uint32_t(*v);
  }
  if (auto v = t.integer("expected_members")) {
    if (*v < 0 || *v > 4194304) t.bad("expected_members", "expected 0 (grow as needed) .. 4194304");
    m.expected_members = std::uint32_t(*v);
  }
  if (auto v = t.number("phi_threshold")) m.phi_threshold = *v;
  if (auto v = t.integer("phi_window")) {
    m.phi_window = std::uint32_t(std::min<std::int64_t>(*v, UINT32_MAX));
  }
  if (auto v = t.duration("phi_min_std_deviation")) m.phi_min_std_deviation = *v;
  if (auto v = t.duration("phi_acceptable_pause")) m.phi_acceptable_pause = *v;
  if (auto v = t.duration("phi_first_heartbeat_estimate")) m.phi_first_heartbeat_estimate = *v;
  if (auto d = t.str("dialect"); d && *d == "serf") {
    use_serf_dialect(m);
  } else if (d && !parse_dialect(*d, m.dialect)) {
    t.bad("dialect", "expected native|memberlist|serf");
  }
  for (const std::string& r : t.strings("serf_respond")) {
    const auto eq = r.find('=');
    if (eq == std::string::npos) t.bad("serf_respond", "expected [\"QUERY=RESPONSE\", ...]");
    m.memberlist.serf_responses.emplace_back(r.substr(0, eq), r.substr(eq + 1));
  }
  for (const std::string& k : t.strings("encrypt")) {
    auto key = base64_decode(k);
    if (!key || (key->size() != 16 && key->size() != 24 && key->size() != 32)) {
      t.bad("encrypt", "each key must be base64 of 16, 24 or 32 bytes (serf keygen)");
    }
    m.memberlist.keys.push_back(*key);
  }
  if (auto v = t.str("label")) m.memberlist.label = *v;
  if (const toml::node* n = t.t.get("delegate_vsn")) {
    const toml::array* a = n->as_array();
    if (a == nullptr || a->size() != 3) t.bad("delegate_vsn", "expected [MIN, MAX, CUR]");
    std::uint8_t v[3];
    for (std::size_t i = 0; i < 3; ++i) {
      auto x = (*a)[i].value<std::int64_t>();
      if (!x || *x < 0 || *x > 255) t.bad("delegate_vsn", "expected integers in [0, 255]");
      v[i] = std::uint8_t(*x);
    }
    m.memberlist.delegate_min = v[0], m.memberlist.delegate_max = v[1];
    m.memberlist.delegate_cur = v[2];
  }
  if (m.dialect == Dialect::native) {
    for (const auto& k : m.memberlist.keys) {
      if (k.size() != 32) t.bad("encrypt", "the native dialect takes 32-byte keys (grapevine keygen)");
    }
  }
}

std::uint32_t count(const Table& t, const std::string& key, std::int64_t max) {
  auto v = t.integer(key);
  if (*v > max) t.bad(key, "at most " + std::to_string(max));
  return std::uint32_t(*v);
}

// A size: an integer (bytes) or a string such as "64MiB"; nullopt when absent.
std::optional<std::size_t> bytes(const Table& t, const std::string& key) {
  const toml::node* n = t.t.get(key);
  if (n == nullptr) return std::nullopt;
  if (auto v = n->value<std::int64_t>(); v && *v >= 0) return std::size_t(*v);
  if (auto s = n->value<std::string>()) return parse_bytes(t.file + ": " + key, *s);
  t.bad(key, "expected a size (bytes, or a string such as \"64MiB\")");
}

// The top-level limit keys (docs/limits.md).
void load_limits(const Table& t, AgentConfig& c) {
  RuntimeOptions& r = c.runtime;
  if (t.t.get("allowed_cidrs") != nullptr) {
    r.allowed_cidrs = parse_cidr_list(t.file + ": allowed_cidrs", t.strings("allowed_cidrs"));
  }
  if (t.t.get("inbound_streams_max")) {
    r.inbound_streams_max = count(t, "inbound_streams_max", 1 << 20);
  }
  if (auto v = bytes(t, "inbound_stream_bytes_max")) r.inbound_stream_bytes_max = *v;
  if (auto v = t.duration("stream_timeout")) r.stream_timeout = *v;
  if (t.t.get("datagrams_per_source_per_second")) {
    r.datagrams_per_source_per_second = count(t, "datagrams_per_source_per_second", 1000000);
  }
  if (t.t.get("rate_limited_sources_max")) {
    r.rate_limited_sources_max = count(t, "rate_limited_sources_max", 1 << 24);
  }
  if (auto v = t.str("rpc_auth")) c.rpc.auth = *v;
  if (t.t.get("rpc_clients_max")) c.rpc.clients_max = count(t, "rpc_clients_max", 65536);
  if (auto v = bytes(t, "rpc_request_bytes_max")) c.rpc.request_bytes_max = *v;
  if (auto v = bytes(t, "rpc_output_bytes_max")) c.rpc.output_bytes_max = *v;
  // Mutual TLS for streams (checked with the flags: agent_tls.cc).
  if (auto v = t.str("tls_cert")) r.tls.cert_file = *v;
  if (auto v = t.str("tls_key")) r.tls.key_file = *v;
  if (auto v = t.str("tls_ca")) r.tls.ca_file = *v;
}

void load_multicast(const Table& t, MulticastConfig& c) {
  t.only(
      {"protocol", "fanout", "pull_fanout", "period", "stop", "stop_rounds", "retention_periods",
       "topology_aware"});
  if (auto p = t.str("protocol"); p && !parse_protocol(p->c_str(), c.protocol)) {
    t.bad("protocol", "expected push|pull|pushpull|centralized|tree-ack|tree-nack");
  }
  if (auto v = t.integer("fanout")) c.fanout = std::uint32_t(*v);
  if (auto v = t.integer("pull_fanout")) c.pull_fanout = std::uint32_t(*v);
  if (auto v = t.duration("period")) c.period = *v;
  if (auto s = t.str("stop"); s && !parse_stop_rule(s->c_str(), c.stop)) {
    t.bad("stop", "expected none|rounds|infect-and-die|counter|coin");
  }
  if (auto v = t.integer("stop_rounds")) c.stop_rounds = std::uint32_t(*v);
  if (auto v = t.integer("retention_periods")) c.retention_periods = std::uint32_t(*v);
  if (const toml::node* n = t.t.get("topology_aware")) {
    auto b = n->value<bool>();
    if (!b) t.bad("topology_aware", "expected true or false");
    c.topology_aware = *b;
  }
}

// [state]: the replicated node state (StateConfig, include/grapevine/state.h).
void load_state(const Table& t, StateConfig& c) {
  t.only({"enabled", "gossip_interval", "fanout", "tombstone_grace", "departed_grace",
          "key_bytes_max", "value_bytes_max", "keys_per_node_max", "node_bytes_max",
          "peer_bytes_max"});
  if (const toml::node* n = t.t.get("enabled")) {
    auto v = n->value<bool>();
    if (!v) t.bad("enabled", "expected true or false");
    c.enabled = *v;
  }
  if (auto v = t.duration("gossip_interval")) c.gossip_interval = *v;
  if (auto v = t.integer("fanout")) c.fanout = std::uint32_t(*v);
  if (auto v = t.duration("tombstone_grace")) c.tombstone_grace = *v;
  if (auto v = t.duration("departed_grace")) c.departed_grace = *v;
  if (auto v = t.integer("key_bytes_max")) c.key_bytes_max = std::size_t(*v);
  if (auto v = t.integer("value_bytes_max")) c.value_bytes_max = std::size_t(*v);
  if (auto v = t.integer("keys_per_node_max")) c.keys_per_node_max = std::size_t(*v);
  if (auto v = t.integer("node_bytes_max")) c.node_bytes_max = std::size_t(*v);
  if (auto v = t.integer("peer_bytes_max")) c.peer_bytes_max = std::size_t(*v);
  if (c.gossip_interval <= Duration::zero()) t.bad("gossip_interval", "must be positive");
  if (c.fanout < 1 || c.fanout > 8) t.bad("fanout", "expected 1..8");
  if (c.key_bytes_max > 4096) t.bad("key_bytes_max", "at most 4096 (the wire limit)");
  if (c.value_bytes_max > (1u << 20)) t.bad("value_bytes_max", "at most 1048576 (the wire limit)");
}

}  // namespace

void load_toml(const std::string& path, AgentConfig& config) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto line = e.source().begin.line;  // 0 when the file could not be read at all
    throw UsageError(path + ": " + std::string(e.description()) +
                     (line > 0 ? " (line " + std::to_string(line) + ")" : std::string()));
  }
  Table t{root, path, ""};
  if (auto v = t.str("name")) config.name = *v;
  if (auto v = t.str("bind")) config.bind = parse_address(path + ": bind", *v);
  if (const toml::node* n = root.get("join")) {
    const toml::array* arr = n->as_array();
    if (arr == nullptr) t.bad("join", "expected an array of \"IP:PORT\" strings");
    config.join.clear();
    config.service.join_names.clear();
    for (const auto& item : *arr) {
      auto s = item.value<std::string>();
      if (!s) t.bad("join", "expected an array of \"IP:PORT\" strings");
      if (auto a = Address::parse(*s)) {
        config.join.push_back(*a);
      } else {
        config.service.join_names.push_back(*s);  // a DNS or SRV name (seeds.h)
      }
    }
  }
  if (auto v = t.str("rpc_addr")) config.rpc_addr = parse_address(path + ": rpc_addr", *v);
  if (auto v = t.str("metrics_addr")) {
    config.metrics_addr = parse_address(path + ": metrics_addr", *v);
  }
  if (auto v = t.str("ui_addr")) config.ui_addr = parse_address(path + ": ui_addr", *v);
  if (auto v = t.duration("leave_timeout")) config.leave_timeout = *v;
  if (auto v = t.str("log_level")) config.log_level = *v;
  if (const toml::node* n = root.get("insecure")) {
    auto v = n->value<bool>();
    if (!v) t.bad("insecure", "expected true or false");
    config.insecure = *v;
  }
  if (auto v = t.str("view"); v && *v != "none") {
    ViewConfig view;
    if (!parse_view_kind(v->c_str(), view.kind) || view.kind != ViewKind::hyparview) {
      t.bad("view", "expected \"hyparview\" or \"none\", got '" + *v + "'");
    }
    config.node.view = view;
  }
  load_limits(t, config);
  if (auto v = t.str("zone")) config.node.membership.zone = *v;
  if (root.get("zone_prefix") != nullptr) {
    config.node.membership.zone_prefix = std::uint8_t(count(t, "zone_prefix", 128));
  }
  // `membership = "consistent"` (top level, instead of a [membership] table) picks the mode.
  if (const toml::node* n = root.get("membership"); n != nullptr && n->is_string()) {
    if (!parse_membership_mode(*n->value<std::string>(), config.node.membership.mode)) {
      t.bad("membership", "expected \"eventual\" or \"consistent\" (or a [membership] table)");
    }
  } else if (const toml::table* m = section(root, path, "membership")) {
    load_membership(Table{*m, path, "membership."}, config.node.membership);
  }
  if (const toml::table* tags = section(root, path, "tags")) {
    for (const auto& [key, value] : *tags) {
      auto v = value.value<std::string>();
      if (!v) t.bad("tags." + std::string(key.str()), "expected a string");
      config.tags.insert_or_assign(std::string(key.str()), *v);
    }
  }
  if (const toml::table* m = section(root, path, "multicast")) {
    load_multicast(Table{*m, path, "multicast."}, config.node.multicast);
  }
  if (const toml::table* m = section(root, path, "state")) {
    load_state(Table{*m, path, "state."}, config.node.state);
  }
  load_service_toml(root, path, config.service);
  for (const auto& [key, value] : root) {
    if (is_service_key(key.str())) continue;
    static const char* known[] = {"name",      "bind",         "join",
                                  "rpc_addr",  "metrics_addr", "leave_timeout",
                                  "log_level", "membership",   "multicast",
                                  "view",      "insecure",     "state",
                                  "tags",      "zone",         "zone_prefix",
                                  "ui_addr"};
    static const char* limits[] = {"allowed_cidrs",   "inbound_streams_max",
                                   "inbound_stream_bytes_max",        "stream_timeout",
                                   "datagrams_per_source_per_second", "rate_limited_sources_max",
                                   "rpc_auth",        "rpc_clients_max",
                                   "rpc_request_bytes_max",           "rpc_output_bytes_max",
                                   "tls_cert", "tls_key", "tls_ca"};
    bool ok = false;
    for (const char* k : known) ok = ok || key.str() == k;
    for (const char* k : limits) ok = ok || key.str() == k;
    if (!ok) throw UsageError(path + ": unknown key '" + std::string(key.str()) + "'");
  }
}

}  // namespace grapevine::tools
