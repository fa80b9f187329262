// The simulator's locality work (prefetching ahead in the drained bucket, skipping the sender's
// slot until a crash or partition exists, in-place pull-request decoding) must not change a
// run: these hashes were recorded with the build before it (main at 88f2520) and must stay.
#include <gtest/gtest.h>

#include <array>

#include "sim/multicast_experiment.h"
#include "wire/native.h"

namespace grapevine::sim {
namespace {

MulticastExperiment pushpull(std::uint32_t nodes, std::uint32_t runs) {
  MulticastExperiment e;
  e.config.protocol = MulticastProtocolKind::pushpull;
  e.config.fanout = 1;
  e.nodes = nodes;
  e.runs = runs;
  e.threads = 1;
  e.seed = 1;
  return e;
}

TEST(SimLocality, PushPullHashAsBeforePrefetching) {
  // = `grapevine sim multicast --protocol pushpull --fanout 1 --nodes 3000 --runs 3 --json`
  auto s = run_multicast(pushpull(3000, 3), {});
  EXPECT_EQ(s.runs_all_delivered, 3u);
  EXPECT_EQ(s.delivery_hash, 0x24a0334dc793a4f8ULL);
}

TEST(SimLocality, CrashesLossAndAsyncHashAsBefore) {
  // Crashes turn on the sender-slot check mid-setup; loss and async exercise the other paths.
  // = `... --protocol pushpull --fanout 2 --nodes 2000 --runs 2 --loss 0.05 --crashed 0.1 --async`
  MulticastExperiment e = pushpull(2000, 2);
  e.config.fanout = 2;
  e.loss = 0.05;
  e.crashed_fraction = 0.1;
  e.synchronous = false;
  e.config.period_jitter = 0.1;  // the CLI's --async default
  e.config.feedback = true;
  auto s = run_multicast(e, {});
  EXPECT_EQ(s.delivery_hash, 0x52aae9f8627fbd35ULL);
}

TEST(SimLocality, PullRequestDecodedInPlaceAsThroughResult) {
  std::array<std::byte, 256> buf;
  wire::Writer w(buf);
  wire::begin_datagram(w);
  MessageId ids[3] = {{7, 1}, {7, 2}, {0xfffffffffULL, 300}};
  ASSERT_TRUE(wire::write_pull_request(w, std::span(ids, 3)));
  wire::FrameIterator frames(w.written());
  wire::Frame frame;
  ASSERT_TRUE(frames.next(frame));
  auto via_result = wire::decode_pull_request(frame.body);
  ASSERT_TRUE(via_result.has_value());
  wire::PullRequestFrame f;
  ASSERT_TRUE(wire::decode_pull_request_into(frame.body, f));
  ASSERT_EQ(f.count, 3u);
  for (std::uint32_t i = 0; i < 3; ++i) EXPECT_EQ(f.ids[i], ids[i]);
  EXPECT_EQ(via_result->count, f.count);
  // Malformed: every truncation fails both ways alike.
  for (std::size_t n = 0; n < frame.body.size(); ++n) {
    wire::PullRequestFrame g;
    EXPECT_EQ(wire::decode_pull_request_into(frame.body.first(n), g),
              wire::decode_pull_request(frame.body.first(n)).has_value())
        << n;
  }
}

}  // namespace
}  // namespace grapevine::sim
