// Fuzz target: arbitrary bytes into a whole Node (membership + multicast), as a datagram and as
// a stream message, in both dialects and with every failure detector.
//
// Input: [mode][bytes]. Mode bit 0: dialect (native / memberlist); bits 1-2: detector; bit 3:
// the bytes arrive as a stream message (push-pull / user stream) instead of a datagram; bit 4:
// the node has joined through a seed first (so answers and merges happen against a live list);
// bit 5 with the gossip-heartbeat detector: the phi-accrual detector instead.
// The node is driven through its timers after the input. Properties:
//  - nothing crashes, trips an assertion, or upsets ASan/UBSan, whatever the bytes;
//  - deadlines never go back past the time they were asked at;
//  - stream framing never claims more bytes than it was given.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "grapevine/node.h"

namespace {

using namespace grapevine;

class NullEffects final : public Effects {
 public:
  void send(const Address&, std::span<const std::byte>) override {}
  void emit(const Event&) override {}
  void send_stream(const Address&, std::span<const std::byte>) override {}
  void reply_stream(StreamId, std::span<const std::byte>) override {}
};

Address addr(std::uint8_t last) {
  return Address::ipv4_u32((10u << 24) | last, 7946);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t mode = data[0];
  std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data + 1), size - 1);

  NodeConfig config;
  config.membership.dialect = (mode & 1) != 0 ? Dialect::memberlist : Dialect::native;
  static constexpr Detector kDetectors[] = {Detector::swim, Detector::lifeguard,
                                            Detector::gossip_heartbeat, Detector::all_to_all};
  config.membership.detector = kDetectors[(mode >> 1) & 3];
  if ((mode & 32) != 0 && config.membership.detector == Detector::gossip_heartbeat) {
    config.membership.detector = Detector::phi;
  }
  if (config.membership.dialect == Dialect::memberlist) {
    config.membership.name = "fuzz";
    if (config.membership.detector == Detector::gossip_heartbeat ||
        config.membership.detector == Detector::all_to_all) {
      config.membership.detector = Detector::lifeguard;  // memberlist speaks SWIM only
    }
  }
  if (!validate(config)) return 0;
  Node node(config, addr(1), 7);
  NullEffects fx;
  Time now = Time::zero();
  if ((mode & 16) != 0) {
    const Address seeds[] = {addr(2)};
    (void)node.join(now, seeds, fx);
  } else {
    const Address members[] = {addr(1), addr(2), addr(3)};
    node.preload(now, members);
  }

  const Address from = addr(2);
  if ((mode & 8) != 0) {
    auto length = node.stream_message_length(bytes);
    if (length && *length > bytes.size()) std::abort();
    node.on_stream(now, from, bytes, StreamId{1}, fx);
  } else {
    node.on_datagram(now, from, bytes, fx);
  }
  // A few timer rounds: whatever the input left behind (suspicions, queued broadcasts, pending
  // pings) must keep the machine well-behaved.
  for (int i = 0; i < 8; ++i) {
    Time d = node.next_deadline();
    if (d == Time::max()) break;
    if (d < now) std::abort();
    now = d;
    node.on_timeout(now, fx);
  }
  node.on_datagram(now, addr(3), bytes, fx);
  return 0;
}
