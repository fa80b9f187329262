#include "agent_config.h"

#include <toml++/toml.h>

#include "base64.h"
#include "commands.h"
#include "options.h"

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

void load_membership(const Table& t, MembershipConfig& m) {
  t.only({"profile", "detector", "probe_interval", "probe_timeout", "indirect_checks",
          "suspicion_mult", "retransmit_mult", "gossip_interval", "gossip_nodes",
          "push_pull_interval", "heartbeat_interval", "fail_timeout", "dialect", "encrypt", "label",
          "delegate_vsn"});
  if (auto p = t.str("profile")) {
    Detector keep = m.detector;
    m = profile_by_name(t.file + ": membership.profile", *p);
    m.detector = keep;
  }
  if (auto d = t.str("detector"); d && !parse_detector(*d, m.detector)) {
    t.bad("detector", "expected swim|lifeguard|gossip-heartbeat|all-to-all");
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
  if (auto d = t.str("dialect"); d && !parse_dialect(*d, m.dialect)) {
    t.bad("dialect", "expected native|memberlist");
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
  if ((!m.memberlist.keys.empty() || !m.memberlist.label.empty()) &&
      m.dialect != Dialect::memberlist) {
    t.bad("encrypt", "encrypt/label need dialect = \"memberlist\"");
  }
}

void load_multicast(const Table& t, MulticastConfig& c) {
  t.only(
      {"protocol", "fanout", "pull_fanout", "period", "stop", "stop_rounds", "retention_periods"});
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
    for (const auto& item : *arr) {
      auto s = item.value<std::string>();
      if (!s) t.bad("join", "expected an array of \"IP:PORT\" strings");
      config.join.push_back(parse_address(path + ": join", *s));
    }
  }
  if (auto v = t.str("rpc_addr")) config.rpc_addr = parse_address(path + ": rpc_addr", *v);
  if (auto v = t.str("metrics_addr")) {
    config.metrics_addr = parse_address(path + ": metrics_addr", *v);
  }
  if (auto v = t.duration("leave_timeout")) config.leave_timeout = *v;
  if (auto v = t.str("log_level")) config.log_level = *v;
  if (auto v = t.str("view"); v && *v != "none") {
    ViewConfig view;
    if (!parse_view_kind(v->c_str(), view.kind) || view.kind != ViewKind::hyparview) {
      t.bad("view", "expected \"hyparview\" or \"none\", got '" + *v + "'");
    }
    config.node.view = view;
  }
  if (const toml::table* m = section(root, path, "membership")) {
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
  for (const auto& [key, value] : root) {
    static const char* known[] = {"name",      "bind",         "join",
                                  "rpc_addr",  "metrics_addr", "leave_timeout",
                                  "log_level", "membership",   "multicast",
                                  "view",      "tags"};
    bool ok = false;
    for (const char* k : known) ok = ok || key.str() == k;
    if (!ok) throw UsageError(path + ": unknown key '" + std::string(key.str()) + "'");
  }
}

}  // namespace grapevine::tools
