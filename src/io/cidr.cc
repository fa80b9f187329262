#include "grapevine/cidr.h"

#include <arpa/inet.h>

#include <cstring>

namespace grapevine {

namespace {
constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
}  // namespace

std::optional<Cidr> Cidr::parse(std::string_view text) {
  std::string host(text.substr(0, text.find('/')));
  Cidr c;
  if (::inet_pton(AF_INET, host.c_str(), c.network.ip.data()) == 1) {
    c.network.family = 4;
  } else if (::inet_pton(AF_INET6, host.c_str(), c.network.ip.data()) == 1) {
    c.network.family = 6;
  } else {
    return std::nullopt;
  }
  const unsigned max_bits = c.network.family == 4 ? 32 : 128;
  unsigned bits = max_bits;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    std::string_view n = text.substr(slash + 1);
    if (n.empty() || n.size() > 3) return std::nullopt;
    bits = 0;
    for (char ch : n) {
      if (ch < '0' || ch > '9') return std::nullopt;
      bits = bits * 10 + unsigned(ch - '0');
    }
    if (bits > max_bits) return std::nullopt;
  }
  c.prefix_bits = std::uint8_t(bits);
  for (unsigned i = 0; i < 16; ++i) {  // clear the host bits
    const unsigned first = i * 8;
    if (first >= bits) {
      c.network.ip[i] = 0;
    } else if (bits - first < 8) {
      c.network.ip[i] &= std::uint8_t(0xff << (8 - (bits - first)));
    }
  }
  return c;
}

bool Cidr::contains(const Address& a) const noexcept {
  const std::uint8_t* ip = a.ip.data();
  std::uint8_t mapped[16];
  if (a.family == 6 && network.family == 4 && std::memcmp(ip, kMapped, 12) == 0) {
    std::memcpy(mapped, ip + 12, 4);  // ::ffff:a.b.c.d against an IPv4 network
    ip = mapped;
  } else if (a.family != network.family) {
    return false;
  }
  unsigned bits = prefix_bits;
  for (unsigned i = 0; bits > 0; ++i) {
    const unsigned take = bits < 8 ? bits : 8;
    const auto mask = std::uint8_t(0xff << (8 - take));
    if ((ip[i] & mask) != (network.ip[i] & mask)) return false;
    bits -= take;
  }
  return true;
}

std::string Cidr::to_string() const {
  char buf[INET6_ADDRSTRLEN] = "";
  ::inet_ntop(network.family == 4 ? AF_INET : AF_INET6, network.ip.data(), buf, sizeof buf);
  return std::string(buf) + "/" + std::to_string(prefix_bits);
}

}  // namespace grapevine
