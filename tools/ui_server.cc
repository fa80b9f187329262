// The browser UI's routes and access checks (ui_server.h).
#include "ui_server.h"

#include <arpa/inet.h>

#include "node_json.h"
#include "rpc.h"

namespace grapevine::tools {
namespace {

std::string_view content_type_of(std::string_view name) {
  auto ends = [&](std::string_view ext) {
    return name.size() >= ext.size() && name.substr(name.size() - ext.size()) == ext;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

HttpResponse text(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body) + "\n";
  return r;
}

}  // namespace

bool ui_address_is_loopback(const Address& a) {
  if (a.family == 4) return a.ip[0] == 127;
  for (std::size_t i = 0; i + 1 < a.ip.size(); ++i) {
    if (a.ip[i] != 0) return false;
  }
  return a.family == 6 && a.ip[15] == 1;
}

bool host_is_literal(std::string_view host) {
  if (host.empty()) return true;  // HTTP/1.0 clients (curl -0, scripts) send none
  std::string name;
  if (host.front() == '[') {  // [v6]:port
    const auto close = host.find(']');
    if (close == std::string_view::npos) return false;
    name = std::string(host.substr(1, close - 1));
    in6_addr a6;
    return inet_pton(AF_INET6, name.c_str(), &a6) == 1;
  }
  name = std::string(host.substr(0, host.find(':')));
  if (name == "localhost") return true;
  in_addr a4;
  return inet_pton(AF_INET, name.c_str(), &a4) == 1;
}

UiServer::UiServer(Page page, std::function<std::string()> snapshot, std::string token)
    : page_(page),
      snapshot_(std::move(snapshot)),
      token_(std::move(token)),
      http_([this](const HttpRequest& req) { return handle(req); }) {}

std::string UiServer::start(const Address& bind, bool check_host) {
  check_host_ = check_host;
  return http_.start(bind);
}

void UiServer::publish(std::string_view name, const nlohmann::json& data) {
  if (!has_streams()) return;
  http_.publish(name, data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

HttpResponse UiServer::handle(const HttpRequest& req) {
  if (check_host_ && !host_is_literal(req.host)) {
    return text(403, "this UI answers only requests to an IP address or localhost "
                     "(Host: " + req.host.substr(0, 64) + ")");
  }
  std::string_view path = req.path;
  if (path.rfind("/api/", 0) == 0) {
    if (!token_.empty()) {
      const auto it = req.query.find("token");
      if (it == req.query.end() || !token_equal(it->second, token_)) {
        return text(401, "unauthorized: open the page as http://HOST:PORT/?token=TOKEN "
                         "(the agent's --rpc-auth token)");
      }
    }
    if (path == "/api/members") {
      HttpResponse r;
      r.content_type = "application/json";
      r.body = snapshot_();
      return r;
    }
    if (path == "/api/events") {
      HttpResponse r;
      r.content_type = "text/event-stream";
      r.event_stream = true;
      r.body = "retry: 1000\n\n";
      return r;
    }
    return text(404, "no such API: /api/members, /api/events");
  }
  if (path == "/" || path == "/index.html") path = page_ == Page::agent ? "/agent.html" : "/demo.html";
  if (path == "/favicon.ico") path = "/favicon.svg";
  for (const UiAsset& a : ui_assets()) {
    if (path.substr(1) == a.name) {
      HttpResponse r;
      r.content_type = std::string(content_type_of(a.name));
      r.body = std::string(a.bytes);
      return r;
    }
  }
  return text(404, "not found");
}

std::string agent_ui_snapshot(const NodeHandle& node, std::string_view name) {
  nlohmann::json members = nlohmann::json::array();
  for (const auto& m : node.members()) members.push_back(member_json(m));
  nlohmann::json j = {{"kind", "agent"},
                      {"self", {{"name", std::string(name)}, {"address", node.address().to_string()}}},
                      {"members", std::move(members)},
                      {"configuration", configuration_json(node.membership().configuration())}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string render_ui_metrics(const HttpStats& s) {
  std::string o;
  auto metric = [&](const char* name, const char* type, const char* help, std::uint64_t v) {
    o += std::string("# HELP ") + name + ' ' + help + "\n# TYPE " + name + ' ' + type + '\n' +
         name + ' ' + std::to_string(v) + '\n';
  };
  metric("grapevine_ui_requests_total", "counter", "UI HTTP requests answered.", s.requests.load());
  metric("grapevine_ui_streams", "gauge", "UI event streams open now.", s.streams_open.load());
  metric("grapevine_ui_clients_refused_total", "counter",
         "UI connections refused: the client limit was reached.", s.clients_refused.load());
  metric("grapevine_ui_bad_requests_total", "counter",
         "UI requests malformed, too large or not GET.", s.bad_requests.load());
  metric("grapevine_ui_timeouts_total", "counter", "UI clients closed before a whole request.",
         s.timeouts.load());
  metric("grapevine_ui_slow_clients_dropped_total", "counter",
         "UI event streams dropped for falling behind.", s.slow_clients_dropped.load());
  metric("grapevine_ui_events_dropped_total", "counter",
         "UI events not queued (too many waiting).", s.events_dropped.load());
  return o;
}

}  // namespace grapevine::tools
