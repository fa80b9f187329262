// RecentIds (core/views/recent_ids.h): Plumtree's hashed seen set against a plain FIFO model.
#include "core/views/recent_ids.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>

#include "util/rng.h"

namespace grapevine::views {
namespace {

TEST(RecentIds, MatchesFifoModelUnderEviction) {
  for (std::size_t cap : {1u, 2u, 7u, 63u, 64u, 65u, 300u}) {
    RecentIds set;
    set.reset(cap);
    std::deque<std::uint64_t> model;
    Rng rng(cap);
    for (int step = 0; step < 20000; ++step) {
      // Small id space: many repeats, probe chains that wrap around the table.
      std::uint64_t id = rng.below(4 * cap + 3);
      bool in_model = std::find(model.begin(), model.end(), id) != model.end();
      if (step % 3 == 0) set.prefetch();  // a hint: must change nothing
      ASSERT_EQ(set.contains(id), in_model) << "cap " << cap << " step " << step;
      if (!in_model) {
        set.insert(id);
        model.push_back(id);
        if (model.size() > cap) model.pop_front();
      }
      ASSERT_EQ(set.size(), model.size());
    }
    for (std::uint64_t id : model) EXPECT_TRUE(set.contains(id));
  }
}

TEST(RecentIds, SequentialIdsAndZeroCapacity) {
  RecentIds set;
  set.reset(64);
  for (std::uint64_t id = 1000; id < 1200; ++id) set.insert(id);
  for (std::uint64_t id = 1000; id < 1136; ++id) EXPECT_FALSE(set.contains(id)) << id;
  for (std::uint64_t id = 1136; id < 1200; ++id) EXPECT_TRUE(set.contains(id)) << id;
  RecentIds none;
  none.reset(0);
  none.insert(5);
  EXPECT_FALSE(none.contains(5));
}

// Up to kInlineMax ids live in the object, more on the heap: reset() may switch between the two,
// and a copy of an inline set is independent of the original.
TEST(RecentIds, ResetSwitchesBetweenInlineAndHeapStorage) {
  RecentIds set;
  set.prefetch();  // empty: nothing to fetch
  for (std::size_t cap : {std::size_t{RecentIds::kInlineMax}, std::size_t{1000}, std::size_t{3},
                          std::size_t{RecentIds::kInlineMax + 1}, std::size_t{64}}) {
    set.reset(cap);
    EXPECT_EQ(set.size(), 0u);
    EXPECT_EQ(set.capacity(), cap);
    EXPECT_FALSE(set.contains(0));
    EXPECT_FALSE(set.contains(7));  // nothing left from the previous capacity
    for (std::uint64_t id = 0; id < 2 * cap; ++id) set.insert(id * 7);
    EXPECT_EQ(set.size(), cap);
    for (std::uint64_t id = 0; id < cap; ++id) EXPECT_FALSE(set.contains(id * 7)) << cap;
    for (std::uint64_t id = cap; id < 2 * cap; ++id) EXPECT_TRUE(set.contains(id * 7)) << cap;
  }
  RecentIds copy = set;
  copy.insert(1);
  EXPECT_TRUE(copy.contains(1));
  EXPECT_FALSE(set.contains(1));
}

}  // namespace
}  // namespace grapevine::views
