// Fuzz target: HyParView/Plumtree frames (wire/native_hyparview.h, types 0x38-0x3e) and the
// HyParView machine fed with whatever the decoders let through.
//
// Input: a datagram. Properties checked (a failure aborts, so libFuzzer keeps the input):
//  - every hpv decoder runs on every frame body and on the raw input; what one accepts stays
//    inside its limits and survives encode -> decode unchanged;
//  - a HyParView node (kept across inputs, so its views and caches fill up) takes the datagram
//    from one of a few peers and then a timeout without asserting; its views stay bounded.
// ASan and UBSan catch any out-of-bounds read or undefined arithmetic on the way.
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "core/views/hyparview.h"
#include "fuzz_check.h"
#include "wire/native_hyparview.h"

namespace {

using namespace grapevine;
using namespace grapevine::wire;
namespace hpv = grapevine::wire::hpv;
using Bytes = std::span<const std::byte>;

class NullEffects final : public Effects {
 public:
  void send(const Address&, Bytes datagram) override {
    FUZZ_CHECK(datagram.size() <= kPacketBudgetBytesMax);
  }
  void emit(const Event&) override {}
};

void decode_everything(Bytes body) {
  std::array<std::byte, kPacketBudgetBytesMax> buf;
  if (auto f = hpv::decode_control(body)) {
    Writer w(buf);
    FUZZ_CHECK(hpv::write_control(w, f->kind));
  }
  if (auto f = hpv::decode_forward_join(body)) {
    FUZZ_CHECK(f->ttl <= hpv::kWalkTtlMax && f->peer != 0);
    Writer w(buf);
    FUZZ_CHECK(hpv::write_forward_join(w, *f));
  }
  hpv::ShuffleFrame s;
  if (hpv::decode_shuffle(body, s)) {
    FUZZ_CHECK(s.count <= hpv::kShufflePeersMax && s.ttl <= hpv::kWalkTtlMax);
    Writer w(buf);
    FUZZ_CHECK(hpv::write_shuffle(w, s.origin, s.ttl, std::span(s.peers, s.count)));
    Reader r(w.written());
    r.u8();
    r.varint();
    hpv::ShuffleFrame again;
    FUZZ_CHECK(hpv::decode_shuffle(r.rest(), again));
    FUZZ_CHECK(again.origin == s.origin && again.count == s.count);
    for (std::size_t i = 0; i < s.count; ++i) FUZZ_CHECK(again.peers[i] == s.peers[i]);
  }
  if (hpv::decode_shuffle_reply(body, s)) FUZZ_CHECK(s.count <= hpv::kShufflePeersMax);
  if (auto g = hpv::decode_gossip(body)) {
    FUZZ_CHECK(g->payload.size() <= kMulticastPayloadBytesMax);
    Writer w(buf);
    FUZZ_CHECK(hpv::write_gossip(w, *g));
  }
  hpv::IHaveFrame ih;
  if (hpv::decode_ihave(body, ih)) {
    FUZZ_CHECK(ih.count <= hpv::kIHaveIdsMax);
    Writer w(buf);
    FUZZ_CHECK(hpv::write_ihave(w, std::span(ih.entries, ih.count)));
  }
  hpv::GraftFrame gf;
  if (hpv::decode_graft(body, gf)) {
    FUZZ_CHECK(gf.count <= hpv::kIHaveIdsMax);
    Writer w(buf);
    FUZZ_CHECK(hpv::write_graft(w, std::span(gf.ids, gf.count)));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Bytes in(reinterpret_cast<const std::byte*>(data), size);
  decode_everything(in);
  FrameIterator it(in);
  Frame f;
  while (it.next(f)) decode_everything(f.body);

  static std::unique_ptr<views::HyParView> node = [] {
    ViewConfig c;
    c.kind = ViewKind::hyparview;
    return std::make_unique<views::HyParView>(c, views::HyParViewTuning{},
                                              Address::ipv4(10, 0, 0, 1, 7946), 1);
  }();
  static std::int64_t now_ms = 0;
  static NullEffects fx;
  now_ms += 100;
  Time now = Time::from_ns(now_ms * 1000000);
  // The sender: one of a few peers, picked by the input's length, so views fill up.
  Address from = Address::ipv4(10, 0, 0, std::uint8_t(2 + size % 8), 7946);
  node->on_datagram(now, from, in, fx);
  node->on_timeout(now, fx);
  FUZZ_CHECK(node->active().size() <= views::HyParView::kActiveMax);
  FUZZ_CHECK(node->passive().size() <= views::HyParView::kPassiveMax);
  return 0;
}
