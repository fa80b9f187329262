// Heartbeat failure detectors.
//
// Gossip-style (van Renesse, Minsky, Hayden, Middleware 1998): every heartbeat_interval a node
// raises its own counter and sends its whole list of (member, counter) rows to
// heartbeat_fanout random members (in budget-sized datagrams). A receiver keeps the larger
// counter per member and stamps its own clock when a counter rises. A member whose counter has
// not risen for T_fail is marked failed *locally* (no accusation is gossiped); its row is kept
// until T_cleanup = cleanup_factor x T_fail and ignored meanwhile, so the stale counters other
// members still gossip cannot bring it back ("resurrection"); after cleanup it is forgotten, and
// a row arriving later adds it again. Failed rows are not gossiped.
//
// All-to-all: every heartbeat_interval a node sends its counter to every other member; a member
// silent for T_fail is marked failed locally, and revived if it is heard from again.
//
// Phi (Detector::phi): gossip-style heartbeating whose verdict is a phi-accrual detector's
// (phi_accrual.h) over each member's counter-rise inter-arrival times, not a fixed T_fail.
//
// Joins and leaves still travel through the membership node's dissemination (piggybacked
// updates and push-pull), so "left" is told apart from "failed" as with SWIM.
#pragma once

#include <memory>

#include "core/membership/detector.h"

namespace grapevine::detail {

class MembershipNode;
std::unique_ptr<FailureDetector> make_gossip_heartbeat_detector(MembershipNode& node);
std::unique_ptr<FailureDetector> make_all_to_all_detector(MembershipNode& node);
std::unique_ptr<FailureDetector> make_phi_detector(MembershipNode& node);

}  // namespace grapevine::detail
