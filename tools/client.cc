// Client commands that talk to a running agent over its RPC address (rpc.h): members, join,
// leave, force-leave, send, keys, tags, monitor, and kv (kv.cc).
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "agent_config.h"
#include "regex/re2_tag_matcher.h"
#include "commands.h"
#include "kv.h"
#include "options.h"
#include "rpc.h"

namespace grapevine::tools {
namespace {

constexpr const char* kDefaultRpc = "127.0.0.1:7373";

struct ClientFlags {
  std::string rpc_addr = kDefaultRpc;
  std::string rpc_auth;  // --rpc-auth, else $GRAPEVINE_RPC_AUTH
  bool json = false;
  std::string arg;  // seeds, name or payload
  std::vector<std::string> tag_filters;  // members --tag KEY=REGEX
  std::vector<std::string> set_tags;     // tags --set KEY=VALUE
  std::vector<std::string> delete_tags;  // tags --delete KEY
  std::string payload;                   // event NAME [PAYLOAD]
  bool coalesce = true;                  // event --coalesce=false
  // query NAME [PAYLOAD] [--node N]... [--tag K=RE]... [--timeout D] [--no-ack] [--relay-factor R]
  std::vector<std::string> nodes;
  std::string timeout;
  bool no_ack = false;
  int relay_factor = 0;
  bool local = false;  // keys --local: this agent's keyring only
  bool replay = false;  // join --replay
};

std::string auth_token(const ClientFlags& f) {
  if (!f.rpc_auth.empty()) return f.rpc_auth;
  const char* env = std::getenv("GRAPEVINE_RPC_AUTH");
  return env != nullptr ? env : "";
}

// serf's `members -tag key=regex`: every filter's key must be present with a value the regex
// matches as a whole (serf anchors it as ^(?:re)$), in RE2's syntax (src/regex/).
struct TagFilter {
  std::string key, re;
};

std::vector<TagFilter> parse_tag_filters(const std::vector<std::string>& texts) {
  std::vector<TagFilter> out;
  for (const auto& t : texts) {
    auto [k, v] = parse_tag("--tag", t);
    if (auto why = detail::re2_tag_pattern_error(v); !why.empty()) {
      throw UsageError("--tag " + t + ": bad regular expression: " + why);
    }
    out.push_back({k, v});
  }
  return out;
}

bool tags_match(const nlohmann::json& member, const std::vector<TagFilter>& filters) {
  if (filters.empty()) return true;
  if (!member.contains("tags")) return false;
  const auto& tags = member["tags"];
  for (const auto& f : filters) {
    if (!tags.contains(f.key) || !tags[f.key].is_string()) return false;
    if (!detail::re2_tag_full_match(f.re, tags[f.key].get<std::string>())) return false;
  }
  return true;
}

std::string tags_text(const nlohmann::json& member) {
  std::string out;
  if (!member.contains("tags")) return out;
  for (const auto& [k, v] : member["tags"].items()) {
    if (!out.empty()) out += ',';
    out += k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
  }
  return out;
}

nlohmann::json call(const ClientFlags& f, const nlohmann::json& req) {
  auto r = rpc_call(parse_address("--rpc-addr", f.rpc_addr), req, auth_token(f));
  if (!r.value("ok", false)) throw std::runtime_error("agent: " + r.value("error", "failed"));
  return r;
}

int members(const ClientFlags& f) {
  const auto filters = parse_tag_filters(f.tag_filters);
  auto r = call(f, {{"cmd", "members"}});
  nlohmann::json list = nlohmann::json::array();
  for (const auto& m : r["members"]) {
    if (tags_match(m, filters)) list.push_back(m);
  }
  if (f.json) {
    std::cout << list.dump() << "\n";
    return 0;
  }
  if (const auto& c = r.value("configuration", nlohmann::json()); c.is_object()) {
    // Consistent mode: every member lists the same configuration.
    // A stalled configuration: no quorum decided the pending change (a partition's minority).
    std::printf("configuration %s epoch %llu, %llu members%s%s\n",
                c["id"].get<std::string>().c_str(), c["epoch"].get<unsigned long long>(),
                c["size"].get<unsigned long long>(),
                c["member"].get<bool>() ? "" : " (this node is not a member: joining)",
                c.value("stalled", false) ? " (stalled: no quorum for the next one)" : "");
  }
  bool zones = false;  // a ZONE column only when some member has one
  for (const auto& m : list) zones = zones || !m.value("zone", std::string()).empty();
  std::printf("%-24s %-22s %-8s %-11s %s%s\n", "NAME", "ADDRESS", "STATE", "INCARNATION",
              zones ? "ZONE         " : "", "TAGS");
  for (const auto& m : list) {
    std::printf("%-24s %-22s %-8s %-11u %s%s\n", m["name"].get<std::string>().c_str(),
                m["address"].get<std::string>().c_str(), m["state"].get<std::string>().c_str(),
                m["incarnation"].get<unsigned>(),
                zones ? (m.value("zone", std::string()) + std::string(13, ' ')).substr(0, 13).c_str()
                      : "",
                tags_text(m).c_str());
  }
  return 0;
}

int tags(const ClientFlags& f) {
  nlohmann::json set = nlohmann::json::object();
  for (const auto& t : f.set_tags) {
    auto [k, v] = parse_tag("--set", t);
    set[k] = v;
  }
  nlohmann::json del = nlohmann::json::array();
  for (const auto& k : f.delete_tags) del.push_back(k);
  auto r = call(f, {{"cmd", "tags"}, {"set", set}, {"delete", del}});
  if (f.json) {
    std::cout << r["tags"].dump() << "\n";
    return 0;
  }
  for (const auto& [k, v] : r["tags"].items()) {
    std::printf("%s=%s\n", k.c_str(), v.get<std::string>().c_str());
  }
  return 0;
}

void add_rpc_flag(CLI::App* cmd, ClientFlags& f) {
  cmd->add_option("--rpc-addr", f.rpc_addr, "the agent's RPC address")->capture_default_str();
  cmd->add_option("--rpc-auth", f.rpc_auth,
                  "the agent's RPC token (its --rpc-auth; default $GRAPEVINE_RPC_AUTH)");
}

// keys list | install KEY | use KEY | remove KEY: every live member's keyring through an
// internal query (serf's `keys`), or this agent's alone with --local.
int keys_command(const ClientFlags& f, const std::vector<std::string>& a) {
  const bool list = a.size() == 1 && a[0] == "list";
  const bool change = a.size() == 2 && (a[0] == "install" || a[0] == "use" || a[0] == "remove");
  if (!list && !change) throw UsageError("keys: expected list | install|use|remove KEY");
  nlohmann::json req = {{"cmd", "keys"}, {"op", a[0]}, {"local", f.local}};
  if (change) req["key"] = a[1];
  if (!f.timeout.empty()) req["timeout_ms"] = parse_duration("--timeout", f.timeout).ms();
  if (f.local) {
    auto r = call(f, req);
    if (f.json) {
      std::cout << r["keys"].dump() << "\n";
      return 0;
    }
    bool first = true;
    for (const auto& k : r["keys"]) {
      std::printf("%s%s\n", k.get<std::string>().c_str(), first ? "  (primary)" : "");
      first = false;
    }
    return 0;
  }
  if (!auth_token(f).empty()) req["auth"] = auth_token(f);
  auto r = rpc_call(parse_address("--rpc-addr", f.rpc_addr), req, {}, 120);
  if (!r.value("ok", false)) throw std::runtime_error("agent: " + r.value("error", "failed"));
  const auto members = r["members"].get<std::size_t>(), answered = r["responses"].get<std::size_t>();
  const auto failures = r["failures"].get<std::size_t>();
  if (f.json) {
    std::cout << r.dump() << "\n";
  } else {
    std::printf("%s: %zu members, %zu answered, %zu failed\n", a[0].c_str(), members, answered,
                failures);
    for (const auto& [name, why] : r["failed"].items()) {
      std::printf("  %s: %s\n", name.c_str(), why.get<std::string>().c_str());
    }
    if (list) {
      for (const auto& [key, count] : r["keys"].items()) {
        std::printf("  %s [%d/%zu]\n", key.c_str(), count.get<int>(), members);
      }
    }
  }
  if (failures > 0 || answered < members) {
    std::fprintf(stderr, "keys %s: %zu of %zu members failed or did not answer%s\n", a[0].c_str(),
                 failures + (members > answered ? members - answered : 0), members,
                 failures > 0 ? " (see above)" : "");
    return 1;
  }
  return 0;
}

void add_keys_command(CLI::App& app, const std::shared_ptr<ClientFlags>& f,
                      std::function<int()>& run_cmd) {
  auto* keys = app.add_subcommand(
      "keys", "List or change the cluster's keyring on every live member (serf's keys): keys "
              "list | install KEY | use KEY | remove KEY");
  add_rpc_flag(keys, *f);
  auto keys_op = std::make_shared<std::vector<std::string>>();
  keys->add_option("op", *keys_op, "list, or install|use|remove followed by a base64 key")
      ->required();
  keys->add_flag("--json", f->json, "print the answer as JSON");
  keys->add_flag("--local", f->local, "this agent's keyring only (the previous behaviour)");
  keys->add_option("--timeout", f->timeout,
                   "how long to wait for every live member's answer, e.g. 10s (default: the "
                   "query timeout, at least 5s in the native dialect; it ends early once "
                   "every member answered)");
  keys->callback([f, keys_op, &run_cmd] {
    run_cmd = [f, keys_op] { return keys_command(*f, *keys_op); };
  });
}

int query_command(const ClientFlags& f) {
  nlohmann::json req = {{"cmd", "query"},
                        {"name", f.arg},
                        {"payload", f.payload},
                        {"nodes", f.nodes},
                        {"ack", !f.no_ack},
                        {"relay_factor", f.relay_factor}};
  nlohmann::json tags = nlohmann::json::object();
  for (const auto& t : f.tag_filters) {
    auto [k, v] = parse_tag("--tag", t);
    if (auto why = detail::re2_tag_pattern_error(v); !why.empty()) {
      throw UsageError("--tag " + t + ": bad regular expression: " + why);
    }
    tags[k] = v;
  }
  req["tags"] = tags;
  int wait_s = 120;
  if (!f.timeout.empty()) {
    const Duration d = parse_duration("--timeout", f.timeout);
    req["timeout_ms"] = d.ms();
    wait_s = int(d.ms() / 1000) + 10;
  }
  if (!auth_token(f).empty()) req["auth"] = auth_token(f);
  auto r = rpc_call(parse_address("--rpc-addr", f.rpc_addr), req, {}, wait_s);
  if (!r.value("ok", false)) throw std::runtime_error("agent: " + r.value("error", "failed"));
  if (f.json) {
    r.erase("ok");
    r.erase("events");
    std::cout << r.dump() << "\n";
    return 0;
  }
  for (const auto& e : r["events"]) {
    const std::string from = e["from"].get<std::string>();
    const long long ms = e.value("ms", -1LL);  // -1: not kept (serf dialect)
    const std::string when = ms >= 0 ? " (" + std::to_string(ms) + " ms)" : "";
    if (e["type"] == "ack") {
      std::printf("ack from '%s'%s\n", from.c_str(), when.c_str());
    } else {
      std::printf("response from '%s'%s: %s\n", from.c_str(), when.c_str(),
                  e["payload"].get<std::string>().c_str());
    }
  }
  std::printf("total acks: %zu, total responses: %zu (timeout %.1f s)\n", r["acks"].size(),
              r["responses"].size(), r["timeout_seconds"].get<double>());
  return 0;
}

void add_query_command(CLI::App& app, const std::shared_ptr<ClientFlags>& f,
                       std::function<int()>& run_cmd) {
  auto* q = app.add_subcommand("query", "Send a query (serf's semantics) and gather the answers");
  add_rpc_flag(q, *f);
  q->add_option("name", f->arg, "query name")->required();
  q->add_option("payload", f->payload, "query payload");
  q->add_option("--node", f->nodes, "only this member answers (repeatable)");
  q->add_option("--tag", f->tag_filters,
                "only members whose tag KEY matches REGEX somewhere (KEY=REGEX, repeatable)");
  q->add_option("--timeout", f->timeout,
                "how long to gather answers (default: serf's, gossip interval x 16 x "
                "ceil(log10(N+1)))");
  q->add_flag("--no-ack", f->no_ack, "members send no ack");
  q->add_option("--relay-factor", f->relay_factor,
                "each answer is also relayed through this many random members (0..5)")
      ->check(CLI::Range(0, 5));
  q->add_flag("--json", f->json,
              "print one object: acks, responses (member -> payload), timeout_seconds");
  q->callback([f, &run_cmd] { run_cmd = [f] { return query_command(*f); }; });
}

}  // namespace

void add_client_commands(CLI::App& app, std::function<int()>& run_cmd) {
  auto f = std::make_shared<ClientFlags>();

  auto* m = app.add_subcommand("members", "List the members an agent knows");
  add_rpc_flag(m, *f);
  m->add_flag("--json", f->json, "print a JSON array of members");
  m->add_option("--tag", f->tag_filters,
                "KEY=REGEX: only members whose tag KEY matches REGEX as a whole (repeatable, all "
                "must match; as serf members -tag)");

  auto* tg = app.add_subcommand("tags", "Change an agent's tags while it runs (prints them)");
  add_rpc_flag(tg, *f);
  tg->add_option("--set", f->set_tags, "KEY=VALUE to set (repeatable)");
  tg->add_option("--delete", f->delete_tags, "KEY to delete (repeatable)");
  tg->add_flag("--json", f->json, "print the tags as a JSON object");
  tg->callback([f, &run_cmd] { run_cmd = [f] { return tags(*f); }; });
  m->callback([f, &run_cmd] { run_cmd = [f] { return members(*f); }; });

  auto* j = app.add_subcommand("join", "Make an agent join through seeds");
  add_rpc_flag(j, *f);
  j->add_option("seeds", f->arg, "comma-separated IP:PORT")->required();
  j->add_flag("--replay", f->replay,
              "deliver the user events the seed still buffers (serf's join -replay)");
  j->callback([f, &run_cmd] {
    run_cmd = [f] {
      nlohmann::json seeds = nlohmann::json::array();
      for (const auto& a : parse_address_list("seeds", f->arg)) seeds.push_back(a.to_string());
      call(*f, {{"cmd", "join"}, {"seeds", seeds}, {"replay", f->replay}});
      std::printf("joining through %s\n", f->arg.c_str());
      return 0;
    };
  });

  auto* l = app.add_subcommand("leave", "Make an agent leave gracefully (it then exits)");
  add_rpc_flag(l, *f);
  l->callback([f, &run_cmd] {
    run_cmd = [f] {
      call(*f, {{"cmd", "leave"}});
      std::printf("leaving\n");
      return 0;
    };
  });

  auto* fl = app.add_subcommand("force-leave", "Mark a failed member as left everywhere");
  add_rpc_flag(fl, *f);
  fl->add_option("name", f->arg, "member name")->required();
  fl->callback([f, &run_cmd] {
    run_cmd = [f] {
      call(*f, {{"cmd", "force-leave"}, {"name", f->arg}});
      std::printf("%s forced to leave\n", f->arg.c_str());
      return 0;
    };
  });

  add_keys_command(app, f, run_cmd);
  add_query_command(app, f, run_cmd);

  auto* s = app.add_subcommand("send", "Multicast a payload to the group through an agent");
  add_rpc_flag(s, *f);
  s->add_option("payload", f->arg, "the text to send")->required();
  s->callback([f, &run_cmd] {
    run_cmd = [f] {
      auto r = call(*f, {{"cmd", "send"}, {"payload", f->arg}});
      std::printf("sent %s\n", r["id"].get<std::string>().c_str());
      return 0;
    };
  });

  auto* ev = app.add_subcommand("event", "Send a user event (serf's semantics) through an agent");
  add_rpc_flag(ev, *f);
  ev->add_option("name", f->arg, "event name")->required();
  ev->add_option("payload", f->payload, "event payload (name + payload <= 512 bytes)");
  ev->add_option("--coalesce", f->coalesce,
                 "true (default) or false: may receivers coalesce it with later events of the "
                 "same name (carried to them; serf's -coalesce)");
  ev->callback([f, &run_cmd] {
    run_cmd = [f] {
      auto r = call(*f, {{"cmd", "event"},
                         {"name", f->arg},
                         {"payload", f->payload},
                         {"coalesce", f->coalesce}});
      std::printf("event %s sent at Lamport time %llu\n", f->arg.c_str(),
                  static_cast<unsigned long long>(r["ltime"].get<std::uint64_t>()));
      return 0;
    };
  });

  auto* mon = app.add_subcommand("monitor", "Stream an agent's membership events and deliveries");
  add_rpc_flag(mon, *f);
  mon->callback([f, &run_cmd] {
    run_cmd = [f] {
      rpc_stream(parse_address("--rpc-addr", f->rpc_addr), {{"cmd", "monitor"}},
                 [](const nlohmann::json& j) {
                   if (j.contains("event")) std::cout << j.dump() << std::endl;
                 },
                 auth_token(*f));
      return 0;
    };
  });

  add_kv_commands(app, run_cmd);
}

}  // namespace grapevine::tools
