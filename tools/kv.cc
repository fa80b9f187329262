// `grapevine kv set|get|delete|list|watch`: the replicated node state through an agent's RPC.
// Agent commands: kv-set {key, value, ttl_ms}, kv-get {key, node}, kv-delete {key},
// kv-list {prefix}, kv-stats; changes reach `monitor` streams as {"event":"state",...} lines, which
// `kv watch` filters by prefix.
#include "kv.h"

#include <cstdio>
#include <iostream>

#include "agent_config.h"
#include "options.h"

namespace grapevine::tools {

namespace {

std::string text(std::span<const std::byte> b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

// The member name of the node with this state id ("" when unknown), from the node's loop.
std::string name_of(const NodeHandle& node, std::uint64_t id) {
  for (const auto& m : node.members()) {
    if (node_id_of(m.address) == id) return m.name;
  }
  return "";
}

nlohmann::json entry_json(const NodeHandle& node, const StateEntry& e) {
  std::string address;
  if (e.node_id >> 48 == 0) {
    address = Address::ipv4_u32(std::uint32_t(e.node_id >> 16), std::uint16_t(e.node_id))
                  .to_string();
  }
  return {{"node", name_of(node, e.node_id)}, {"address", address}, {"key", e.key},
          {"value", e.value},                {"version", e.version}};
}

nlohmann::json fail(const std::string& why) { return {{"ok", false}, {"error", why}}; }

}  // namespace

std::optional<nlohmann::json> handle_kv(const std::string& cmd, const nlohmann::json& req,
                                        NodeHandle& node, const LoopRunner& in_loop) {
  nlohmann::json out;
  const std::string key = req.value("key", "");
  if (cmd == "kv-set") {
    const std::string value = req.value("value", "");
    const Duration ttl = Duration::milliseconds(req.value("ttl_ms", std::int64_t(0)));
    in_loop([&] {
      auto r = node.set(key, value, ttl);
      out = r ? nlohmann::json{{"ok", true}, {"version", *r}} : fail(r.error().detail);
    });
  } else if (cmd == "kv-get") {
    const std::string who = req.value("node", "");
    in_loop([&] {
      auto e = node.get(who, key);
      out = e ? nlohmann::json{{"ok", true}, {"entry", entry_json(node, *e)}}
              : fail("no key '" + key + "' at node '" + (who.empty() ? "self" : who) + "'");
    });
  } else if (cmd == "kv-delete") {
    in_loop([&] {
      auto r = node.erase(key);
      out = r ? nlohmann::json{{"ok", true}, {"version", *r}} : fail(r.error().detail);
    });
  } else if (cmd == "kv-list") {
    const std::string prefix = req.value("prefix", "");
    in_loop([&] {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& e : node.entries(prefix)) list.push_back(entry_json(node, e));
      out = {{"ok", true}, {"entries", list}};
    });
  } else if (cmd == "kv-stats") {
    in_loop([&] {
      const StateStats s = node.state_stats();
      const std::size_t keys = node.entries("").size();
      out = {{"ok", true},
             {"stats",
              {{"keys_held", keys},
               {"rounds", s.rounds},
               {"summaries_sent", s.summaries_sent},
               {"digests_sent", s.digests_sent},
               {"deltas_sent", s.deltas_sent},
               {"streams_sent", s.streams_sent},
               {"bytes_sent", s.bytes_sent + s.stream_bytes_sent},
               {"keys_applied", s.keys_applied},
               {"resets", s.resets},
               {"generations_replaced", s.generations_replaced},
               {"nodes_dropped", s.nodes_dropped},
               {"tombstones_collected", s.tombstones_collected},
               {"ttl_expired", s.ttl_expired},
               {"malformed", s.malformed},
               {"refused_key_bytes", s.refused_key_bytes},
               {"refused_value_bytes", s.refused_value_bytes},
               {"refused_keys_per_node", s.refused_keys_per_node},
               {"refused_node_bytes", s.refused_node_bytes},
               {"refused_peer_bytes", s.refused_peer_bytes}}}};
    });
  } else {
    return std::nullopt;
  }
  return out;
}

void publish_state_changes(NodeHandle& node, EventHub& hub) {
  node.watch("", [&node, &hub](const Event& e) {
    nlohmann::json j = {{"event", "state"},
                        {"op", state_op_name(e.state_op)},
                        {"node", name_of(node, e.subject_id)},
                        {"address", e.subject.to_string()},
                        {"key", std::string(e.key)},
                        {"value", text(e.payload)},
                        {"version", e.version}};
    hub.publish(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  });
}

// ---- client ---------------------------------------------------------------------------------

namespace {

struct KvFlags {
  std::string rpc_addr = "127.0.0.1:7373";
  std::string key, value, node, ttl, prefix;
  bool json = false;
};

nlohmann::json call(const KvFlags& f, const nlohmann::json& req) {
  auto r = rpc_call(parse_address("--rpc-addr", f.rpc_addr), req);
  if (!r.value("ok", false)) throw std::runtime_error("agent: " + r.value("error", "failed"));
  return r;
}

int kv_list(const KvFlags& f) {
  auto r = call(f, {{"cmd", "kv-list"}, {"prefix", f.prefix}});
  if (f.json) {
    std::cout << r["entries"].dump() << "\n";
    return 0;
  }
  std::printf("%-20s %-32s %-8s %s\n", "NODE", "KEY", "VERSION", "VALUE");
  for (const auto& e : r["entries"]) {
    std::string who = e["node"].get<std::string>();
    if (who.empty()) who = e["address"].get<std::string>();
    std::printf("%-20s %-32s %-8llu %s\n", who.c_str(), e["key"].get<std::string>().c_str(),
                (unsigned long long)e["version"].get<std::uint64_t>(),
                e["value"].get<std::string>().c_str());
  }
  return 0;
}

int kv_watch(const KvFlags& f) {
  rpc_stream(parse_address("--rpc-addr", f.rpc_addr), {{"cmd", "monitor"}},
             [&](const nlohmann::json& j) {
               if (j.value("event", "") != "state") return;
               if (!j.value("key", "").starts_with(f.prefix)) return;
               if (f.json) {
                 std::cout << j.dump() << std::endl;
                 return;
               }
               std::string who = j.value("node", "");
               if (who.empty()) who = j.value("address", "");
               std::cout << j.value("op", "") << ' ' << who << ' ' << j.value("key", "") << '='
                         << j.value("value", "") << " (version " << j.value("version", 0)
                         << ")" << std::endl;
             });
  return 0;
}

}  // namespace

void add_kv_commands(CLI::App& app, std::function<int()>& run_cmd) {
  auto f = std::make_shared<KvFlags>();
  auto* kv = app.add_subcommand(
      "kv", "Replicated node state: each node's own keys, gossiped to every live member");
  kv->require_subcommand(1);
  auto rpc = [&](CLI::App* c) {
    c->add_option("--rpc-addr", f->rpc_addr, "the agent's RPC address")->capture_default_str();
  };

  auto* s = kv->add_subcommand("set", "Set this agent's KEY to VALUE (replicated to all)");
  rpc(s);
  s->add_option("key", f->key, "key (at most 256 bytes by default)")->required();
  s->add_option("value", f->value, "value (at most 64 KiB by default)")->required();
  s->add_option("--ttl", f->ttl, "delete the key after this long (e.g. 30s, 5m)");
  s->callback([f, &run_cmd] {
    run_cmd = [f] {
      const std::int64_t ttl_ms = f->ttl.empty() ? 0 : parse_duration("--ttl", f->ttl).ms();
      auto r = call(*f, {{"cmd", "kv-set"}, {"key", f->key}, {"value", f->value},
                         {"ttl_ms", ttl_ms}});
      std::printf("set %s (version %llu)\n", f->key.c_str(),
                  (unsigned long long)r["version"].get<std::uint64_t>());
      return 0;
    };
  });

  auto* g = kv->add_subcommand("get", "Print KEY of this agent, or of --node NAME as it knows it");
  rpc(g);
  g->add_option("key", f->key, "key")->required();
  g->add_option("--node", f->node, "member name or IP:PORT of the owner (default: this agent)");
  g->add_flag("--json", f->json, "print the entry as JSON (node, key, value, version)");
  g->callback([f, &run_cmd] {
    run_cmd = [f] {
      auto r = call(*f, {{"cmd", "kv-get"}, {"key", f->key}, {"node", f->node}});
      if (f->json) std::cout << r["entry"].dump() << "\n";
      else std::cout << r["entry"]["value"].get<std::string>() << "\n";
      return 0;
    };
  });

  auto* d = kv->add_subcommand("delete", "Delete this agent's KEY (replicated)");
  rpc(d);
  d->add_option("key", f->key, "key")->required();
  d->callback([f, &run_cmd] {
    run_cmd = [f] {
      call(*f, {{"cmd", "kv-delete"}, {"key", f->key}});
      std::printf("deleted %s\n", f->key.c_str());
      return 0;
    };
  });

  auto* l = kv->add_subcommand("list", "List every node's keys starting with PREFIX");
  rpc(l);
  l->add_option("prefix", f->prefix, "key prefix (default: all keys)");
  l->add_flag("--json", f->json, "print a JSON array of {node, address, key, value, version}");
  l->callback([f, &run_cmd] { run_cmd = [f] { return kv_list(*f); }; });

  auto* st = kv->add_subcommand("stats", "Print the agent's state counters (JSON)");
  rpc(st);
  st->callback([f, &run_cmd] {
    run_cmd = [f] {
      std::cout << call(*f, {{"cmd", "kv-stats"}})["stats"].dump(2) << "\n";
      return 0;
    };
  });

  auto* w = kv->add_subcommand("watch", "Stream changes (set, update, delete) of keys with PREFIX");
  rpc(w);
  w->add_option("prefix", f->prefix, "key prefix (\"\" = all)")->required();
  w->add_flag("--json", f->json, "print each change as a JSON line");
  w->callback([f, &run_cmd] { run_cmd = [f] { return kv_watch(*f); }; });
}

}  // namespace grapevine::tools
