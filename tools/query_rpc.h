// The agent's RPC for queries and the cluster-wide keyring (rpc.h, grapevine/query.h):
//
//   {"cmd":"query","name":N,"payload":P,"nodes":[...],"tags":{"k":"regex"},"timeout_ms":T,
//    "ack":true,"relay_factor":R}
//     -> {"ok":true,"acks":[name...],"responses":{name:payload},"events":[{"type":"ack"|
//        "response","from":name,"ms":since issued[,"payload":P]}...],"timeout_seconds":S}
//        (answered once the query is done: its timeout, 0 = serf's default)
//   {"cmd":"keys","op":"list|install|use|remove","key":"BASE64","timeout_ms":T}
//        (without "local": true; timeout_ms optional: 0 is the default, at least 5 s native)
//     -> {"ok":true,"members":N,"responses":R,"failures":F,"failed":{name:why},
//        "keys":{key:members holding it} (list), "timeout_seconds":S}
//        (answered when every live member answered, or at the timeout)
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "grapevine/runtime.h"

namespace grapevine::tools {

/// Runs a task on the runtime's loop and waits for it.
using LoopRunner = std::function<void(const std::function<void()>&)>;

/// Handles `query` and cluster-wide `keys`; nullopt for any other request. Blocks the calling
/// (RPC) thread until the query is done: the RPC server serves nobody else meanwhile (other
/// clients and monitors wait up to the query's timeout; a streaming answer is future work).
std::optional<nlohmann::json> handle_query_rpc(const std::string& cmd, const nlohmann::json& req,
                                               NodeHandle& node, const LoopRunner& loop);

}  // namespace grapevine::tools
