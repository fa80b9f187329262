#include "core/multicast/sender.h"

namespace grapevine::detail {

void send_data(Effects& fx, MulticastStats& stats, const Address& to,
               std::span<StoredMessage* const> messages, std::uint8_t flags,
               std::size_t budget) {
  std::array<std::byte, wire::kPacketBudgetBytesMax> buf;
  if (budget > buf.size()) budget = buf.size();
  std::size_t i = 0;
  while (i < messages.size()) {
    wire::Writer w(std::span<std::byte>(buf.data(), budget));
    wire::begin_datagram(w);
    std::size_t frames = 0;
    for (; i < messages.size(); ++i) {
      const StoredMessage& m = *messages[i];
      wire::DataFrame f{m.id, m.hops, flags, m.payload};
      if (!wire::write_data(w, f)) {
        if (frames == 0) ++i;  // cannot fit even alone: skip it rather than loop forever
        break;
      }
      ++frames;
    }
    if (frames == 0) continue;
    fx.send(to, w.written());
    ++stats.datagrams_sent;
    stats.data_sent += frames;
    stats.bytes_sent += w.size();
  }
}

}  // namespace grapevine::detail
