// Client commands that talk to a running agent over its RPC address (rpc.h): members, join,
// leave, force-leave, send, keys, tags, monitor, and kv (kv.cc).
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <regex>

#include "agent_config.h"
#include "commands.h"
#include "kv.h"
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
};

std::string auth_token(const ClientFlags& f) {
  if (!f.rpc_auth.empty()) return f.rpc_auth;
  const char* env = std::getenv("GRAPEVINE_RPC_AUTH");
  return env != nullptr ? env : "";
}

// serf's `members -tag key=regex`: every filter's key must be present with a value the regex
// matches as a whole (serf anchors it as ^(?:re)$; std::regex_match matches the whole value).
struct TagFilter {
  std::string key;
  std::regex re;
};

std::vector<TagFilter> parse_tag_filters(const std::vector<std::string>& texts) {
  std::vector<TagFilter> out;
  for (const auto& t : texts) {
    auto [k, v] = parse_tag("--tag", t);
    try {
      out.push_back({k, std::regex(v, std::regex::ECMAScript)});
    } catch (const std::regex_error& e) {
      throw UsageError("--tag " + t + ": bad regular expression: " + e.what());
    }
  }
  return out;
}

bool tags_match(const nlohmann::json& member, const std::vector<TagFilter>& filters) {
  if (filters.empty()) return true;
  if (!member.contains("tags")) return false;
  const auto& tags = member["tags"];
  for (const auto& f : filters) {
    if (!tags.contains(f.key) || !tags[f.key].is_string()) return false;
    if (!std::regex_match(tags[f.key].get<std::string>(), f.re)) return false;
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
  j->callback([f, &run_cmd] {
    run_cmd = [f] {
      nlohmann::json seeds = nlohmann::json::array();
      for (const auto& a : parse_address_list("seeds", f->arg)) seeds.push_back(a.to_string());
      call(*f, {{"cmd", "join"}, {"seeds", seeds}});
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

  auto* keys = app.add_subcommand(
      "keys", "List or change an agent's keyring: keys list | install KEY | use KEY | remove KEY");
  add_rpc_flag(keys, *f);
  auto keys_op = std::make_shared<std::vector<std::string>>();
  keys->add_option("op", *keys_op, "list, or install|use|remove followed by a base64 key")
      ->required();
  keys->callback([f, keys_op, &run_cmd] {
    run_cmd = [f, keys_op] {
      const auto& a = *keys_op;
      const bool list = a.size() == 1 && a[0] == "list";
      const bool change =
          a.size() == 2 && (a[0] == "install" || a[0] == "use" || a[0] == "remove");
      if (!list && !change) throw UsageError("keys: expected list | install|use|remove KEY");
      nlohmann::json req = {{"cmd", "keys"}, {"op", a[0]}};
      if (change) req["key"] = a[1];
      auto r = call(*f, req);
      if (f->json) {
        std::cout << r["keys"].dump() << "\n";
        return 0;
      }
      bool first = true;
      for (const auto& k : r["keys"]) {
        std::printf("%s%s\n", k.get<std::string>().c_str(), first ? "  (primary)" : "");
        first = false;
      }
      return 0;
    };
  });
  keys->add_flag("--json", f->json, "print the keys as a JSON array");

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
