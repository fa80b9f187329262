// Address: an IPv4 or IPv6 address and a port, as a plain value (no sockets, no strings).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace grapevine {

struct Address {
  /// IPv4 addresses use bytes 0..3; IPv6 all 16 (network byte order).
  std::array<std::uint8_t, 16> ip{};
  std::uint16_t port = 0;
  std::uint8_t family = 0;  // 0 = unset, 4 = IPv4, 6 = IPv6

  static constexpr Address ipv4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d,
                                std::uint16_t port) noexcept {
    Address r;
    r.ip[0] = a; r.ip[1] = b; r.ip[2] = c; r.ip[3] = d;
    r.port = port;
    r.family = 4;
    return r;
  }
  static constexpr Address ipv4_u32(std::uint32_t host_order, std::uint16_t port) noexcept {
    return ipv4(std::uint8_t(host_order >> 24), std::uint8_t(host_order >> 16),
                std::uint8_t(host_order >> 8), std::uint8_t(host_order), port);
  }
  /// The IPv4 address as a host-order integer (0 for IPv6).
  [[nodiscard]] constexpr std::uint32_t ipv4_u32() const noexcept {
    if (family != 4) return 0;
    return std::uint32_t(ip[0]) << 24 | std::uint32_t(ip[1]) << 16 | std::uint32_t(ip[2]) << 8 |
           std::uint32_t(ip[3]);
  }
  [[nodiscard]] constexpr bool valid() const noexcept { return family == 4 || family == 6; }

  /// "1.2.3.4:7946" or "[::1]:7946".
  [[nodiscard]] std::string to_string() const;
  /// Parses "host:port" with a numeric IPv4 host or "[v6]:port". No DNS.
  static std::optional<Address> parse(std::string_view text);

  friend constexpr bool operator==(const Address&, const Address&) = default;
  friend constexpr auto operator<=>(const Address&, const Address&) = default;
};

/// Hash for unordered containers. Never let unordered iteration order drive a protocol decision.
struct AddressHash {
  std::size_t operator()(const Address& a) const noexcept;
};

}  // namespace grapevine
