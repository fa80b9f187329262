// The flags that shape a node (the NodeConfig), shared by every command that builds one:
// `grapevine agent`, `grapevine sim cluster` and `grapevine demo` take the same --config file and
// the same flags, so a simulation runs exactly the node an agent deploys. A new node option is
// added here once (flag, TOML key in agent_config.cc) and every command gets it.
#pragma once

#include <string>
#include <vector>

#include "agent_config.h"
#include "commands.h"

namespace grapevine::tools {

struct NodeFlags {
  std::string config;  // TOML file; flags override it
  std::string profile, detector, membership, multicast, view, dialect, label, delegate_vsn;
  std::vector<std::string> keys;
  std::vector<std::string> tags;  // --tag KEY=VALUE
  std::vector<std::string> serf_responses;  // --serf-respond QUERY=RESPONSE
  std::uint32_t fanout = 0;
  std::string zone;
  int zone_prefix = -1;         // -1: not given
  bool topology_aware = false;  // only turns it on (TOML may too)
};

/// Registers --config, --profile, --detector, --membership, --multicast, --view, --fanout,
/// --dialect, --encrypt, --label, --delegate-vsn, --tag, --zone, --zone-prefix and
/// --topology-aware on `cmd`. `f` must outlive the parse.
void add_node_flags(CLI::App& cmd, NodeFlags& f);

/// Defaults, then the TOML file (which may also set the agent's name, bind, join...), then the
/// flags. The NodeConfig is validated unless the caller still has to set the member name
/// (validate_node = false; call check_node_config afterwards). Throws UsageError naming the
/// flag or key.
AgentConfig build_agent_config(const NodeFlags& f);
/// validate(config.node) with the error as a UsageError; the view/dialect combination checked.
void check_node_config(const AgentConfig& config);

}  // namespace grapevine::tools
