// SWIM failure detection (Das, Gupta, Motivala, DSN 2002) with the Lifeguard refinements
// (Dadgar, Phillips, Currey, DSN-W 2018), as memberlist implements them.
//
// Every probe interval the node probes the next member of a shuffled round-robin order (new
// members inserted at random positions; reshuffled at each wrap), so every member is probed
// within two passes (SWIM's worst-case bound). A probe is a ping; if no ack arrives within
// probe_timeout the node asks k random alive members to ping the target for it (ping-req); if
// no ack, direct or relayed, arrives by the end of the probe interval the target is suspected.
// A suspicion becomes a failure when its timeout passes unrefuted.
//
// Lifeguard adds (each off in plain SWIM):
//  - local health (awareness): a score in [0, awareness_max) raised by failed probes, missed
//    nacks and refutations, lowered by successful probes; the probe interval is multiplied by
//    (score + 1), so a struggling node slows down instead of accusing others;
//  - nacks: ping-req helpers that get no ack answer with a nack, so a prober can tell "the
//    target is down" from "I cannot hear anyone";
//  - dynamic suspicion: the timeout starts at suspicion_max_timeout_mult x min and shrinks to
//    min as independent confirmations arrive (suspicion.h);
//  - buddy system: a ping to a suspected member carries the suspicion, so it can refute at once.
// Deviation: memberlist also tries a TCP ping when UDP fails; we do not (yet).
#pragma once

#include <memory>

#include "core/membership/detector.h"

namespace grapevine::detail {

class MembershipNode;
std::unique_ptr<FailureDetector> make_swim_detector(MembershipNode& node, bool lifeguard);

}  // namespace grapevine::detail
