// SCAMP's defining property (literature P1): the partial views self-size to (c + 1) ln N with
// no global knowledge. With joins that settle one at a time, the exact mean of the join
// recursion is (c + 1)(H_N - 1) (H_N the harmonic number), which tends to (c + 1) ln N.
#include <gtest/gtest.h>

#include <array>
#include <cmath>

#include "grapevine/view.h"
#include "sim/views_experiment.h"
#include "wire/native.h"
#include "wire/native_views.h"

namespace grapevine::sim {
namespace {

ViewsExperiment scamp(std::uint32_t nodes, std::uint32_t c, std::uint64_t seed) {
  ViewsExperiment e;
  e.config.kind = ViewKind::scamp;
  e.config.scamp_c = c;
  e.nodes = nodes;
  e.cycles = 1;
  e.seed = seed;
  e.multicasts = 2;
  e.after_cycles = 4;
  e.join_spacing = Duration::seconds(1);  // each subscription settles before the next join
  e.path_samples = 20;
  e.clustering_samples = 200;
  return e;
}

double harmonic(std::uint32_t n) {
  double h = 0;
  for (std::uint32_t k = 1; k <= n; ++k) h += 1.0 / k;
  return h;
}

TEST(ViewsScamp, ViewSizeIsAboutCPlusOneTimesLnN) {
  for (std::uint32_t c : {0u, 1u, 2u}) {
    double sum = 0;
    const int seeds = 3;
    for (int s = 1; s <= seeds; ++s) sum += run_views_once(scamp(1000, c, s), 0).view_size_mean;
    const double mean = sum / seeds;
    const double exact = (c + 1) * (harmonic(1000) - 1);
    EXPECT_NEAR(mean, exact, 0.12 * exact) << "c=" << c;
    EXPECT_NEAR(mean, (c + 1) * std::log(1000.0), 0.2 * (c + 1) * std::log(1000.0)) << "c=" << c;
  }
}

TEST(ViewsScamp, ViewsGrowWithLogNAndFloodingReachesEveryone) {
  const ViewsRun small = run_views_once(scamp(250, 1, 7), 0);
  const ViewsRun large = run_views_once(scamp(2000, 1, 7), 0);
  // 2 ln(2000/250) = 4.2 more entries; allow the seed's noise.
  EXPECT_NEAR(large.view_size_mean - small.view_size_mean, 2 * std::log(8.0), 1.5);
  EXPECT_EQ(large.in_degree_mean, large.view_size_mean);  // every link has two ends
  for (double f : large.delivered_before) EXPECT_GE(f, 0.999);
  EXPECT_GT(large.reachable_fraction, 0.999);
}

TEST(ViewsScamp, UnsubscriptionKeepsTheOverlayConnected) {
  // 20% of the group leaves gracefully, one node per second (each unsubscription settles before
  // the next). A leaver asks its in-view to replace their link to it by its own view members
  // (all but c + 1 of them), so the remaining overlay keeps the (c + 1) ln N shape of a group
  // that never had the leavers, and nobody keeps a link to a departed node.
  for (std::uint64_t seed : {3u, 4u}) {
    ViewsExperiment e = scamp(1000, 1, seed);
    e.leave_fraction = 0.2;
    e.multicasts = 5;
    const ViewsRun r = run_views_once(e, 0);
    ASSERT_EQ(r.left, 200u);
    EXPECT_EQ(r.live_before, 800u);
    EXPECT_EQ(r.links_to_leavers, 0u) << "seed " << seed;
    const double exact = 2 * (harmonic(800) - 1);  // 12.5: as if 800 had joined
    EXPECT_NEAR(r.view_size_mean, exact, 0.12 * exact) << "seed " << seed;
    EXPECT_NEAR(r.view_size_mean, 2 * std::log(800.0), 0.2 * 2 * std::log(800.0));
    EXPECT_EQ(r.in_degree_mean, r.view_size_mean);  // no link leaves the remaining group
    EXPECT_GT(r.reachable_fraction, 0.999) << "seed " << seed;
    for (double f : r.delivered_before) EXPECT_EQ(f, 1.0) << "seed " << seed;
  }
}

}  // namespace
}  // namespace grapevine::sim

namespace grapevine {
namespace {

class CountingEffects final : public Effects {
 public:
  void send(const Address&, std::span<const std::byte>) override { ++sent; }
  void emit(const Event&) override {}
  std::size_t sent = 0;
};

// A peer (or a flood of forwarded subscriptions) must not grow a SCAMP view without bound:
// past scamp_view_max, subscriptions are forwarded on instead of kept, and in-view claims are
// ignored.
TEST(ViewsScamp, ViewsStayBoundedUnderAFloodOfSubscriptions) {
  ViewConfig config;
  config.kind = ViewKind::scamp;
  config.scamp_view_max = 32;
  const Address self = Address::ipv4_u32((10u << 24) | 1, 7946);
  auto view = make_view(config, self, 7);
  ASSERT_NE(view, nullptr);
  CountingEffects fx;
  const Address contact = Address::ipv4_u32((10u << 24) | 2, 7946);
  view->join(Time::zero(), contact, fx);
  for (std::uint32_t i = 0; i < 5000; ++i) {
    const Address stranger = Address::ipv4_u32((11u << 24) | (i + 1), 7946);
    std::array<std::byte, 256> buf;
    wire::Writer w(buf);
    wire::begin_datagram(w);
    ASSERT_TRUE(wire::write_subscribe(w, {false, 1, stranger}));
    view->on_datagram(Time::zero(), contact, w.written(), fx);
    // and the stranger claims we are in its view
    wire::Writer w2(buf);
    wire::begin_datagram(w2);
    ASSERT_TRUE(wire::write_inview(w2, {true}));
    view->on_datagram(Time::zero(), stranger, w2.written(), fx);
  }
  EXPECT_LE(view->view().size(), 32u);
  EXPECT_GT(fx.sent, 0u);
}

}  // namespace
}  // namespace grapevine
