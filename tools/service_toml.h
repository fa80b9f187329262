// TOML keys of the service layer (ServiceConfig): event_handlers (array of "[FILTER=]SCRIPT"),
// coalesce_period, quiescent_period, handler_timeout (durations), snapshot (path),
// retry_join (array of seeds), retry_interval (duration), retry_max (count).
#pragma once

#include <string>
#include <toml++/toml.h>

#include "service_config.h"

namespace grapevine::tools {

/// Whether `key` is one of the keys above.
bool is_service_key(std::string_view key);
/// Reads those keys of `root`; throws UsageError naming `path` and the key.
void load_service_toml(const toml::table& root, const std::string& path, ServiceConfig& c);

}  // namespace grapevine::tools
