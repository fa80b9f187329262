#include "grapevine/machine.h"

#include "wire/native_membership.h"

namespace grapevine {

Result<std::size_t> Machine::stream_message_length(std::span<const std::byte> received) const {
  if (received.size() < 4) return std::size_t(0);
  const std::size_t len = std::size_t(std::to_integer<std::uint8_t>(received[0])) << 24 |
                          std::size_t(std::to_integer<std::uint8_t>(received[1])) << 16 |
                          std::size_t(std::to_integer<std::uint8_t>(received[2])) << 8 |
                          std::size_t(std::to_integer<std::uint8_t>(received[3]));
  if (len > wire::kStreamBytesMax) return make_error(Errc::too_large, "stream over 20 MB");
  return received.size() >= len + 4 ? len + 4 : std::size_t(0);
}

}  // namespace grapevine
