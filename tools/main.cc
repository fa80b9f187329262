// grapevine: the command-line tool. Subcommands live in their own files; see commands.h.
#include <cstdio>
#include <exception>

#include "commands.h"
#include "regex/re2_tag_matcher.h"

int main(int argc, char** argv) {
  grapevine::detail::install_re2_tag_matcher();  // tag filters from the network: RE2, linear
  CLI::App app{"grapevine: gossip multicast and group membership, simulated and for real"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "grapevine 0.1.0");
  std::function<int()> run;

  auto* sim = app.add_subcommand("sim", "Run protocols in the deterministic simulator");
  sim->require_subcommand(1);
  grapevine::tools::add_sim_multicast(*sim, run);
  grapevine::tools::add_sim_membership(*sim, run);
  grapevine::tools::add_sim_views(*sim, run);
  grapevine::tools::add_sim_cluster(*sim, run);
  grapevine::tools::add_agent(app, run);
  grapevine::tools::add_client_commands(app, run);
  grapevine::tools::add_demo(app, run);
  grapevine::tools::add_keygen(app, run);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "grapevine: error: %s (see --help)\n", e.what());
    return 2;
  }
  try {
    return run ? run() : 0;
  } catch (const grapevine::tools::UsageError& e) {
    std::fprintf(stderr, "grapevine: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "grapevine: failed: %s\n", e.what());
    return 1;
  }
}
