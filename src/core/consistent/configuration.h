// Configuration: one immutable membership set of consistent membership (Rapid, Suresh et al.,
// USENIX ATC 2018, §3-§4.1) and the K-ring monitoring topology derived from it.
//
// Members are kept sorted by node id (node_id_of(address)); index i everywhere (vote bitmaps,
// ring positions) means the i-th member in that order.
//
// Rings [P §4.1]: ring k orders the members by ring_key(id, k) = mix64(id ^ (k+1) * 0x9E37..),
// ties by id. The *observer* of s on ring k is s's successor on ring k (wrapping), its *subject*
// there its predecessor; so every member has K observers and K subjects (duplicates kept, as in
// the reference implementation). A non-member j's *gatekeeper* on ring k is the member that
// would follow j if j were inserted into ring k: the member that will observe j once admitted.
// (The reference Java code uses the nodes j will observe instead; only agreement matters.)
//
// Configuration id (ours; the reference folds xxHash64 of every id ever admitted, so a rejoin
// there needs a fresh UUID): id(next) = fold(prev_id, sorted member ids) with
//   h = mix64(prev_id ^ 0x52617069644346ULL); for m in ids ascending: h = mix64(h + m);
// (64-bit wrap; mix64 = murmur3's fmix64). The first configuration of a chain (a node alone, or
// a preloaded roster) has prev_id = 0 and epoch 0; each view change adds 1 to the epoch. Since
// each change needs a quorum of the previous configuration, (epoch, id) orders configurations
// of one chain, and a member rejoining with its old address gets a new id (new member set).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "grapevine/address.h"
#include "grapevine/membership.h"
#include "wire/native_consistent.h"

namespace grapevine::detail {

class Configuration {
 public:
  /// The first configuration of a chain: `members` (any order, duplicates removed), epoch 0.
  Configuration(std::span<const Address> members, std::uint32_t rings);
  /// A configuration received whole (config_state): trusts epoch and id as given.
  Configuration(wire::ConfigRef ref, std::span<const Address> members, std::uint32_t rings);

  /// The next configuration: members toggled by `cut` (members leave, non-members join).
  [[nodiscard]] Configuration next(std::span<const Address> cut) const;

  [[nodiscard]] wire::ConfigRef ref() const noexcept { return ref_; }
  [[nodiscard]] std::uint32_t size() const noexcept { return std::uint32_t(members_.size()); }
  [[nodiscard]] std::uint32_t rings() const noexcept { return rings_; }
  [[nodiscard]] const Address& member(std::uint32_t i) const noexcept { return members_[i]; }
  [[nodiscard]] std::span<const Address> members() const noexcept { return members_; }
  [[nodiscard]] std::optional<std::uint32_t> index_of(const Address& a) const noexcept;
  [[nodiscard]] bool contains(const Address& a) const noexcept { return index_of(a).has_value(); }

  /// Member index of the observer of member `subject` on ring k.
  [[nodiscard]] std::uint32_t observer_of(std::uint32_t subject, std::uint32_t k) const noexcept;
  /// Member index of the subject of member `observer` on ring k.
  [[nodiscard]] std::uint32_t subject_of(std::uint32_t observer, std::uint32_t k) const noexcept;
  /// Member index of the gatekeeper of non-member `joiner` on ring k.
  [[nodiscard]] std::uint32_t gatekeeper_of(const Address& joiner, std::uint32_t k) const noexcept;
  /// Rings on which `observer` observes `subject` (a member) or gatekeeps it (a non-member).
  [[nodiscard]] std::uint16_t rings_observed(const Address& observer,
                                             const Address& subject) const noexcept;

  /// Fast-round quorum: N - floor((N-1)/4) identical votes (> 3N/4 for N >= 2, 1 for N = 1).
  [[nodiscard]] std::uint32_t fast_quorum() const noexcept { return size() - (size() - 1) / 4; }
  /// The F of Fast Paxos: members that may miss a fast quorum.
  [[nodiscard]] std::uint32_t fast_slack() const noexcept { return (size() - 1) / 4; }
  /// Classic quorum: a strict majority.
  [[nodiscard]] std::uint32_t classic_quorum() const noexcept { return size() / 2 + 1; }

 private:
  void build_rings();
  static std::uint64_t ring_key(NodeId id, std::uint32_t k) noexcept;

  wire::ConfigRef ref_;
  std::uint32_t rings_;
  std::vector<Address> members_;               // sorted by node id
  std::vector<NodeId> ids_;                    // ids_[i] = node_id_of(members_[i])
  std::vector<std::uint32_t> order_;           // order_[k*N + p] = member at ring-k position p
  std::vector<std::uint32_t> pos_;             // pos_[k*N + i] = ring-k position of member i
};

/// id(next) as specified above.
std::uint64_t configuration_id(std::uint64_t prev_id, std::span<const NodeId> sorted_ids) noexcept;
/// Sorts addresses by node id (ties by address) and removes duplicates: a cut's canonical form.
void canonical_cut(std::vector<Address>& cut);
/// Digest of a cut proposed in configuration `config` (votes for equal cuts share it).
std::uint64_t cut_digest(wire::ConfigRef config, std::span<const Address> cut) noexcept;

}  // namespace grapevine::detail
