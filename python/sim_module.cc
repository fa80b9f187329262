// grapevine._sim: the `grapevine sim` commands for Python. run() parses the CLI's own flags with
// the CLI's own CLI11 definitions (tools/sim_*.cc), runs the command with its --json lines
// captured (tools/sim_output.h) and converts those JSON objects to Python values; nothing is
// computed here. python/grapevine/sim.py turns keyword arguments into the flags.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <cmath>
#include <mutex>
#include <regex>
#include <string>
#include <vector>

#include "commands.h"
#include "regex/re2_tag_matcher.h"
#include "sim_output.h"

namespace py = pybind11;
using grapevine::tools::JsonCapture;
using grapevine::tools::UsageError;

namespace {

// An App holding the four `sim` subcommands, as main() registers them.
struct SimApp {
  CLI::App app{"grapevine sim"};
  std::function<int()> run;
  SimApp() {
    app.require_subcommand(1);
    grapevine::tools::add_sim_multicast(app, run);
    grapevine::tools::add_sim_membership(app, run);
    grapevine::tools::add_sim_views(app, run);
    grapevine::tools::add_sim_cluster(app, run);
  }
};

// "--fail-at: ..." -> "fail_at: ...": errors name the keyword argument, not the flag.
std::string python_names(const std::string& message) {
  static const std::regex flag("--([a-z0-9]+(?:-[a-z0-9]+)*)");
  std::string out;
  auto begin = std::sregex_iterator(message.begin(), message.end(), flag);
  std::size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    out += message.substr(last, std::size_t(it->position()) - last);
    std::string name = (*it)[1].str();
    for (char& c : name) c = c == '-' ? '_' : c;
    out += name;
    last = std::size_t(it->position() + it->length());
  }
  return out + message.substr(last);
}

py::object to_python(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null: return py::none();
    case nlohmann::json::value_t::boolean: return py::bool_(j.get<bool>());
    case nlohmann::json::value_t::number_integer: return py::int_(j.get<std::int64_t>());
    case nlohmann::json::value_t::number_unsigned: return py::int_(j.get<std::uint64_t>());
    case nlohmann::json::value_t::number_float: {
      // The CLI's dump() prints NaN and infinities as null; so do we.
      const double v = j.get<double>();
      return std::isfinite(v) ? py::object(py::float_(v)) : py::object(py::none());
    }
    case nlohmann::json::value_t::string: return py::str(j.get_ref<const std::string&>());
    case nlohmann::json::value_t::array: {
      py::list out;
      for (const auto& v : j) out.append(to_python(v));
      return out;
    }
    case nlohmann::json::value_t::object: {
      py::dict out;
      for (const auto& [k, v] : j.items()) out[py::str(k)] = to_python(v);
      return out;
    }
    default: throw std::runtime_error("grapevine: unexpected JSON value");
  }
}

// Runs `grapevine sim <command> <args...>` (the caller adds --json) and returns its JSON lines.
py::list run(const std::string& command, const std::vector<std::string>& args) {
  std::vector<nlohmann::json> rows;
  std::string usage, failure;
  {
    py::gil_scoped_release unlocked;
    static std::mutex one_at_a_time;  // JsonCapture is process-wide
    std::lock_guard<std::mutex> lock(one_at_a_time);
    SimApp sim;
    std::vector<std::string> argv(args.rbegin(), args.rend());  // CLI11 wants them reversed
    argv.push_back(command);
    try {
      sim.app.parse(argv);
      JsonCapture capture(rows);
      if (sim.run) sim.run();
    } catch (const CLI::ParseError& e) {
      usage = e.what();
    } catch (const UsageError& e) {
      usage = e.what();
    } catch (const std::exception& e) {
      failure = e.what();
    }
  }
  if (!usage.empty()) throw py::value_error(python_names(usage));
  if (!failure.empty()) throw std::runtime_error(failure);
  py::list out;
  for (const auto& j : rows) out.append(to_python(j));
  return out;
}

// The flags of one command: {name (without --), takes_value, repeatable, help, default}.
py::list options(const std::string& command) {
  SimApp sim;
  CLI::App* cmd = sim.app.get_subcommand(command);
  py::list out;
  for (const CLI::Option* o : cmd->get_options()) {
    if (o->get_lnames().empty()) continue;  // --help has one; positional ones have none
    py::dict d;
    d["name"] = o->get_lnames().front();
    d["takes_value"] = o->get_expected_max() != 0;  // flags: expected(0)
    d["repeatable"] = o->get_expected_max() > 1;
    d["help"] = o->get_description();
    d["default"] = o->get_default_str();
    out.append(d);
  }
  return out;
}

}  // namespace

PYBIND11_MODULE(_sim, m) {
  grapevine::detail::install_re2_tag_matcher();  // tag filters as the agent's: RE2
  m.doc() = "grapevine's simulator: the `grapevine sim` commands (use grapevine.sim)";
  m.def("run", &run, py::arg("command"), py::arg("args"),
        "Run `grapevine sim COMMAND ARGS...` with its --json lines returned as Python values.");
  m.def("options", &options, py::arg("command"),
        "The flags of `grapevine sim COMMAND`: name, takes_value, repeatable, help, default.");
  m.def("help", [](const std::string& command) {
    SimApp sim;
    return sim.app.get_subcommand(command)->help();
  }, py::arg("command"), "The CLI's --help text of `grapevine sim COMMAND`.");
}
