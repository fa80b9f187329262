// Runs one event-handler script (serf's invokeEventScript): `/bin/sh -c SCRIPT` with extra
// environment variables, `input` on its stdin, stdout and stderr captured together (as serf's),
// bounded in time and in bytes. Blocking: call it off the agent's loop thread.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "grapevine/time.h"

namespace grapevine::tools {

struct ScriptResult {
  int exit_code = -1;       // the script's exit status; -1 when it did not exit normally
  bool timed_out = false;   // killed (its whole process group) at the timeout
  bool spawn_failed = false;
  bool truncated = false;   // more output than output_max; the rest was read and dropped
  std::string output;       // at most output_max bytes of stdout+stderr
  [[nodiscard]] bool ok() const { return exit_code == 0 && !timed_out && !spawn_failed; }
};

/// Runs `script` through /bin/sh in a new process group with the agent's environment plus
/// `env` (NAME, VALUE pairs; they override), the default signal mask and dispositions. Kills the
/// group with SIGKILL after `timeout`. Never throws.
ScriptResult run_script(const std::string& script,
                        const std::vector<std::pair<std::string, std::string>>& env,
                        const std::string& input, Duration timeout, std::size_t output_max);

}  // namespace grapevine::tools
