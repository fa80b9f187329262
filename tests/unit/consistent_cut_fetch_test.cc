// Consistent membership (Rapid), one node driven by hand: a member that sees a fast quorum of
// votes for a cut sent by digest only (over wire::kCutMembersMax members) asks a voter for the
// list (cut_request), installs the configuration once the cut_state stream brings it, and
// answers other members' cut_requests for a cut it knows.
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "core/consistent/configuration.h"
#include "grapevine/membership.h"
#include "wire/native.h"
#include "wire/native_consistent.h"

namespace grapevine {
namespace {

Address addr(std::uint32_t i) {
  return Address::ipv4(10, 2, std::uint8_t(i >> 8), std::uint8_t(i), 7946);
}

struct Capture final : Effects {
  void send(const Address& to, std::span<const std::byte> d) override {
    datagrams.emplace_back(to, std::vector<std::byte>(d.begin(), d.end()));
  }
  void emit(const Event& e) override {
    if (e.kind == EventKind::view_changed) view_sizes.push_back(e.members.size());
  }
  void send_stream(const Address& to, std::span<const std::byte> m) override {
    streams.emplace_back(to, std::vector<std::byte>(m.begin(), m.end()));
  }
  // The consistent frames sent, decoded.
  std::vector<std::pair<Address, wire::RapidMessage>> frames() const {
    std::vector<std::pair<Address, wire::RapidMessage>> out;
    for (const auto& [to, bytes] : datagrams) {
      wire::FrameIterator it(bytes);
      wire::Frame f;
      while (it.next(f)) {
        wire::RapidMessage m;
        if (wire::is_rapid_frame(f.type) && wire::decode_rapid(f.type, f.body, m)) {
          out.emplace_back(to, m);
        }
      }
    }
    return out;
  }
  std::vector<std::pair<Address, std::vector<std::byte>>> datagrams, streams;
  std::vector<std::size_t> view_sizes;
};

std::vector<std::byte> datagram(const wire::RapidMessage& m) {
  std::array<std::byte, wire::kPacketBudgetBytesMax> buf;
  wire::Writer w(buf);
  wire::begin_datagram(w);
  EXPECT_TRUE(wire::write_rapid(w, m));
  return {w.written().begin(), w.written().end()};
}

TEST(ConsistentCutFetch, DecidedByDigestThenFetchedOnAStream) {
  const std::vector<Address> members{addr(1), addr(2), addr(3), addr(4), addr(5)};
  detail::Configuration config(members, 10);
  std::vector<Address> cut;
  for (std::uint32_t i = 100; i < 400; ++i) cut.push_back(addr(i));
  detail::canonical_cut(cut);
  const std::uint64_t digest = detail::cut_digest(config.ref(), cut);

  MembershipConfig mc;
  mc.mode = MembershipMode::consistent;
  const Address self = config.member(4);
  auto node = make_membership(mc, self, 7);
  Capture fx;
  node->preload(Time::zero(), members);
  // Members 0..3 voted for the cut: 4 of 5 is the fast quorum.
  wire::RapidMessage vote;
  vote.type = wire::RapidFrame::vote;
  vote.config = config.ref();
  vote.digest = digest;
  vote.total = std::uint32_t(cut.size());
  vote.count = 0;
  vote.bitmap_bytes = 1;
  vote.bitmap[0] = std::byte{0x0f};
  const Time t = Time::zero() + Duration::milliseconds(100);
  node->on_datagram(t, config.member(0), datagram(vote), fx);
  EXPECT_EQ(node->configuration().size, 5u) << "decided, but the members are unknown";
  bool asked = false;
  for (const auto& [to, m] : fx.frames()) {
    if (m.type == wire::RapidFrame::cut_request) {
      asked = true;
      EXPECT_EQ(m.digest, digest);
      EXPECT_LT(*config.index_of(to), 4u) << "asks a voter";
    }
  }
  ASSERT_TRUE(asked);
  // A list that does not hash to the digest is ignored; the right one installs.
  auto wrong = cut;
  wrong.pop_back();
  node->on_stream(t, config.member(0), wire::encode_cut_state(config.ref(), digest, wrong), 0, fx);
  EXPECT_EQ(node->configuration().size, 5u);
  node->on_stream(t, config.member(0), wire::encode_cut_state(config.ref(), digest, cut), 0, fx);
  EXPECT_EQ(node->configuration().size, 305u);
  EXPECT_EQ(node->configuration().epoch, 1u);
  ASSERT_EQ(fx.view_sizes.size(), 1u);
  EXPECT_EQ(fx.view_sizes[0], 305u);

  // It now answers a lagging member's cut_request for that decision from its history.
  fx.streams.clear();
  wire::RapidMessage req;
  req.type = wire::RapidFrame::cut_request;
  req.config = config.ref();
  req.digest = digest;
  node->on_datagram(t, config.member(1), datagram(req), fx);
  ASSERT_EQ(fx.streams.size(), 1u);
  wire::ConfigRef ref;
  std::uint64_t d = 0;
  std::vector<Address> got;
  ASSERT_TRUE(wire::decode_cut_state(fx.streams[0].second, ref, d, got));
  EXPECT_EQ(d, digest);
  EXPECT_EQ(got, cut);
}

}  // namespace
}  // namespace grapevine
