// Fuzz target: untrusted datagrams into every multicast machine.
//
// For each input, fresh machines (push, pull and push-pull gossip with feedback-driven stop
// rules, centralized, tree with ACK repair, tree with NACK repair) are started as member 1 of a
// small simulated group, given one message of their own, fed the input as a datagram (twice,
// so duplicate handling runs), driven through their timers, then fed each frame of the input
// again as its own datagram from a different member, timers in between. Properties:
//  - nothing crashes, trips an invariant assertion, or upsets ASan/UBSan;
//  - everything a machine sends is a well-formed native datagram within its packet budget whose
//    frames all decode (a machine must never amplify garbage into garbage on the wire);
//  - deadlines never go backwards past the time they were asked at, and delivered payloads
//    respect kMulticastPayloadBytesMax.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "fuzz_check.h"
#include "grapevine/multicast.h"
#include "sim/sim_group.h"
#include "wire/native.h"

namespace {

using namespace grapevine;

constexpr std::uint32_t kNodes = 8;
constexpr std::uint32_t kSelf = 1;
constexpr int kTimeoutsMax = 24;

// Checks every datagram a machine sends, then discards it.
class CheckingEffects final : public Effects {
 public:
  explicit CheckingEffects(std::size_t budget) : budget_(budget) {}

  void send(const Address& to, std::span<const std::byte> datagram) override {
    FUZZ_CHECK(to.valid());
    FUZZ_CHECK(datagram.size() <= budget_);
    wire::FrameIterator it(datagram);
    wire::Frame f;
    std::size_t frames = 0;
    while (it.next(f)) {
      ++frames;
      switch (wire::FrameType(f.type)) {
        case wire::FrameType::data:
          FUZZ_CHECK(wire::decode_data(f.body));
          break;
        case wire::FrameType::pull_request:
          FUZZ_CHECK(wire::decode_pull_request(f.body));
          break;
        case wire::FrameType::feedback:
          FUZZ_CHECK(wire::decode_feedback(f.body));
          break;
        case wire::FrameType::ack:
          FUZZ_CHECK(wire::decode_ack(f.body));
          break;
        case wire::FrameType::nack:
          FUZZ_CHECK(wire::decode_nack(f.body));
          break;
        case wire::FrameType::session:
          FUZZ_CHECK(wire::decode_session(f.body));
          break;
        default:
          FUZZ_CHECK(false && "machine sent a frame of unknown type");
      }
    }
    FUZZ_CHECK(it.ok());
    FUZZ_CHECK(frames > 0);
  }

  void emit(const Event& event) override {
    if (event.kind == EventKind::delivered) {
      FUZZ_CHECK(event.payload.size() <= wire::kMulticastPayloadBytesMax);
    }
  }

 private:
  std::size_t budget_;
};

struct Setup {
  sim::SimGroup group{kNodes, 2};  // two subnets, so topology-aware choice has work to do
  std::array<MulticastConfig, 6> configs;

  Setup() {
    const MulticastProtocolKind kinds[] = {
        MulticastProtocolKind::push,     MulticastProtocolKind::pull,
        MulticastProtocolKind::pushpull, MulticastProtocolKind::centralized,
        MulticastProtocolKind::tree_ack, MulticastProtocolKind::tree_nack};
    for (std::size_t i = 0; i < configs.size(); ++i) {
      MulticastConfig& c = configs[i];
      c.protocol = kinds[i];
      c.fanout = 2;
      c.period = Duration::milliseconds(100);
      c.hop_delay = Duration::milliseconds(5);
      c.ack_timeout = Duration::milliseconds(20);
      c.retention_periods = 10;
      c.packet_budget_bytes = 512;  // small, so multi-datagram sends happen
    }
    // Feedback-driven stop rules: push receivers answer with feedback frames and pushers act on
    // the feedback they get (including forged feedback from the input).
    configs[0].stop = StopRule::counter;
    configs[0].stop_k = 2;
    configs[1].stop = StopRule::coin;  // pull's per-tick counter bookkeeping
    configs[1].stop_k = 2;
    configs[2].stop = StopRule::coin;
    configs[2].stop_k = 3;
    configs[2].topology_aware = true;
    for (const auto& c : configs) FUZZ_CHECK(validate(c));
  }
};

const Setup& setup() {
  static const Setup s;
  return s;
}

// Fires the machine's timers up to `rounds` times, moving `now` to each deadline.
void run_timers(MulticastProtocol& m, Time& now, Effects& fx, int rounds) {
  for (int i = 0; i < rounds; ++i) {
    const Time deadline = m.next_deadline();
    if (deadline == Time::max()) return;
    now = std::max(now, deadline);
    m.on_timeout(now, fx);
  }
}

void exercise(const MulticastConfig& config, const sim::SimGroup& group,
              std::span<const std::byte> datagram) {
  std::unique_ptr<MulticastProtocol> m = make_multicast(config, group, kSelf, 0x5eed);
  FUZZ_CHECK(m != nullptr);
  CheckingEffects fx(config.packet_budget_bytes);
  Time now = Time::zero();
  m->on_timeout(now, fx);  // starts the ticker
  const std::byte own[] = {std::byte{'h'}, std::byte{'i'}};
  FUZZ_CHECK(m->multicast(now, own, fx));  // a message of its own to serve, push and repair

  // The sender varies with the input so acks and tree positions see different peers.
  const Address from = group.address(datagram.size() % kNodes);
  now += Duration::milliseconds(1);
  m->on_datagram(now, from, datagram, fx);
  now += Duration::milliseconds(1);
  m->on_datagram(now, from, datagram, fx);
  std::uint64_t received = 2;
  run_timers(*m, now, fx, kTimeoutsMax);

  // Then each frame again as a datagram of its own, from a different member each time, with
  // timers running in between: sequences (data, then a NACK for it from elsewhere, then a
  // session...) reach state that one datagram cannot.
  wire::FrameIterator frames(datagram);
  wire::Frame frame;
  std::uint32_t k = 0;
  std::vector<std::byte> buf(datagram.size() + 16);  // a frame alone is never longer
  while (frames.next(frame)) {
    wire::Writer w(buf);
    wire::begin_datagram(w);
    w.u8(frame.type);
    w.varint(frame.body.size());
    w.bytes(frame.body);
    FUZZ_CHECK(w.ok());
    now += Duration::milliseconds(3);
    m->on_datagram(now, group.address(++k % kNodes), w.written(), fx);
    ++received;
    run_timers(*m, now, fx, 2);
  }
  run_timers(*m, now, fx, kTimeoutsMax);
  (void)m->quiescent();
  const MulticastStats& s = m->stats();
  FUZZ_CHECK(s.datagrams_received == received);
  FUZZ_CHECK(s.duplicates_received <= s.data_received);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Setup& s = setup();
  auto datagram = std::as_bytes(std::span(data, size));
  for (const MulticastConfig& c : s.configs) exercise(c, s.group, datagram);
  return 0;
}
