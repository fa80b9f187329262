// `grapevine kv ...`: the replicated node state over the agent's RPC (agent side and client side).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "grapevine/runtime.h"
#include "rpc.h"

namespace grapevine::tools {

/// Runs a task on the node's loop thread and waits for it (the agent's in_loop).
using LoopRunner = std::function<void(const std::function<void()>&)>;

/// Agent side: answers kv-set, kv-get, kv-delete, kv-list, kv-stats; nullopt for any other.
std::optional<nlohmann::json> handle_kv(const std::string& cmd, const nlohmann::json& req,
                                        NodeHandle& node, const LoopRunner& in_loop);
/// Agent side: publishes every state change as a {"event":"state",...} line to monitors.
/// Call before the loop runs (or on the loop thread).
void publish_state_changes(NodeHandle& node, EventHub& hub);
/// Client side: the `kv` command and its subcommands.
void add_kv_commands(CLI::App& app, std::function<int()>& run_cmd);

}  // namespace grapevine::tools
