// MemberList: what one node knows about the group. Compact records (64 bytes, no strings) in a
// dense vector, an id -> slot index, and the live view (alive or suspect members, self first)
// that multicast protocols use as their Group. Names live in one byte arena per list with an
// open-addressing name -> slot index (member_names.cc: ~14 bytes a named member, not the ~250
// of a std::string in two std::maps, which at 10,000 members was 25 GB in the simulator);
// metadata and memberlist versions, which most members do not have, live in a side table.
//
// The list only stores; the merge rules (who may overwrite what) are in membership_node.cc.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/membership/flat_index.h"
#include "core/membership/slot_index.h"
#include "grapevine/group.h"
#include "grapevine/membership.h"
#include "wire/native_membership.h"

namespace grapevine::detail {

struct MemberRecord {
  NodeId id = 0;
  Address address;
  std::uint32_t incarnation = 0;
  MemberState state = MemberState::alive;
  std::uint8_t flags = 0;        // kHasExtra
  std::uint8_t pmax = 0;         // highest protocol version it speaks (memberlist Vsn; 0 = ?)
  std::uint8_t name_len = 0;    // bytes of its name (in MemberList's arena; 0 = none)
  std::uint32_t live_pos = 0;    // position in the live view while alive or suspect
  Time state_since;              // local time of the last state change
};
// 48 bytes: one is held per member per member (N^2 in a simulated group), so every field counts.
static_assert(sizeof(MemberRecord) <= 48);

/// Heartbeat detectors' per-member counter, kept beside the records only when one asks
/// (MemberList::track_beats), so SWIM's lists do not pay 16 bytes a member for it.
struct MemberBeat {
  std::uint64_t counter = 0;  // highest counter seen
  Time at;                    // local time the counter last rose (or the member was added)
};

/// Most members one node tracks; beyond it new members are refused (and counted). The name
/// index holds a slot in 22 bits (MemberList::kNameSlotBits).
inline constexpr std::size_t kMembersMax = 1u << 22;

class MemberList final : public Group {
 public:
  static constexpr std::uint32_t kNone = SlotIndex::kMissing;
  static constexpr std::uint8_t kHasExtra = 1;  // an entry in the metadata side table

  /// Adds self as slot 0, alive.
  MemberList(NodeId self, const Address& self_address, Time now);

  [[nodiscard]] std::uint32_t find(NodeId id) const noexcept {
    return index_.find(id, [this](std::uint32_t s) { return records_[s].id; });
  }
  /// Loads the index entries and then the records of `ids` into the cache, changing nothing:
  /// a lookup in a big list is two dependent cache misses (index, then record), and a batch of
  /// independent loads overlaps them where lookups one at a time inside the merge rules do not.
  /// `ids.size()` <= kWarmIdsMax (more are ignored). member_warm.cc.
  void warm(std::span<const NodeId> ids) const noexcept;
  MemberRecord& at(std::uint32_t slot) noexcept { return records_[slot]; }
  [[nodiscard]] const MemberRecord& at(std::uint32_t slot) const noexcept { return records_[slot]; }
  [[nodiscard]] std::size_t record_count() const noexcept { return records_.size(); }
  [[nodiscard]] std::span<const MemberRecord> records() const noexcept { return records_; }
  [[nodiscard]] MemberRecord& self() noexcept { return records_[0]; }
  [[nodiscard]] const MemberRecord& self() const noexcept { return records_[0]; }

  /// Adds a member (state alive unless given); returns its slot, or kNone when full.
  std::uint32_t add(NodeId id, const Address& address, std::uint32_t incarnation,
                    MemberState state, Time now);
  /// Changes a member's state, keeping the live view and state_since up to date.
  void set_state(std::uint32_t slot, MemberState state, Time now);
  /// Forgets a member (reaping). Slots of other members may change.
  void remove(NodeId id);
  /// Room for `n` records without reallocating (a preloaded list knows its size).
  void reserve(std::size_t n);

