#include "service_toml.h"

#include "commands.h"
#include "options.h"

namespace grapevine::tools {
namespace {

std::vector<std::string> strings(const toml::table& root, const std::string& path,
                                 const char* key) {
  std::vector<std::string> out;
  const toml::node* n = root.get(key);
  if (n == nullptr) return out;
  const toml::array* arr = n->as_array();
  if (arr == nullptr) throw UsageError(path + ": " + key + ": expected an array of strings");
  for (const auto& item : *arr) {
    auto s = item.value<std::string>();
    if (!s) throw UsageError(path + ": " + key + ": expected an array of strings");
    out.push_back(*s);
  }
  return out;
}

void duration(const toml::table& root, const std::string& path, const char* key, Duration& d) {
  if (const toml::node* n = root.get(key)) {
    auto s = n->value<std::string>();
    if (!s) throw UsageError(path + ": " + key + ": expected a duration string (\"5s\")");
    d = parse_duration(path + ": " + key, *s);
  }
}

}  // namespace

bool is_service_key(std::string_view key) {
  for (const char* k : {"event_handlers", "coalesce_period", "quiescent_period", "handler_timeout",
                        "snapshot", "retry_join", "retry_interval", "retry_max", "replay"}) {
    if (key == k) return true;
  }
  return false;
}

void load_service_toml(const toml::table& root, const std::string& path, ServiceConfig& c) {
  if (root.get("event_handlers")) c.event_handlers = strings(root, path, "event_handlers");
  if (root.get("retry_join")) c.retry_join = strings(root, path, "retry_join");
  duration(root, path, "coalesce_period", c.coalesce_period);
  duration(root, path, "quiescent_period", c.quiescent_period);
  duration(root, path, "handler_timeout", c.handler_timeout);
  duration(root, path, "retry_interval", c.retry_interval);
  if (const toml::node* n = root.get("snapshot")) {
    auto s = n->value<std::string>();
    if (!s) throw UsageError(path + ": snapshot: expected a file path");
    c.snapshot = *s;
  }
  if (const toml::node* n = root.get("replay")) {
    auto v = n->value<bool>();
    if (!v) throw UsageError(path + ": replay: expected true or false");
    c.replay = *v;
  }
  if (const toml::node* n = root.get("retry_max")) {
    auto v = n->value<std::int64_t>();
    if (!v || *v < 0 || *v > 1000000) throw UsageError(path + ": retry_max: expected 0..1000000");
    c.retry_max = std::uint32_t(*v);
  }
}

}  // namespace grapevine::tools
