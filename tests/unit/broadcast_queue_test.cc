// BroadcastQueue: memberlist's TransmitLimitedQueue order (least-sent, then largest that fits,
// then newest), replacement by subject, the transmit limit and the kQueuedMax bound; and a
// randomized comparison against a plain sorted reference (the former std::map layout).
#include "core/membership/broadcast_queue.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "util/rng.h"

namespace grapevine::detail {
namespace {

std::vector<std::byte> frame(std::size_t size, std::uint8_t tag) {
  return std::vector<std::byte>(size, std::byte{tag});
}

std::vector<std::uint8_t> fill_tags(BroadcastQueue& q, std::size_t room, std::size_t per,
                                    std::uint32_t limit) {
  std::vector<std::uint8_t> out;
  q.fill(room, per, limit, [&](std::span<const std::byte> m) { out.push_back(std::uint8_t(m[0])); });
  return out;
}

// The reference: every entry in a vector, sorted by the queue's key before each walk.
class Reference {
 public:
  void push(NodeId subject, std::vector<std::byte> f, std::uint64_t version = 0) {
    erase(subject);
    items_.push_back(Item{subject, 0, seq_++, std::move(f), version, 0});
    while (items_.size() > kQueuedMax) {
      sort();
      items_.pop_back();
    }
  }
  std::vector<std::vector<std::byte>> fill(std::size_t room, std::size_t per, std::uint32_t limit) {
    sort();
    std::vector<std::vector<std::byte>> out;
    std::vector<NodeId> sent;
    for (Item& it : items_) {
      if (room < 5 + per) break;
      if (it.frame.size() + per > room) continue;
      room -= it.frame.size() + per;
      out.push_back(it.frame);
      sent.push_back(it.subject);
    }
    for (NodeId s : sent) {
      auto it = find(s);
      if (it->transmits + 1 >= limit) {
        items_.erase(it);
      } else {
        ++it->transmits;
      }
    }
    return out;
  }
  bool heard(NodeId subject, std::uint64_t version, std::uint32_t stop_after) {
    auto it = find(subject);
    if (version == 0 || stop_after == 0 || it == items_.end() || it->version != version) {
      return false;
    }
    if (++it->heard < stop_after) return false;
    items_.erase(it);
    return true;
  }
  [[nodiscard]] std::size_t size() const { return items_.size(); }
  [[nodiscard]] bool has(NodeId s) const {
    return std::any_of(items_.begin(), items_.end(), [&](const Item& i) { return i.subject == s; });
  }

