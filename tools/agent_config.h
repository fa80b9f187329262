// Agent configuration: defaults, then a TOML file, then command-line flags (flags win).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "grapevine/address.h"
#include "grapevine/node.h"
#include "grapevine/runtime.h"
#include "rpc.h"
#include "grapevine/tags.h"
#include "service_config.h"

namespace grapevine::tools {

struct AgentConfig {
  std::string name;
  Address bind = *Address::parse("127.0.0.1:7946");
  std::vector<Address> join;
  Address rpc_addr = *Address::parse("127.0.0.1:7373");
  std::optional<Address> metrics_addr;
  /// The browser UI (tools/ui_server.h); loopback, or a token (rpc.auth) or insecure.
  std::optional<Address> ui_addr;
  NodeConfig node;
  /// This node's tags (serf's); encoded into node.membership.meta by build_agent_config.
  Tags tags;
  Duration leave_timeout = Duration::seconds(2);
  std::string log_level = "info";
  /// Stream timeout and the limits on what peers can make the node spend (docs/limits.md).
  RuntimeOptions runtime;
  /// RPC limits and token.
  RpcOptions rpc;
  /// TOML `insecure = true`: as --insecure (a non-loopback bind without a key).
  bool insecure = false;
  /// Event handlers, snapshot, seeds by name, retry-join (service_config.h, service_toml.h).
  ServiceConfig service;
};

/// Applies a TOML file to `config`. Keys (all optional):
///   name, bind, join (array; IP:PORT, HOST[:PORT] or _SRV._udp.NAME), rpc_addr, metrics_addr, leave_timeout, log_level, insecure,
///   name, bind, join (array), rpc_addr, metrics_addr, ui_addr, leave_timeout, log_level, insecure,
///   view ("hyparview": multicast over HyParView + Plumtree; "none", the default),
///   limits (docs/limits.md; each also a flag of `grapevine agent`):
///     allowed_cidrs (array of "A.B.C.D/N" or "V6/N"; empty = all), inbound_streams_max (128),
///     inbound_stream_bytes_max (bytes or "64MiB"; default 64 MiB), stream_timeout ("10s"),
///     datagrams_per_source_per_second (0 = off), rate_limited_sources_max (4096),
///     rpc_auth (token every RPC request must carry), rpc_clients_max (64),
///     rpc_request_bytes_max (1 MiB), rpc_output_bytes_max (4 MiB),
///   service layer (service_toml.h): event_handlers, coalesce_period, quiescent_period,
///     handler_timeout, snapshot, retry_join, retry_interval, retry_max,
///   tls_cert, tls_key, tls_ca (mutual TLS for streams, all three or none: files as the
///     agent's --tls-cert, --tls-key, --tls-ca; docs/security.md),
///   membership = "eventual" | "consistent" (top level, when there is no [membership] table)
///   [membership] mode ("eventual", the default, or "consistent": Rapid, every member installs
///     the same sequence of configurations), rings, high, low (Rapid's K, H, L),
///     profile, detector, probe_interval, probe_timeout, indirect_checks,
///     suspicion_mult, gossip_interval, gossip_nodes, push_pull_interval, heartbeat_interval,
///     fail_timeout, retransmit_mult, heartbeat_fanout,
///     rumor_stop_after (native dialect: drop a queued alive record once heard again this
///     many times; 0 = off, memberlist's queue, the default; 2 measured), rumor_stop_after_accusations (the
///     same for suspect/failed/left updates; default 0 = off),
///     tcp_fallback_ping (true | false; SWIM/Lifeguard's TCP fallback probe, default true),
///     detector = "phi": phi_threshold (number), phi_window, phi_min_std_deviation,
///     phi_acceptable_pause, phi_first_heartbeat_estimate (durations),
///     dialect ("native" | "memberlist" | "serf": memberlist plus Serf's layer, delegate
///     versions [2, 5, 5]), serf_respond (["QUERY=RESPONSE", ...]: fixed answers to serf
///     queries, "=RESPONSE" answers any), encrypt (base64 key or array of keys, the first
///     primary; both dialects, 32 bytes in the native one), label, delegate_vsn ([MIN, MAX, CUR]; serf: [2, 5, 4])
///   [tags] key = "value" ... (this node's tags, as serf's -tag; flags --tag add to them)
///   [multicast] protocol, fanout, pull_fanout, period, stop, stop_rounds, retention_periods
///   [state] (replicated node state, StateConfig) enabled, gossip_interval, fanout,
///     tombstone_grace, departed_grace, key_bytes_max, value_bytes_max, keys_per_node_max,
///     node_bytes_max, peer_bytes_max
/// Throws UsageError with the file, key and what is wrong.
void load_toml(const std::string& path, AgentConfig& config);

/// "key=value" -> (key, value), split at the first '='; throws UsageError naming `flag` when
/// there is no '=' or the key is empty.
std::pair<std::string, std::string> parse_tag(const std::string& flag, const std::string& text);

/// "a:1,b:2" -> addresses; throws UsageError naming `flag`.
std::vector<Address> parse_address_list(const std::string& flag, const std::string& text);
Address parse_address(const std::string& flag, const std::string& text);
/// "65536", "64KiB", "64MiB", "1GiB" (also K, M, G: binary units) -> bytes; throws UsageError.
std::size_t parse_bytes(const std::string& flag, const std::string& text);
/// "10.0.0.0/8,fd00::/8" -> networks; throws UsageError naming `flag`.
std::vector<Cidr> parse_cidr_list(const std::string& flag, const std::vector<std::string>& items);
/// The memberlist-equivalent profile by name; throws UsageError naming `flag`.
MembershipConfig profile_by_name(const std::string& flag, const std::string& name);

}  // namespace grapevine::tools
