// The browser UI of `grapevine agent --ui-addr` and `grapevine demo --ui` (docs in README.md,
// "A live view in the browser"): an HttpServer (http_server.h) serving
//   /                 the page (tools/ui/agent.html or demo.html), and its /*.js and /*.css,
//                     built into the binary (tools/ui/embed.cmake; no CDN, works offline);
//   /api/members      a JSON snapshot, from the `snapshot` function given at construction;
//   /api/events       server-sent events: whatever publish() is given, as it happens.
// Access: with a token, every /api/ request must carry ?token=TOKEN (the page passes on the one
// in its own address, http://HOST:PORT/?token=TOKEN); static files need none (they hold no
// data). Without a token (a loopback address), a request must name the host by IP or as
// `localhost`, so that a web page elsewhere cannot read the API through DNS rebinding.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>

#include "grapevine/runtime.h"
#include "http_server.h"

namespace grapevine::tools {

/// One file of tools/ui/, built into the binary (ui_assets.cc, generated).
struct UiAsset {
  std::string_view name;   // "agent.html"
  std::string_view bytes;
};
std::span<const UiAsset> ui_assets();

class UiServer {
 public:
  enum class Page { agent, demo };
  /// `snapshot` runs on the server's thread for each /api/members (it may throw: 503).
  UiServer(Page page, std::function<std::string()> snapshot, std::string token = {});
  /// Binds and serves; an error message, empty on success. `check_host`: refuse requests whose
  /// Host is a DNS name other than localhost (for a loopback address without a token).
  std::string start(const Address& bind, bool check_host);
  void stop() { http_.stop(); }
  [[nodiscard]] Address address() const { return http_.address(); }
  /// An event for every open /api/events stream (thread-safe; free when none is open).
  void publish(std::string_view name, const nlohmann::json& data);
  [[nodiscard]] bool has_streams() const { return http_.stats().streams_open.load() > 0; }
  [[nodiscard]] const HttpStats& stats() const { return http_.stats(); }

 private:
  HttpResponse handle(const HttpRequest& req);
  Page page_;
  std::function<std::string()> snapshot_;
  std::string token_;
  bool check_host_ = false;
  HttpServer http_;
};

/// The agent's /api/members: {"kind":"agent","self":{name,address},"members":[member_json...],
/// "configuration":configuration_json or null}. Call on the runtime's loop thread.
std::string agent_ui_snapshot(const NodeHandle& node, std::string_view name);

/// Prometheus text for the UI server's counters (appended to the agent's /metrics).
std::string render_ui_metrics(const HttpStats& s);

/// True for 127.0.0.0/8 and ::1.
bool ui_address_is_loopback(const Address& a);

/// True if `host` (a Host header: name[:port]) is an IP literal or localhost.
bool host_is_literal(std::string_view host);

}  // namespace grapevine::tools
