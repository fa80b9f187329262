// Fuzz target: the consistent-membership (Rapid) frame decoders (native family 0x40,
// wire/native_consistent.h) and the config_state and cut_state stream messages.
//
// Input: a datagram. Properties checked (a failure aborts, so libFuzzer keeps the input):
//  - decode_rapid runs on every frame body the FrameIterator yields (with its type) and on the
//    raw input under every type; what it accepts re-encodes, the re-encoding decodes and
//    re-encodes to the same bytes, is never longer than the input body, and equals it when the
//    input used minimal varints (same length);
//  - decode_config_state (with its members' profiles) and decode_cut_state on the raw input:
//    what they accept re-encodes to the same length or less, and a cut frame's inline list is all of it or none;
//  - the same bytes then go, as a datagram from one of a few members and as a stream, to a
//    long-lived consistent node (timers run, 100 ms later each time): no assertion fires, its
//    configuration always contains its live group, and nothing it sends is over the budget.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "fuzz_check.h"
#include "grapevine/membership.h"
#include "wire/native.h"
#include "wire/native_consistent.h"

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

std::vector<std::byte> encode(const RapidMessage& m) {
  std::array<std::byte, kPacketBudgetBytesMax> buf;
  Writer w(buf);
  FUZZ_CHECK(write_rapid(w, m));
  Reader r(w.written());
  FUZZ_CHECK(r.u8() == std::uint8_t(m.type));
  const std::uint64_t length = r.varint();
  Bytes body = r.rest();
  FUZZ_CHECK(r.ok() && length == body.size());
  return {body.begin(), body.end()};
}

void check_frame(std::uint8_t type, Bytes body) {
  static RapidMessage m, again;
  if (!decode_rapid(type, body, m)) return;
  FUZZ_CHECK(m.count <= kCutMembersMax && m.alert_count <= kAlertsPerFrameMax &&
             m.bitmap_bytes <= kBitmapBytesMax && m.total <= kCutTotalMax);
  const bool cut_frame = m.type == RapidFrame::vote || m.type == RapidFrame::phase1b ||
                         m.type == RapidFrame::phase2a || m.type == RapidFrame::decision;
  FUZZ_CHECK(!cut_frame || m.count == 0 || m.count == m.total);
  std::vector<std::byte> e1 = encode(m);
  FUZZ_CHECK(decode_rapid(type, e1, again).has_value());
  std::vector<std::byte> e2 = encode(again);
  FUZZ_CHECK(e1 == e2);
  FUZZ_CHECK(e1.size() <= body.size());
  if (e1.size() == body.size()) FUZZ_CHECK(std::equal(e1.begin(), e1.end(), body.begin()));
}

void check_config_state(Bytes in) {
  ConfigRef ref;
  std::vector<Address> members;
  std::vector<Profile> profiles;
  if (!decode_config_state(in, ref, members, &profiles)) return;
  FUZZ_CHECK(profiles.empty() || profiles.size() == members.size());
  std::vector<ProfileView> views;
  for (std::size_t i = 0; i < profiles.size(); ++i) {
    views.push_back(ProfileView{members[i], profiles[i].version, profiles[i].name,
                                profiles[i].meta});
  }
  std::vector<std::byte> out = encode_config_state(ref, members, views);
  FUZZ_CHECK(!out.empty() && out.size() <= in.size());
}

void check_cut_state(Bytes in) {
  ConfigRef ref;
  std::uint64_t digest = 0;
  std::vector<Address> cut;
  if (!decode_cut_state(in, ref, digest, cut)) return;
  FUZZ_CHECK(consistent_stream_type(in) == kCutStateStreamType && cut.size() <= kCutTotalMax);
  std::vector<std::byte> out = encode_cut_state(ref, digest, cut);
  FUZZ_CHECK(!out.empty() && out.size() <= in.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Bytes in = std::as_bytes(std::span(data, size));
  FrameIterator it(in);
  Frame frame;
  while (it.next(frame)) {
    if (is_rapid_frame(frame.type)) check_frame(frame.type, frame.body);
  }
  for (std::uint8_t t = 0x40; t <= kRapidFrameLast; ++t) check_frame(t, in);
  check_config_state(in);
  check_cut_state(in);

  static const Address self = Address::ipv4(10, 0, 0, 1, 7946);
  static const Address peers[3] = {Address::ipv4(10, 0, 0, 2, 7946),
                                   Address::ipv4(10, 0, 0, 3, 7946),
                                   Address::ipv4(10, 0, 0, 4, 7946)};
  static NullEffects fx;
  static std::unique_ptr<Membership> node;
  static std::int64_t now_ms = 0;
  if (!node) {
    MembershipConfig c;
    c.mode = MembershipMode::consistent;
    node = make_membership(c, self, 1);
    const Address all[4] = {self, peers[0], peers[1], peers[2]};
    node->preload(Time::zero(), all);
  }
  now_ms += 100;
  const Time now = Time::zero() + Duration::milliseconds(now_ms);
  const Address& from = peers[size % 3];
  node->on_datagram(now, from, in, fx);
  node->on_stream(now, from, in, 0, fx);
  if (now >= node->next_deadline()) node->on_timeout(now, fx);
  const ConfigurationInfo ci = node->configuration();
  FUZZ_CHECK(ci.valid);
  FUZZ_CHECK(node->live_group().size() >= 1);
  FUZZ_CHECK(!ci.member || node->live_group().size() == ci.size);
  return 0;
}
