// SuspicionSet against the plain vector it replaced: the same suspicions found, the same
// earliest deadline, and due ones taken in the same (creation) order.
#include "core/membership/suspicion_set.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "util/rng.h"

namespace grapevine::detail {
namespace {

Suspicion make(NodeId subject, Time now, std::uint32_t k) {
  Suspicion s;
  s.subject = subject;
  s.start = now;
  s.min = Duration::seconds(2);
  s.max = Duration::seconds(12);
  s.k = k;
  s.confirmers.push_back(1000 + subject);
  s.deadline = now + suspicion_timeout(s.min, s.max, k, 0);
  return s;
}

TEST(SuspicionSet, DueInCreationOrderAndConfirmationsShortenTheDeadline) {
  SuspicionSet set;
  const Time t0 = Time::zero();
  set.add(make(7, t0, 3));
  set.add(make(5, t0, 3));
  EXPECT_EQ(set.deadline(), t0 + Duration::seconds(12));
  EXPECT_TRUE(set.confirm(5, 42));
  EXPECT_FALSE(set.confirm(5, 42));  // not independent
  EXPECT_LT(set.deadline(), t0 + Duration::seconds(12));
  set.confirm(7, 43);  // now both due at the same time: 7 started first
  std::vector<Suspicion> due;
  set.take_due(t0 + Duration::seconds(12), due);
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].subject, 7u);
  EXPECT_EQ(due[1].subject, 5u);
  EXPECT_EQ(set.size(), 0u);
  EXPECT_EQ(set.deadline(), Time::max());
}

TEST(SuspicionSet, MatchesAVector) {
  Rng rng(7);
  SuspicionSet set;
  std::vector<Suspicion> ref;
  Time now = Time::zero();
  for (int op = 0; op < 20000; ++op) {
    const NodeId id = 1 + rng.below(300);
    auto it = std::find_if(ref.begin(), ref.end(), [&](const Suspicion& s) { return s.subject == id; });
    switch (rng.below(4)) {
      case 0:
      case 1:
        if (it == ref.end()) {
          ref.push_back(make(id, now, std::uint32_t(rng.below(4))));
          set.add(ref.back());
        } else {
          const NodeId from = rng.below(6);
          ASSERT_NE(set.find(id), nullptr);
          ASSERT_EQ(set.confirm(id, from), it->confirm(from));
        }
        break;
      case 2:
        if (it != ref.end()) ref.erase(it);
        set.erase(id);
        break;
      default: {
        now = now + Duration::milliseconds(std::int64_t(rng.below(400)));
        std::vector<Suspicion> want, got;
        for (auto r = ref.begin(); r != ref.end();) {
          if (r->deadline > now) {
            ++r;
          } else {
            want.push_back(*r);
            r = ref.erase(r);
          }
        }
        set.take_due(now, got);
        ASSERT_EQ(got.size(), want.size());
        for (std::size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i].subject, want[i].subject);
      }
    }
    Time earliest = Time::max();
    for (const Suspicion& s : ref) earliest = std::min(earliest, s.deadline);
    ASSERT_EQ(set.deadline(), earliest) << "op " << op;
    ASSERT_EQ(set.size(), ref.size());
  }
}

}  // namespace
}  // namespace grapevine::detail
