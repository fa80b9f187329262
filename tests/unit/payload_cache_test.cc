// PayloadCache: entries survive their hold under a burst (the ring grows), the ring shrinks back
// to its floor as entries expire, the oldest goes at the cap, order and payloads survive growth
// in the middle of the ring and a wider payload.
#include "core/views/payload_cache.h"

#include <gtest/gtest.h>

#include <vector>

namespace grapevine::views {
namespace {

Time at_ms(std::int64_t ms) {
  return Time::zero() + Duration::milliseconds(ms);
}

std::vector<std::byte> bytes_of(std::uint64_t id, std::size_t n = 8) {
  std::vector<std::byte> b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = std::byte((id + i) & 0xff);
  return b;
}

void expect_payload(const PayloadCache& c, std::uint64_t id, std::size_t n = 8) {
  std::size_t k = c.find(id);
  ASSERT_NE(k, PayloadCache::npos) << "id " << id;
  auto want = bytes_of(id, n);
  auto got = c.payload(k);
  ASSERT_EQ(got.size(), want.size()) << "id " << id;
  EXPECT_TRUE(std::equal(got.begin(), got.end(), want.begin())) << "id " << id;
}

// next_slot() (HyParView's prefetch hint) names the entry and payload bytes the next put()
// overwrites once the ring is at its floor with the oldest expired; null while empty.
TEST(PayloadCache, NextSlotIsWhereTheNextPutWrites) {
  PayloadCache c;
  EXPECT_EQ(c.next_slot()[0], nullptr);
  c.reset(4, 16, Duration::seconds(1));
  EXPECT_EQ(c.next_slot()[1], nullptr);
  for (std::uint64_t id = 1; id <= 10; ++id) {
    auto hint = c.next_slot();
    std::size_t before = c.size();
    std::size_t k = c.put(at_ms(std::int64_t(id) * 400), id, 7, 1, bytes_of(id));
    if (before == 4 && c.size() == 4) {  // overwrote the oldest in place
      EXPECT_EQ(hint[0], &c.entry(k)) << id;
      EXPECT_EQ(hint[1], c.payload(k).data()) << id;
    }
  }
  EXPECT_EQ(c.size(), 4u);
  for (std::uint64_t id = 7; id <= 10; ++id) expect_payload(c, id);
}

// The mechanism behind 98/100 at 10^5 nodes: a message received late is followed by a burst of
// newer ones; a plain ring of 4 would have evicted it before its GRAFTs came.
TEST(PayloadCache, KeepsAnEntryThroughItsHoldUnderABurstThenShrinksToTheFloor) {
  PayloadCache c;
  c.reset(4, 64, Duration::seconds(3));
  c.put(at_ms(0), 1, kNoPeer, 0, bytes_of(1));
  for (std::uint64_t id = 2; id <= 20; ++id)
    c.put(at_ms(std::int64_t(id) * 50), id, 7, 3, bytes_of(id));
  EXPECT_EQ(c.size(), 20u);
  for (std::uint64_t id = 1; id <= 20; ++id) expect_payload(c, id);
  EXPECT_EQ(c.entry(c.newest(0)).id, 20u);
  EXPECT_EQ(c.entry(c.newest(19)).id, 1u);
  // Everything expired: the next put drops back to the floor, keeping the newest.
  c.put(at_ms(10'000), 21, kNoPeer, 0, bytes_of(21));
  EXPECT_EQ(c.size(), 4u);
  for (std::uint64_t id : {18u, 19u, 20u, 21u}) expect_payload(c, id);
  EXPECT_EQ(c.find(17), PayloadCache::npos);
  EXPECT_EQ(c.entry(c.newest(0)).id, 21u);
  EXPECT_EQ(c.entry(c.newest(3)).id, 18u);
}

TEST(PayloadCache, AtTheCapTheOldestGoesWhateverItsAge) {
  PayloadCache c;
  c.reset(2, 4, Duration::seconds(100));
  for (std::uint64_t id = 1; id <= 6; ++id)
    c.put(at_ms(std::int64_t(id)), id, kNoPeer, 0, bytes_of(id));
  EXPECT_EQ(c.size(), 4u);
  EXPECT_EQ(c.find(1), PayloadCache::npos);
  EXPECT_EQ(c.find(2), PayloadCache::npos);
  for (std::uint64_t id = 3; id <= 6; ++id) expect_payload(c, id);
}

TEST(PayloadCache, GrowsInTheMiddleOfTheRingAndKeepsOrderAndPayloads) {
  PayloadCache c;
  c.reset(3, 8, Duration::seconds(1));
  c.put(at_ms(0), 1, kNoPeer, 0, bytes_of(1));
  c.put(at_ms(0), 2, kNoPeer, 0, bytes_of(2));
  c.put(at_ms(1500), 3, kNoPeer, 0, bytes_of(3));      // held until 2500
  c.put(at_ms(1500), 4, kNoPeer, 0, bytes_of(4));      // overwrites 1 (expired)
  c.put(at_ms(1500), 5, kNoPeer, 0, bytes_of(5));      // overwrites 2
  c.put(at_ms(1500), 6, kNoPeer, 0, bytes_of(6));      // 3 is held: a new slot before it
  c.put(at_ms(1600), 7, kNoPeer, 0, bytes_of(7, 40));  // wider payload: every slot widened
  EXPECT_EQ(c.size(), 5u);
  const std::uint64_t order[] = {7, 6, 5, 4, 3};
  for (std::size_t k = 0; k < 5; ++k) EXPECT_EQ(c.entry(c.newest(k)).id, order[k]) << k;
  for (std::uint64_t id = 3; id <= 6; ++id) expect_payload(c, id);
  expect_payload(c, 7, 40);
  // Re-announced entries are held again: 3 survives past its first hold.
  c.touch(c.find(3), at_ms(2400));
  c.put(at_ms(3000), 8, kNoPeer, 0, bytes_of(8));
  expect_payload(c, 3);
}

TEST(PayloadCache, FloorZeroCachesNothing) {
  PayloadCache c;
  c.reset(0, 16, Duration::seconds(1));
  EXPECT_EQ(c.put(at_ms(0), 1, kNoPeer, 0, bytes_of(1)), PayloadCache::npos);
  EXPECT_EQ(c.size(), 0u);
  EXPECT_EQ(c.find(1), PayloadCache::npos);
}

}  // namespace
}  // namespace grapevine::views
