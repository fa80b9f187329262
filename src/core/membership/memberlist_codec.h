// The memberlist dialect of the membership messages (see memberlist_codec.cc).
#pragma once

#include <memory>

#include "core/membership/codec.h"
#include "core/membership/member_list.h"
#include "util/rng.h"

namespace grapevine::detail {

/// `list` resolves member names and `rng` (the node's) supplies AES-GCM nonces; both must
/// outlive the codec. The config's keys must be valid (validate() checks them).
std::unique_ptr<Codec> make_memberlist_codec(const MembershipConfig& config, const Address& self,
                                             const MemberList& list, Rng& rng);

}  // namespace grapevine::detail
