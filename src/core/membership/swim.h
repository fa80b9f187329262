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
//
// TCP fallback (memberlist, protocol >= 3; tcp_fallback_ping, on by default): when the direct
// ping times out, the target is also pinged over a stream (Effects::send_stream), in parallel
// with the indirect probes. The answer arrives asynchronously through on_stream_ack; if it has
// arrived when the probe ends without a datagram ack, the probe counts as a success (no
// suspicion, local health improves), as memberlist's probeNode does. Streams are reliable, so
// heavy datagram loss no longer gets live members suspected.
// Deviations: memberlist dials the stream with the probe's deadline; we leave stream timeouts
// to the driver (the runtime's stream_timeout) and simply ignore an answer that comes after
// the probe ended.
#pragma once

#include <memory>

#include "core/membership/detector.h"

namespace grapevine::detail {

class MembershipNode;
std::unique_ptr<FailureDetector> make_swim_detector(MembershipNode& node, bool lifeguard);

}  // namespace grapevine::detail
