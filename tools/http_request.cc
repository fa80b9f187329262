// The UI server's request parser (http_server.h): the request line and the Host header of a
// request head, bytes from any client. Bounds-checked, never throws on malformed input
// (fuzz/fuzz_http_request.cc).
#include <string>
#include <string_view>

#include "http_server.h"

namespace grapevine::tools {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX and '+' decoded; false on a broken escape.
bool percent_decode(std::string_view in, std::string& out, bool plus_is_space) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out.push_back(char(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(plus_is_space && in[i] == '+' ? ' ' : in[i]);
    }
  }
  return true;
}

bool parse_query(std::string_view q, std::map<std::string, std::string>& out) {
  while (!q.empty()) {
    const auto amp = q.find('&');
    const std::string_view part = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
    if (part.empty()) continue;
    const auto eq = part.find('=');
    std::string k, v;
    if (!percent_decode(part.substr(0, eq), k, true)) return false;
    if (eq != std::string_view::npos && !percent_decode(part.substr(eq + 1), v, true)) return false;
    out.emplace(std::move(k), std::move(v));
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace

bool parse_http_request(std::string_view head, HttpRequest& out) {
  out = HttpRequest{};
  auto eol = head.find('\n');
  std::string_view line = trim(head.substr(0, eol));
  head = eol == std::string_view::npos ? std::string_view{} : head.substr(eol + 1);
  const auto sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) return false;
  const auto sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return false;
  out.method = std::string(line.substr(0, sp1));
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (line.substr(sp2 + 1).rfind("HTTP/1.", 0) != 0) return false;
  if (target.empty() || target.front() != '/') return false;
  const auto qm = target.find('?');
  if (!percent_decode(target.substr(0, qm), out.path, false)) return false;
  if (out.path.find('\0') != std::string::npos) return false;
  if (qm != std::string_view::npos && !parse_query(target.substr(qm + 1), out.query)) return false;
  while (!head.empty()) {
    eol = head.find('\n');
    line = trim(head.substr(0, eol));
    head = eol == std::string_view::npos ? std::string_view{} : head.substr(eol + 1);
    if (line.empty()) break;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    if (iequals(line.substr(0, colon), "host")) out.host = std::string(trim(line.substr(colon + 1)));
  }
  return true;
}

}  // namespace grapevine::tools
