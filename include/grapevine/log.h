// Logging hook: where the runtime's own messages go (a node started or was removed, a socket
// could not be bound, the first send error of a node ...). The protocol core logs nothing: it
// reports through Events and counters (NodeHandle::metrics()), which are what to alert on.
//
//   grapevine::RuntimeOptions opts;
//   opts.log = [](grapevine::LogLevel level, std::string_view message) {
//     spdlog::log(level >= grapevine::LogLevel::warn ? spdlog::level::warn : spdlog::level::info,
//                 "{}", message);
//   };
//   grapevine::Runtime rt(opts);
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

namespace grapevine {

enum class LogLevel : std::uint8_t { debug = 0, info = 1, warn = 2, error = 3 };

/// "debug", "info", "warn" or "error".
constexpr const char* log_level_name(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warn: return "warn";
    case LogLevel::error: return "error";
  }
  return "?";
}

/// Receives one message: one line, no trailing newline; `message` is valid during the call only
/// (copy it to keep it). Threading: the runtime calls it on the thread that called into the
/// Runtime (add_node, remove_node: the loop thread or the thread that set the runtime up before
/// run()) or on the loop thread from inside run(); never from two threads at once for one
/// Runtime, but several Runtimes sharing one handler may call it concurrently. It must not
/// throw, and must not block for long (it runs inside the event loop). It may call
/// Runtime::post() and Runtime::stop(); it must not call NodeHandle methods or remove_node
/// (the runtime is mid-operation).
using LogHandler = std::function<void(LogLevel level, std::string_view message)>;

/// The default handler: writes "grapevine: <level>: <message>\n" to stderr, for info and above.
void log_to_stderr(LogLevel level, std::string_view message);

}  // namespace grapevine
