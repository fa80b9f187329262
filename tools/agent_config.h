// Agent configuration: defaults, then a TOML file, then command-line flags (flags win).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "grapevine/address.h"
#include "grapevine/node.h"
#include "grapevine/tags.h"

namespace grapevine::tools {

struct AgentConfig {
  std::string name;
  Address bind = *Address::parse("127.0.0.1:7946");
  std::vector<Address> join;
  Address rpc_addr = *Address::parse("127.0.0.1:7373");
  std::optional<Address> metrics_addr;
  NodeConfig node;
  /// This node's tags (serf's); encoded into node.membership.meta by build_agent_config.
  Tags tags;
  Duration leave_timeout = Duration::seconds(2);
  std::string log_level = "info";
};

/// Applies a TOML file to `config`. Keys (all optional):
///   name, bind, join (array), rpc_addr, metrics_addr, leave_timeout, log_level,
///   view ("hyparview": multicast over HyParView + Plumtree; "none", the default),
///   [membership] profile, detector, probe_interval, probe_timeout, indirect_checks,
///     suspicion_mult, gossip_interval, gossip_nodes, push_pull_interval, heartbeat_interval,
///     fail_timeout, retransmit_mult,
///     dialect ("native" | "memberlist"), encrypt (base64 key or array of keys, the first
///     primary), label, delegate_vsn ([MIN, MAX, CUR]; serf: [2, 5, 4])
///   [tags] key = "value" ... (this node's tags, as serf's -tag; flags --tag add to them)
///   [multicast] protocol, fanout, pull_fanout, period, stop, stop_rounds, retention_periods
/// Throws UsageError with the file, key and what is wrong.
void load_toml(const std::string& path, AgentConfig& config);

/// "key=value" -> (key, value), split at the first '='; throws UsageError naming `flag` when
/// there is no '=' or the key is empty.
std::pair<std::string, std::string> parse_tag(const std::string& flag, const std::string& text);

/// "a:1,b:2" -> addresses; throws UsageError naming `flag`.
std::vector<Address> parse_address_list(const std::string& flag, const std::string& text);
Address parse_address(const std::string& flag, const std::string& text);
/// The memberlist-equivalent profile by name; throws UsageError naming `flag`.
MembershipConfig profile_by_name(const std::string& flag, const std::string& name);

}  // namespace grapevine::tools
