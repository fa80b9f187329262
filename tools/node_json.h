// JSON and Prometheus renderings of a running node, shared by the agent, the CLI and the demo.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "grapevine/runtime.h"

namespace grapevine::tools {

nlohmann::json member_json(const MemberInfo& m);
nlohmann::json event_json(const Event& e);
/// Consistent mode's installed configuration {id (hex), epoch, size, member}; null otherwise.
nlohmann::json configuration_json(const ConfigurationInfo& c);
nlohmann::json delivery_json(const MessageId& id, std::span<const std::byte> payload,
                             std::uint32_t hops);
/// "0a0000011f9a:3": origin id in hex, then the sequence number.
std::string message_id_text(const MessageId& id);
/// Prometheus text exposition of one node's counters and gauges.
std::string render_metrics(const NodeHandle& node);
/// The same text from a NodeMetrics snapshot (NodeHandle::metrics()): what the agent serves.
std::string render_metrics(const NodeMetrics& metrics);

}  // namespace grapevine::tools
