// The subcommands of the `grapevine` tool register themselves on the CLI11 app here.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <stdexcept>
#include <string>

namespace grapevine::tools {

/// A bad argument: the message names the flag. main() prints it on one line and exits with 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Each add_* registers a subcommand and sets `run` to what it does once parsed; the returned
/// int is the process exit code.
void add_sim_multicast(CLI::App& sim, std::function<int()>& run);
void add_sim_membership(CLI::App& sim, std::function<int()>& run);
void add_sim_views(CLI::App& sim, std::function<int()>& run);
void add_sim_cluster(CLI::App& sim, std::function<int()>& run);
void add_agent(CLI::App& app, std::function<int()>& run);
void add_client_commands(CLI::App& app, std::function<int()>& run);
void add_demo(CLI::App& app, std::function<int()>& run);

}  // namespace grapevine::tools
