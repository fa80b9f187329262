// Client commands that talk to a running agent over its RPC address (rpc.h): members, join,
// leave, force-leave, send, monitor.
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "agent_config.h"
#include "commands.h"
#include "rpc.h"

namespace grapevine::tools {
namespace {

constexpr const char* kDefaultRpc = "127.0.0.1:7373";

struct ClientFlags {
  std::string rpc_addr = kDefaultRpc;
  std::string rpc_auth;  // --rpc-auth, else $GRAPEVINE_RPC_AUTH
  bool json = false;
  std::string arg;  // seeds, name or payload
};

std::string auth_token(const ClientFlags& f) {
  if (!f.rpc_auth.empty()) return f.rpc_auth;
  const char* env = std::getenv("GRAPEVINE_RPC_AUTH");
  return env != nullptr ? env : "";
}

nlohmann::json call(const ClientFlags& f, const nlohmann::json& req) {
  auto r = rpc_call(parse_address("--rpc-addr", f.rpc_addr), req, auth_token(f));
  if (!r.value("ok", false)) throw std::runtime_error("agent: " + r.value("error", "failed"));
  return r;
}

int members(const ClientFlags& f) {
  auto r = call(f, {{"cmd", "members"}});
  if (f.json) {
    std::cout << r["members"].dump() << "\n";
    return 0;
  }
  bool zones = false;  // a ZONE column only when some member has one
  for (const auto& m : r["members"]) zones = zones || !m.value("zone", std::string()).empty();
  std::printf("%-24s %-22s %-8s %s%s\n", "NAME", "ADDRESS", "STATE", "INCARNATION",
              zones ? "  ZONE" : "");
  for (const auto& m : r["members"]) {
    std::printf(zones ? "%-24s %-22s %-8s %-11u%s%s\n" : "%-24s %-22s %-8s %u%s%s\n", m["name"].get<std::string>().c_str(),
                m["address"].get<std::string>().c_str(), m["state"].get<std::string>().c_str(),
                m["incarnation"].get<unsigned>(), zones ? "  " : "",
                zones ? m.value("zone", std::string()).c_str() : "");
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
}

}  // namespace grapevine::tools