  // Heartbeat counters (heartbeat detectors only).
  /// Keeps a MemberBeat per record from now on (each listed one stamped at its state_since).
  void track_beats();
  /// The counter of the member in `slot`; track_beats() must have been called.
  MemberBeat& beat(std::uint32_t slot) noexcept {
    GV_ASSERT(slot < beats_.size());
    return beats_[slot];
  }
  /// The member in `slot` was just heard from (stamps its beat time, when beats are kept).
  void touch_beat(std::uint32_t slot, Time now) noexcept {
    if (!beats_.empty()) beats_[slot].at = now;
  }

  /// Members per state.
  [[nodiscard]] std::size_t count(MemberState s) const noexcept { return counts_[int(s)]; }
  /// Counts adds, removals and state changes to or from failed or left: equal values mean no
  /// member departed, came back, was added or was forgotten in between (suspicions and
  /// refutations of live members are not counted). Lets callers cache what they derive from
  /// the departed members' states.
  [[nodiscard]] std::uint64_t departure_changes() const noexcept { return departure_changes_; }

  // Names and metadata (side table).
  void set_extra(NodeId id, std::string_view name, std::span<const std::byte> meta);
  /// The member's name; valid until the next call that changes a name or removes a member.
  [[nodiscard]] std::string_view name_of(NodeId id) const noexcept;
  /// Every member (self included) holding `name`, in list (slot) order; empty names are not
  /// indexed. Native-dialect ids come from addresses, so one name may have several ids.
  [[nodiscard]] std::vector<NodeId> ids_named(std::string_view name) const;
  /// Do two or more members hold `name`? (ids_named's size > 1, without building it: every
  /// new member asks, and almost always one holds it.)
  [[nodiscard]] bool name_shared(std::string_view name) const noexcept;
  [[nodiscard]] std::span<const std::byte> meta_of(NodeId id) const noexcept;
  /// memberlist's protocol versions of a member (all zero when unknown).
  void set_vsn(NodeId id, const wire::Vsn& vsn);
  [[nodiscard]] wire::Vsn vsn_of(NodeId id) const noexcept;

  // ---- Group: the live view, self at index 0 ----
  [[nodiscard]] std::uint32_t live_size() const noexcept { return std::uint32_t(live_.size()); }
  [[nodiscard]] std::uint32_t live_slot(std::uint32_t i) const noexcept { return live_[i]; }
  [[nodiscard]] std::uint32_t size() const noexcept override { return live_size(); }
  [[nodiscard]] Address address(std::uint32_t i) const noexcept override {
    return records_[live_[i]].address;
  }
  [[nodiscard]] std::optional<std::uint32_t> index_of(const Address& a) const noexcept override;

  // ---- zones: the Group's subnets ----
  /// Members without a zone of their own get their address masked to `bits` (0 = no zone).
  void set_zone_prefix(std::uint8_t bits);
  /// Sets a member's zone; empty = none (then the prefix-derived one, if any).
  void set_zone(NodeId id, std::string_view zone);
  [[nodiscard]] std::string_view zone_of(NodeId id) const noexcept;
  /// The zone the member gave itself (what the native wire carries); empty when none or when
  /// its zone is only derived from its address.
  [[nodiscard]] std::string_view own_zone_of(NodeId id) const noexcept;
  /// The live members grouped by zone (zones numbered in order of first appearance in the
  /// live view, so self's zone is subnet 0); rebuilt lazily after a change.
  [[nodiscard]] std::uint32_t subnet_count() const noexcept override;
  [[nodiscard]] std::uint32_t subnet_of(std::uint32_t i) const noexcept override;
  [[nodiscard]] std::uint32_t subnet_begin(std::uint32_t s) const noexcept override;
  [[nodiscard]] std::uint32_t subnet_end(std::uint32_t s) const noexcept override;
  [[nodiscard]] std::uint32_t position(std::uint32_t i) const noexcept override;
  [[nodiscard]] std::uint32_t at_position(std::uint32_t p) const noexcept override;

 private:
  std::uint16_t intern_zone(std::string_view zone);
  std::uint16_t own_zone(const Address& a);  // the prefix-derived zone, or 0
  void build_zones() const;

