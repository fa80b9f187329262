// Fuzz target: the native seal's opening path (wire/seal.h, core/node_seal.h) through a whole
// Node, as a datagram and as a stream message.
//
// Input: [mode][bytes]. Mode bit 0: the node has keys (K1 primary, K2 extra); bit 1: the node's
// label is "prod"; bit 2: the bytes arrive as a stream message; bit 3: transition mode
// (gossip_verify_incoming off: plaintext accepted); bit 4: the harness seals `bytes` first
// (timestamp = the node's clock) so the fuzzer reaches the frames behind the seal; bit 5: it
// seals with K2 (the rotation path) instead of K1; bit 6: with the label "prod" (else none);
// bit 7: the timestamp is 10 minutes off (stale). Properties: nothing crashes or trips ASan/UBSan,
// stream framing never claims more than it was given, deadlines never go back, and a replay of
// an accepted sealed datagram is never opened twice.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "grapevine/node.h"
#include "wire/seal.h"

namespace {

using namespace grapevine;
using Bytes = std::vector<std::byte>;

class NullEffects final : public Effects {
 public:
  void send(const Address&, std::span<const std::byte>) override {}
  void emit(const Event&) override {}
  void send_stream(const Address&, std::span<const std::byte>) override {}
  void reply_stream(StreamId, std::span<const std::byte>) override {}
};

Address addr(std::uint8_t last) { return Address::ipv4_u32((10u << 24) | last, 7946); }

Bytes seal_input(std::uint8_t mode, std::span<const std::byte> bytes, Time now) {
  const Bytes key(32, std::byte((mode & 32) != 0 ? 2 : 1));
  auto ring = *wire::ml::Keyring::create(key);
  wire::seal::NonceGenerator nonces(Bytes(32, std::byte(mode)));
  std::int64_t ts = now.ns() / 1000000;
  if ((mode & 128) != 0) ts -= 600000;
  Bytes out;
  if ((mode & 4) != 0) out.resize(4);
  if (!wire::seal::seal(ring, (mode & 64) != 0 ? "prod" : "", ts, bytes, nonces, out)) {
    std::abort();
  }
  if ((mode & 4) != 0) {
    const std::size_t n = out.size() - 4;
    for (int i = 0; i < 4; ++i) out[std::size_t(i)] = std::byte(n >> (24 - 8 * i));
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t mode = data[0];
  std::span<const std::byte> raw(reinterpret_cast<const std::byte*>(data + 1), size - 1);

  NodeConfig config;
  if ((mode & 1) != 0) {
    config.membership.memberlist.keys = {Bytes(32, std::byte(1)), Bytes(32, std::byte(2))};
  }
  if ((mode & 2) != 0) config.membership.memberlist.label = "prod";
  config.membership.memberlist.gossip_verify_incoming = (mode & 8) == 0;
  if (!validate(config)) std::abort();
  Node node(config, addr(1), 7);
  NullEffects fx;
  Time now = Time::zero();
  const Address members[] = {addr(1), addr(2), addr(3)};
  node.preload(now, members);

  const Bytes input = (mode & 16) != 0 ? seal_input(mode, raw, now) : Bytes(raw.begin(), raw.end());
  const Address from = addr(2);
  if ((mode & 4) != 0) {
    auto length = node.stream_message_length(input);
    if (length && *length > input.size()) std::abort();
    node.on_stream(now, from, input, StreamId{1}, fx);
  } else {
    const std::uint64_t opened = node.seal_stats().opened;
    node.on_datagram(now, from, input, fx);
    const bool was_opened = node.seal_stats().opened > opened;
    node.on_datagram(now, addr(3), input, fx);  // a replay
    if (was_opened && node.seal_stats().opened != opened + 1) std::abort();
  }
  for (int i = 0; i < 4; ++i) {
    Time d = node.next_deadline();
    if (d == Time::max()) break;
    if (d < now) std::abort();
    now = d;
    node.on_timeout(now, fx);
  }
  return 0;
}
