// Where the `grapevine sim` commands put their --json lines: stdout for the CLI, or a list the
// Python bindings (python/sim_module.cc) collect. Both read the very JSON objects the commands
// assemble, so the CLI and `grapevine.sim` cannot disagree (DESIGN.md "Tools print; sim/
// computes").
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

namespace grapevine::tools {

/// Prints `j.dump()` and a newline to stdout, or appends `j` to the rows of the JsonCapture alive.
void emit_json_line(const nlohmann::json& j);

/// While alive, emit_json_line appends to `rows` instead of printing. Process-wide, not per
/// thread: one capture at a time (the Python bindings hold a lock); `rows` must outlive it.
class JsonCapture {
 public:
  explicit JsonCapture(std::vector<nlohmann::json>& rows);
  ~JsonCapture();
  JsonCapture(const JsonCapture&) = delete;
  JsonCapture& operator=(const JsonCapture&) = delete;

 private:
  std::vector<nlohmann::json>* previous_;
};

}  // namespace grapevine::tools