  static bool is_live(MemberState s) noexcept {
    return s == MemberState::alive || s == MemberState::suspect;
  }
  void live_insert(std::uint32_t slot);
  void live_erase(std::uint32_t slot);

  // Names (member_names.cc).
  [[nodiscard]] std::string_view name_at(std::uint32_t slot) const noexcept {
    return {name_bytes_.data() + name_at_[slot], records_[slot].name_len};
  }
  void set_name(std::uint32_t slot, std::string_view name);
  void unname(std::uint32_t slot);
  void name_index_insert(std::uint32_t slot);
  void name_index_erase(std::uint32_t slot);
  void name_index_move(std::uint32_t from, std::uint32_t to);
  [[nodiscard]] static std::uint64_t name_hash(std::string_view name) noexcept;
  // A name index entry: the slot in the low kNameSlotBits bits, and above them a tag of the
  // name's hash, so a probe compares names only when the tags agree (most never read the
  // arena). Never equal to kNone (the tag stops one short of all ones).
  static constexpr unsigned kNameSlotBits = 22;
  static constexpr std::uint32_t kNameSlotMask = (1u << kNameSlotBits) - 1;
  static constexpr std::uint32_t name_entry(std::uint32_t slot, std::uint64_t hash) noexcept {
    const auto tag = std::uint32_t((hash >> 40) % ((1u << (32 - kNameSlotBits)) - 1));
    return slot | tag << kNameSlotBits;
  }
  void name_index_grow();
  void compact_names();

  struct Extra {
    std::vector<std::byte> meta;
    wire::Vsn vsn{};
  };
  std::vector<MemberRecord> records_;
  std::vector<MemberBeat> beats_;  // parallel to records_ once track_beats(); else empty
  SlotIndex index_;
  std::vector<std::uint32_t> live_;
  std::size_t counts_[4] = {0, 0, 0, 0};
  std::uint64_t departure_changes_ = 0;
  std::map<NodeId, Extra> extras_;
  // Names: each named record's bytes at name_bytes_[name_at_[slot]], name_len of them; renamed
  // and removed names leave garbage, compacted when it is over half the arena. name_index_ is
  // an open-addressing table of named slots by name hash (name_entry; kNone = empty; load
  // <= 3/4).
  std::vector<char> name_bytes_;
  std::size_t name_garbage_ = 0;
  std::vector<std::uint32_t> name_at_;  // parallel to records_
  std::vector<std::uint32_t> name_index_;
  std::size_t named_ = 0;
  // Zones: interned names (0 = none), per record the effective zone and whether it came from
  // the member itself (wire/config) rather than from zone_prefix_.
  std::vector<std::string> zone_names_{std::string()};
  std::vector<std::uint16_t> zone_;    // parallel to records_
  std::vector<bool> zone_own_;         // parallel to records_
  std::uint8_t zone_prefix_ = 0;
  mutable bool zones_dirty_ = true;
  mutable std::vector<std::uint32_t> live_subnet_;   // live index -> subnet
  mutable std::vector<std::uint32_t> subnet_start_;  // subnet -> first position; one extra end
  mutable std::vector<std::uint32_t> order_;         // position -> live index
  mutable std::vector<std::uint32_t> pos_;           // live index -> position
};

/// Lists shorter than this fit in cache well enough: warm_members skips them.
inline constexpr std::size_t kWarmListMin = 256;
/// Most ids one MemberList::warm call (and one datagram's warm_members) loads.
inline constexpr std::size_t kWarmIdsMax = 64;

/// Warms `list` (MemberList::warm) for the members named by the alive, suspect and dead frames
/// of a native-dialect datagram (`datagram`: version byte and frames; read only during the
/// call; the first kWarmIdsMax such frames), before the merge rules apply them. Changes
/// nothing; malformed input is skipped silently (the real decode counts it).
void warm_members(const MemberList& list, std::span<const std::byte> datagram) noexcept;

}  // namespace grapevine::detail
