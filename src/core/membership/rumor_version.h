// What a queued membership update says, for rumor mongering's counter (BroadcastQueue::heard,
// MembershipConfig::rumor_stop_after): its kind and the incarnation it carries. Shared by the
// sending side (membership_node.cc) and the merge rules (member_merge.cc).
#pragma once

#include <cstdint>

namespace grapevine::detail {

enum class Rumor : std::uint64_t { alive = 1, suspect = 2, failed = 3, left = 4 };

/// Never 0 (0 = no version: the queue's memberlist behaviour).
inline std::uint64_t rumor_version(Rumor kind, std::uint32_t incarnation) noexcept {
  return std::uint64_t(incarnation) << 3 | std::uint64_t(kind);
}

}  // namespace grapevine::detail
