#include <arpa/inet.h>

#include <charconv>
#include <cstring>

#include "grapevine/address.h"
#include "util/hash.h"

namespace grapevine {

std::string Address::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (family == 4) {
    inet_ntop(AF_INET, ip.data(), buf, sizeof buf);
    return std::string(buf) + ":" + std::to_string(port);
  }
  if (family == 6) {
    inet_ntop(AF_INET6, ip.data(), buf, sizeof buf);
    return "[" + std::string(buf) + "]:" + std::to_string(port);
  }
  return "unset";
}

std::optional<Address> Address::parse(std::string_view text) {
  std::string_view host;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535) {
    return std::nullopt;
  }
  std::string host_z(host);
  Address a;
  a.port = std::uint16_t(port);
  if (inet_pton(AF_INET, host_z.c_str(), a.ip.data()) == 1) {
    a.family = 4;
    return a;
  }
  if (inet_pton(AF_INET6, host_z.c_str(), a.ip.data()) == 1) {
    a.family = 6;
    return a;
  }
  return std::nullopt;
}

std::size_t AddressHash::operator()(const Address& a) const noexcept {
  return std::size_t(hash_bytes(std::as_bytes(std::span(a.ip)), (std::uint64_t(a.family) << 16) | a.port));
}

}  // namespace grapevine
