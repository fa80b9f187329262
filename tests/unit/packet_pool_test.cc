// sim::PacketPool: in-flight packet bytes by handle. The simulator hands get() spans straight to
// machines, so stored bytes must never move while other packets come and go.
#include "sim/packet_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <vector>

namespace grapevine::sim {
namespace {

std::vector<std::byte> pattern(std::size_t n, std::uint8_t seed) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = std::byte(std::uint8_t(i * 31 + seed));
  return v;
}

bool same(std::span<const std::byte> a, const std::vector<std::byte>& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

TEST(PacketPool, StoreGetRelease) {
  PacketPool pool;
  EXPECT_EQ(pool.live(), 0u);
  auto a = pattern(10, 1);
  auto b = pattern(1400, 2);
  std::uint32_t ha = pool.store(a);
  std::uint32_t hb = pool.store(b);
  EXPECT_NE(ha, hb);
  EXPECT_EQ(pool.live(), 2u);
  EXPECT_TRUE(same(pool.get(ha), a));
  EXPECT_TRUE(same(pool.get(hb), b));
  pool.release(ha);
  EXPECT_EQ(pool.live(), 1u);
  EXPECT_TRUE(same(pool.get(hb), b));
  pool.release(hb);
  EXPECT_EQ(pool.live(), 0u);
}

TEST(PacketPool, SizesAcrossClasses) {
  PacketPool pool;
  std::vector<std::vector<std::byte>> packets;
  for (std::size_t n :
       {std::size_t(0), std::size_t(1), std::size_t(63), std::size_t(64), std::size_t(65),
        std::size_t(128), std::size_t(129), std::size_t(1500), std::size_t(65507),
        std::size_t(1) << 20, (std::size_t(1) << 20) + 1, std::size_t(3) << 20}) {
    packets.push_back(pattern(n, std::uint8_t(n)));
  }
  std::vector<std::uint32_t> handles;
  for (const auto& p : packets) handles.push_back(pool.store(p));
  EXPECT_EQ(std::set<std::uint32_t>(handles.begin(), handles.end()).size(), handles.size());
  for (std::size_t i = 0; i < packets.size(); ++i) {
    EXPECT_TRUE(same(pool.get(handles[i]), packets[i])) << packets[i].size();
  }
  for (auto h : handles) pool.release(h);
  EXPECT_EQ(pool.live(), 0u);
}

TEST(PacketPool, ReleasedSlotsAreReused) {
  PacketPool pool;
  auto p = pattern(100, 3);
  std::uint32_t h1 = pool.store(p);
  std::uint32_t h2 = pool.store(p);
  pool.release(h1);
  std::uint32_t h3 = pool.store(pattern(120, 4));  // same size class as h1
  EXPECT_EQ(h3, h1);
  EXPECT_TRUE(same(pool.get(h3), pattern(120, 4)));
  EXPECT_TRUE(same(pool.get(h2), p));  // the neighbour is untouched

  // A steady state of store/release never grows the set of handles in use.
  std::set<std::uint32_t> seen;
  for (int i = 0; i < 10000; ++i) {
    std::uint32_t h = pool.store(p);
    seen.insert(h);
    pool.release(h);
  }
  EXPECT_EQ(seen.size(), 1u);
}

TEST(PacketPool, SpansStayValidWhileOthersAreStored) {
  PacketPool pool;
  auto first = pattern(200, 5);
  std::uint32_t h = pool.store(first);
  std::span<const std::byte> span = pool.get(h);
  const std::byte* where = span.data();
  // Enough packets of the same class to need many more blocks (and grow every vector).
  std::vector<std::uint32_t> others;
  for (int i = 0; i < 50000; ++i) others.push_back(pool.store(pattern(200, std::uint8_t(i))));
  for (int i = 0; i < 50000; i += 2) pool.release(others[std::size_t(i)]);
  for (int i = 0; i < 1000; ++i) pool.store(pattern(250, 9));
  EXPECT_EQ(pool.get(h).data(), where);
  EXPECT_TRUE(same(span, first));  // the old span still reads the right bytes
  for (int i = 1; i < 50000; i += 2) {
    ASSERT_TRUE(same(pool.get(others[std::size_t(i)]), pattern(200, std::uint8_t(i)))) << i;
  }
}

TEST(PacketPool, ManyLivePacketsKeepTheirBytes) {
  PacketPool pool;
  std::vector<std::uint32_t> handles;
  for (std::uint32_t i = 0; i < 20000; ++i) {
    handles.push_back(pool.store(pattern(1 + i % 300, std::uint8_t(i))));
  }
  EXPECT_EQ(pool.live(), 20000u);
  for (std::uint32_t i = 0; i < 20000; ++i) {
    ASSERT_TRUE(same(pool.get(handles[i]), pattern(1 + i % 300, std::uint8_t(i)))) << i;
  }
}

}  // namespace
}  // namespace grapevine::sim
