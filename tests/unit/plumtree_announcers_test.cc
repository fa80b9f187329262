// Plumtree's lazy repair when the announcer of a missing message loses its link
// (core/views/plumtree.h, "Announcers are not dropped too early"): a closed link keeps its
// peer as an announcer (it is alive and answers the GRAFT), a failed one does not. Before,
// a node whose only announcer's link closed gave up at once and missed the message for good
// (bench/hyparview_scale at 10^5 nodes).
#include <gtest/gtest.h>

#include <vector>

#include "core/views/plumtree.h"
#include "wire/native.h"

namespace grapevine::views {
namespace {

struct Sent {
  Peer to;
  std::vector<std::uint64_t> grafted;  // ids of the GRAFT frames in the datagram
};

struct Recorder final : PlumtreeTransport {
  std::vector<Sent> sent;
  void send_to(Peer to, std::span<const std::byte> d, Effects&) override {
    Sent s{to, {}};
    wire::FrameIterator it(d);
    wire::Frame f;
    while (it.next(f)) {
      if (f.type != std::uint8_t(wire::hpv::Frame::graft)) continue;
      wire::hpv::GraftFrame g;
      if (!wire::hpv::decode_graft(f.body, g)) continue;
      s.grafted.insert(s.grafted.end(), g.ids, g.ids + g.count);
    }
    sent.push_back(std::move(s));
  }
  std::vector<Peer> grafts_of(std::uint64_t id) const {
    std::vector<Peer> to;
    for (const auto& s : sent) {
      for (auto g : s.grafted) {
        if (g == id) to.push_back(s.to);
      }
    }
    return to;
  }
};

struct NullEffects final : Effects {
  void send(const Address&, std::span<const std::byte>) override {}
  void emit(const Event&) override {}
};

constexpr Peer kA = 11, kB = 12, kC = 13;
constexpr std::uint64_t kId = 0xabc;

wire::hpv::IHaveFrame ihave(std::uint64_t id) {
  wire::hpv::IHaveFrame f;
  f.count = 1;
  f.entries[0] = wire::hpv::IHaveEntry{id, 3};
  return f;
}

// Three neighbours, an IHAVE for kId from kA only; then kA's link goes down.
struct Fixture {
  PlumtreeConfig cfg;
  Plumtree tree{cfg};
  Recorder tx;
  NullEffects fx;
  Time t = Time::zero() + Duration::seconds(1);

  Fixture() {
    for (Peer p : {kA, kB, kC}) tree.neighbor_up(t, p);
    tree.on_ihave(t, kA, ihave(kId), tx, fx);
  }
  // Fires every timer up to `d` from now, 10 ms at a time.
  void run_for(Duration d) {
    Time end = t + d;
    while (t < end) {
      t = t + Duration::milliseconds(10);
      if (tree.next_deadline() <= t) tree.on_timeout(t, tx, fx);
    }
  }
};

TEST(PlumtreeAnnouncers, AClosedLinkKeepsItsPeerAsAnnouncer) {
  Fixture f;
  f.tree.neighbor_down(kA, /*reachable=*/true);  // DISCONNECT: kA is alive
  f.run_for(f.cfg.graft_timeout + Duration::milliseconds(10));
  EXPECT_EQ(f.tx.grafts_of(kId), std::vector<Peer>{kA});
  EXPECT_EQ(f.tree.stats().gave_up, 0u);
}

TEST(PlumtreeAnnouncers, TheClosedLinksPeerAnswersAndTheMessageIsDelivered) {
  Fixture f;
  f.tree.neighbor_down(kA, /*reachable=*/true);
  f.run_for(f.cfg.graft_timeout + Duration::milliseconds(10));
  ASSERT_EQ(f.tx.grafts_of(kId), std::vector<Peer>{kA});
  const std::byte payload[3] = {std::byte{1}, std::byte{2}, std::byte{3}};
  f.tree.on_gossip(f.t, kA, wire::hpv::GossipFrame{kId, 4, payload}, f.tx,
                   f.fx);  // not a neighbour
  EXPECT_EQ(f.tree.stats().delivered, 1u);
  f.run_for(f.cfg.graft_retry * 4);
  EXPECT_EQ(f.tx.grafts_of(kId).size(), 1u);  // the answer ended the repair
  EXPECT_EQ(f.tree.stats().gave_up, 0u);
}

TEST(PlumtreeAnnouncers, AFailedAnnouncerIsDroppedAndTheIdGivenUp) {
  Fixture f;
  f.tree.neighbor_down(kA);  // failed: it cannot answer; the other neighbours never announced
  f.run_for(f.cfg.graft_timeout + f.cfg.graft_retry * 4);
  EXPECT_TRUE(f.tx.grafts_of(kId).empty());
  EXPECT_EQ(f.tree.stats().gave_up, 1u);
}

}  // namespace
}  // namespace grapevine::views