 private:
  struct Item {
    NodeId subject;
    std::uint32_t transmits;
    std::uint64_t seq;
    std::vector<std::byte> frame;
    std::uint64_t version;
    std::uint32_t heard;
  };
  std::vector<Item>::iterator find(NodeId s) {
    return std::find_if(items_.begin(), items_.end(), [&](const Item& i) { return i.subject == s; });
  }
  void erase(NodeId s) {
    if (auto it = find(s); it != items_.end()) items_.erase(it);
  }
  void sort() {
    std::sort(items_.begin(), items_.end(), [](const Item& a, const Item& b) {
      if (a.transmits != b.transmits) return a.transmits < b.transmits;
      if (a.frame.size() != b.frame.size()) return a.frame.size() > b.frame.size();
      return a.seq > b.seq;
    });
  }
  std::vector<Item> items_;
  std::uint64_t seq_ = 0;
};

TEST(BroadcastQueue, LeastSentFirstThenLargestThenNewest) {
  BroadcastQueue q;
  q.push(1, frame(10, 1));
  q.push(2, frame(20, 2));
  q.push(3, frame(10, 3));
  EXPECT_EQ(fill_tags(q, 1000, 0, 10), (std::vector<std::uint8_t>{2, 3, 1}));
  q.push(4, frame(8, 4));  // unsent: ahead of everything sent once
  EXPECT_EQ(fill_tags(q, 1000, 0, 10), (std::vector<std::uint8_t>{4, 2, 3, 1}));
}

TEST(BroadcastQueue, TakesTheLargestThatStillFits) {
  BroadcastQueue q;
  q.push(1, frame(30, 1));
  q.push(2, frame(12, 2));
  q.push(3, frame(6, 3));
  // 30 + 2 does not fit in 25; 12 + 2 does, leaving 11; 6 + 2 fits.
  EXPECT_EQ(fill_tags(q, 25, 2, 10), (std::vector<std::uint8_t>{2, 3}));
  // The 30-byte one is still unsent, so it goes first now.
  EXPECT_EQ(fill_tags(q, 100, 2, 10), (std::vector<std::uint8_t>{1, 2, 3}));
}

TEST(BroadcastQueue, ReplacesBySubjectAndDropsAtTheLimit) {
  BroadcastQueue q;
  q.push(7, frame(10, 1));
  q.push(7, frame(10, 2));
  q.push(0, frame(9, 3));  // subject 0 is a valid key too
  EXPECT_EQ(q.size(), 2u);
  EXPECT_TRUE(q.has(0));
  EXPECT_EQ(fill_tags(q, 100, 0, 2), (std::vector<std::uint8_t>{2, 3}));
  EXPECT_EQ(fill_tags(q, 100, 0, 2), (std::vector<std::uint8_t>{2, 3}));
  EXPECT_TRUE(q.empty());
  EXPECT_FALSE(q.has(7));
  EXPECT_FALSE(q.has(0));
}

TEST(BroadcastQueue, BoundedByDroppingTheMostSent) {
  BroadcastQueue q;
  q.push(1, frame(10, 1));
  fill_tags(q, 100, 0, 100);  // subject 1 sent once
  for (NodeId s = 2; s < 2 + kQueuedMax; ++s) q.push(s, frame(10, 2));
  EXPECT_EQ(q.size(), kQueuedMax);
  EXPECT_FALSE(q.has(1));
  EXPECT_TRUE(q.has(2));
}

TEST(BroadcastQueue, MatchesASortedReference) {
  Rng rng(42);
  for (int round = 0; round < 4; ++round) {
    BroadcastQueue q;
    Reference ref;
    const std::uint64_t subjects = round % 2 == 0 ? 40 : 3000;  // replacement-heavy, bound-heavy
    std::size_t largest = 0;
    for (int op = 0; op < (subjects > kQueuedMax ? 4000 : 2000); ++op) {
      if (rng.below(subjects == 40 ? 3 : 12) != 0) {
        const NodeId s = rng.below(subjects);
        const std::size_t size = 5 + rng.below(round < 2 ? 4 : 60);
        auto f = frame(size, std::uint8_t(op));
        f[1] = std::byte(op >> 8);
        q.push(s, f);
        ref.push(s, f);
      } else {
        const std::size_t room = rng.below(400);
        const std::size_t per = rng.below(4);
        const auto limit = std::uint32_t(1 + rng.below(8));
        std::vector<std::vector<std::byte>> got;
        q.fill(room, per, limit, [&](std::span<const std::byte> m) {
          got.emplace_back(m.begin(), m.end());
        });
        ASSERT_EQ(got, ref.fill(room, per, limit)) << "round " << round << " op " << op;
      }
      ASSERT_EQ(q.size(), ref.size());
      largest = std::max(largest, q.size());
      const NodeId probe = rng.below(subjects);
      ASSERT_EQ(q.has(probe), ref.has(probe));
    }
    if (subjects > kQueuedMax) {
      EXPECT_EQ(largest, kQueuedMax);  // the bound was exercised
    }
  }
}

TEST(BroadcastQueue, HeardKTimesDropsTheUpdate) {
  BroadcastQueue q;
  q.push(1, frame(10, 1), 41);
  q.push(2, frame(10, 2), 42);
  q.push(3, frame(10, 3));  // no version: never dropped by heard()
  EXPECT_FALSE(q.heard(1, 41, 3));
  EXPECT_FALSE(q.heard(1, 40, 3));  // another version (older news): not counted
  EXPECT_FALSE(q.heard(1, 41, 3));
  EXPECT_TRUE(q.has(1));
  EXPECT_TRUE(q.heard(1, 41, 3));  // the third time: dropped
  EXPECT_FALSE(q.has(1));
  EXPECT_FALSE(q.heard(1, 41, 3));  // nothing queued any more
  EXPECT_FALSE(q.heard(3, 0, 1));
  EXPECT_FALSE(q.heard(2, 42, 0));  // k = 0: off
  EXPECT_EQ(q.size(), 2u);
  // A new push about a subject starts its count again, and the rest keeps its order.
  EXPECT_FALSE(q.heard(2, 42, 2));
  q.push(2, frame(12, 4), 43);
  EXPECT_FALSE(q.heard(2, 43, 2));
  EXPECT_EQ(fill_tags(q, 1000, 0, 10), (std::vector<std::uint8_t>{4, 3}));
  EXPECT_TRUE(q.heard(2, 43, 2));  // sent once, heard twice: dropped before its limit
  EXPECT_EQ(fill_tags(q, 1000, 0, 10), (std::vector<std::uint8_t>{3}));
}

TEST(BroadcastQueue, HeardMatchesASortedReference) {
  Rng rng(7);
  for (int round = 0; round < 4; ++round) {
    BroadcastQueue q;
    Reference ref;
    const std::uint64_t subjects = round % 2 == 0 ? 40 : 3000;
    for (int op = 0; op < 3000; ++op) {
      const std::uint64_t what = rng.below(10);
      if (what < 6) {
        const NodeId s = rng.below(subjects);
        auto f = frame(5 + rng.below(30), std::uint8_t(op));
        f[1] = std::byte(op >> 8);
        const std::uint64_t version = rng.below(3);  // 0: none
        q.push(s, f, version);
        ref.push(s, f, version);
      } else if (what < 8) {
        const NodeId s = rng.below(subjects);
        const std::uint64_t version = rng.below(3);
        const auto k = std::uint32_t(rng.below(4));
        ASSERT_EQ(q.heard(s, version, k), ref.heard(s, version, k)) << round << " " << op;
      } else {
        const std::size_t room = rng.below(400);
        const auto limit = std::uint32_t(1 + rng.below(8));
        std::vector<std::vector<std::byte>> got;
        q.fill(room, 1, limit, [&](std::span<const std::byte> m) {
          got.emplace_back(m.begin(), m.end());
        });
        ASSERT_EQ(got, ref.fill(room, 1, limit)) << "round " << round << " op " << op;
      }
      ASSERT_EQ(q.size(), ref.size());
    }
  }
}

}  // namespace
}  // namespace grapevine::detail
