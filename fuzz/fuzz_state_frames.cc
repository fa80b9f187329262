// Fuzz target: the replicated node state's frames (native family 0x50, wire/native_state.h) and
// the scuttlebutt machine that consumes them.
//
// Input: byte 0 picks the carrier (even: a datagram, odd: a stream message), the rest is it.
// Properties checked (a failure aborts, so libFuzzer keeps the input):
//  - summary and digest decoders accept only what re-encodes and decodes back to the same fields;
//    a delta reader's blocks and keys stay within the wire limits, versions ascending;
//  - the input then goes to a long-lived machine (from one of a few peers, 100 ms later each
//    time, timers run): no assertion fires, every datagram it sends fits its budget, its summary
//    counts exactly the nodes it holds with a version, and peer bytes stay under their limit.
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "core/state/scuttlebutt.h"
#include "fuzz_check.h"
#include "grapevine/group.h"
#include "wire/native_state.h"

namespace {

using namespace grapevine;
using namespace grapevine::wire;
using Bytes = std::span<const std::byte>;

class CheckingEffects final : public Effects {
 public:
  void send(const Address&, Bytes datagram) override {
    FUZZ_CHECK(datagram.size() <= 1400);
    FrameIterator it(datagram);
    Frame f;
    while (it.next(f)) FUZZ_CHECK(is_state_frame(f.type));
    FUZZ_CHECK(it.ok());
  }
  void emit(const Event&) override {}
  void send_stream(const Address&, Bytes message) override {
    FUZZ_CHECK(decode_state_stream(message).has_value());
  }
};

void check_decoders(const Frame& f) {
  std::array<std::byte, 65536> buf;
  if (f.type == std::uint8_t(StateFrame::summary)) {
    if (auto s = decode_state_summary(f.body)) {
      Writer w(buf);
      FUZZ_CHECK(write_state_summary(w, *s));
      Reader r(w.written());
      r.u8();
      auto len = r.varint();
      auto again = decode_state_summary(r.bytes(std::size_t(len)));
      FUZZ_CHECK(again && again->count == s->count && again->hash == s->hash);
    }
  } else if (f.type == std::uint8_t(StateFrame::digest)) {
    if (auto d = decode_state_digest(f.body)) {
      Writer w(buf);
      FUZZ_CHECK(write_state_digest(w, *d));
      Reader r(w.written());
      r.u8();
      auto len = r.varint();
      auto again = decode_state_digest(r.bytes(std::size_t(len)));
      FUZZ_CHECK(again && again->lo == d->lo && again->hi == d->hi && again->entries == d->entries);
    }
  } else if (f.type == std::uint8_t(StateFrame::delta)) {
    StateDeltaReader r(f.body);
    StateBlockHeader h;
    while (r.next_block(h)) {
      FUZZ_CHECK(h.from <= h.up_to);
      StateKeyOp op;
      std::uint64_t last = h.from;
      while (r.next_key(op)) {
        FUZZ_CHECK(op.version > last && op.version <= h.up_to);
        FUZZ_CHECK(op.key.size() <= kStateKeyBytesWireMax);
        FUZZ_CHECK(op.value.size() <= kStateValueBytesWireMax);
        last = op.version;
      }
    }
  }
}

struct Harness {
  StaticGroup group{{Address::ipv4(10, 0, 0, 1, 7946), Address::ipv4(10, 0, 0, 2, 7946),
                     Address::ipv4(10, 0, 0, 3, 7946)}};
  StateConfig config = [] {
    StateConfig c;
    c.peer_bytes_max = 1u << 20;
    c.tombstone_grace = Duration::seconds(2);
    c.departed_grace = Duration::seconds(3);
    return c;
  }();
  detail::Scuttlebutt machine{config, group.address(0), group, 42};
  Time now = Time::zero();
  std::uint32_t calls = 0;
};

Harness& harness() {
  static auto* h = [] {
    auto* x = new Harness;
    CheckingEffects fx;
    (void)x->machine.set(x->now, "own", "value", Duration::seconds(1), fx);
    return x;
  }();
  return *h;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const Bytes input(reinterpret_cast<const std::byte*>(data) + 1, size - 1);
  const bool stream = (data[0] & 1) != 0;
  if (!stream) {
    FrameIterator it(input);
    Frame f;
    while (it.next(f)) check_decoders(f);
  } else if (auto body = decode_state_stream(input)) {
    check_decoders(Frame{std::uint8_t(StateFrame::delta), *body});
  }
  Harness& h = harness();
  CheckingEffects fx;
  h.now += Duration::milliseconds(100);
  const Address from = h.group.address(1 + (h.calls++ % 2));
  if (stream) {
    h.machine.on_stream(h.now, from, input, fx);
  } else {
    FrameIterator it(input);
    Frame f;
    while (it.next(f)) {
      if (is_state_frame(f.type)) h.machine.on_frame(h.now, from, f, fx);
    }
  }
  if (h.now >= h.machine.next_deadline()) h.machine.on_timeout(h.now, fx);
  std::uint64_t with_version = 0;
  for (const auto& [id, n] : h.machine.store().nodes()) with_version += n.max_version > 0;
  FUZZ_CHECK(h.machine.store().summary().count == with_version);
  FUZZ_CHECK(h.machine.store().peer_bytes() <= h.config.peer_bytes_max);
  return 0;
}
