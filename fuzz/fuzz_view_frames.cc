// Fuzz target: every partial-view frame decoder (native family 0x30, wire/native_views.h).
//
// Input: a datagram. Properties checked (a failure aborts, so libFuzzer keeps the input):
//  - each decode_* runs on every frame body the FrameIterator yields and on the raw input;
//  - what a decoder accepts stays inside its limits, re-encodes, decodes back to the same fields,
//    and re-encodes to exactly the input body when the input used minimal varints (otherwise
//    never longer).
//  - the same datagram then goes to long-lived SCAMP, Cyclon and T-MAN nodes (from one of a few
//    peers, 100 ms later each time, timers run): no assertion fires, Cyclon and T-MAN views stay
//    within their sizes, and no view holds the node itself.
// ASan and UBSan catch any out-of-bounds read or undefined arithmetic on the way.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "fuzz_check.h"
#include "fuzz_frames.h"
#include "grapevine/event.h"
#include "grapevine/view.h"
#include "wire/native_views.h"

namespace {

using namespace grapevine;
using namespace grapevine::wire;

using Bytes = std::span<const std::byte>;

class NullEffects final : public Effects {
 public:
  void send(const Address&, Bytes datagram) override {
    FUZZ_CHECK(datagram.size() <= kPacketBudgetBytesMax);
  }
  void emit(const Event&) override {}
};

bool same_bytes(Bytes a, Bytes b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

// Re-encodes a decoded frame with `write`, checks the header, decodes the body again and compares.
template <class T, class Write, class Decode, class Equal>
void check_round_trip(Bytes body, const T& decoded, ViewFrame type, Write&& write, Decode&& decode,
                      Equal&& equal) {
  std::array<std::byte, kPacketBudgetBytesMax> buf;
  Writer w(buf);
  FUZZ_CHECK(write(w, decoded));
  Reader r(w.written());
  FUZZ_CHECK(r.u8() == std::uint8_t(type));
  const std::uint64_t length = r.varint();
  Bytes again = r.rest();
  FUZZ_CHECK(r.ok() && length == again.size());
  auto redecoded = decode(again);
  FUZZ_CHECK(redecoded.has_value());
  FUZZ_CHECK(equal(*redecoded, decoded));
  FUZZ_CHECK(again.size() <= body.size());
  if (again.size() == body.size()) FUZZ_CHECK(same_bytes(again, body));
}

bool equal_entries(const EntriesFrame& a, const EntriesFrame& b) {
  return a.kind == b.kind && a.count == b.count &&
         std::equal(a.entries, a.entries + a.count, b.entries);
}

void decode_everything(Bytes body) {
  if (auto f = decode_subscribe(body)) {
    FUZZ_CHECK(f->subscriber.valid() && f->hops <= kViewHopsMax);
    check_round_trip(body, *f, ViewFrame::subscribe, write_subscribe, decode_subscribe,
                     [](const SubscribeFrame& a, const SubscribeFrame& b) {
                       return a.is_new == b.is_new && a.hops == b.hops &&
                              a.subscriber == b.subscriber;
                     });
  }
  if (auto f = decode_inview(body)) {
    check_round_trip(body, *f, ViewFrame::inview, write_inview, decode_inview,
                     [](const InviewFrame& a, const InviewFrame& b) { return a.add == b.add; });
  }
  if (auto f = decode_unsubscribe(body)) {
    check_round_trip(body, *f, ViewFrame::unsubscribe, write_unsubscribe, decode_unsubscribe,
                     [](const UnsubscribeFrame& a, const UnsubscribeFrame& b) {
                       return a.leaving == b.leaving && a.replacement == b.replacement;
                     });
  }
  if (auto f = decode_walk(body)) {
    check_round_trip(body, *f, ViewFrame::walk, write_walk, decode_walk,
                     [](const WalkFrame& a, const WalkFrame& b) {
                       return a.ttl == b.ttl && a.joiner == b.joiner;
                     });
  }
  if (auto f = decode_shuffle(body)) {
    FUZZ_CHECK(f->count <= kViewEntriesMax);
    check_round_trip(
        body, *f, ViewFrame::shuffle,
        [](Writer& w, const EntriesFrame& e) {
          return write_shuffle(w, e.kind, std::span(e.entries, e.count));
        },
        decode_shuffle, equal_entries);
  }
  if (auto f = decode_tman(body)) {
    FUZZ_CHECK(f->count <= kViewEntriesMax);
    check_round_trip(
        body, *f, ViewFrame::tman,
        [](Writer& w, const EntriesFrame& e) {
          std::array<Address, kViewEntriesMax> peers;
          for (std::uint32_t i = 0; i < e.count; ++i) peers[i] = e.entries[i].address;
          return write_tman(w, e.kind, std::span(peers.data(), e.count));
        },
        decode_tman, equal_entries);
  }
  if (auto f = decode_view_gossip(body)) {
    FUZZ_CHECK(f->payload.size() <= kMulticastPayloadBytesMax);
    check_round_trip(body, *f, ViewFrame::view_gossip, write_view_gossip, decode_view_gossip,
                     [](const ViewGossipFrame& a, const ViewGossipFrame& b) {
                       return a.msg_id == b.msg_id && a.hops == b.hops &&
                              same_bytes(a.payload, b.payload);
                     });
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Bytes in = std::as_bytes(std::span(data, size));
  fuzz::decode_frame_bodies_then_whole(in, [](Bytes b) { decode_everything(b); });

  static const Address self = Address::ipv4(10, 0, 0, 1, 7946);
  static NullEffects fx;
  static std::unique_ptr<ViewMachine> nodes[3] = {nullptr, nullptr, nullptr};
  static std::int64_t now_ms = 0;
  if (!nodes[0]) {
    const ViewKind kinds[3] = {ViewKind::scamp, ViewKind::cyclon, ViewKind::tman};
    for (int k = 0; k < 3; ++k) {
      ViewConfig c;
      c.kind = kinds[k];
      nodes[k] = make_view(c, self, 1);
      nodes[k]->join(Time::zero(), Address::ipv4(10, 0, 0, 2, 7946), fx);
    }
  }
  now_ms += 100;
  const Time now = Time::from_ns(now_ms * 1000000);
  const Address from = Address::ipv4(10, 0, 0, std::uint8_t(2 + size % 8), 7946);
  const ViewConfig defaults;
  for (auto& node : nodes) {
    node->on_datagram(now, from, in, fx);
    if (now >= node->next_deadline()) node->on_timeout(now, fx);
    for (const Address& a : node->view()) FUZZ_CHECK(a != self);
  }
  FUZZ_CHECK(nodes[1]->view().size() <= defaults.cyclon_view_size);
  FUZZ_CHECK(nodes[2]->view().size() <= defaults.tman_view_size);
  return 0;
}
