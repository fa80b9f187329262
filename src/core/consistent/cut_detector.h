// CutDetector: Rapid's multi-process cut detection (Suresh et al., ATC 2018, §4.2).
//
// Per configuration, tally(s) = the distinct rings on which s's observers (gatekeepers, for a
// joiner) reported s, from REMOVE alerts about members and JOIN alerts about non-members (as in
// the reference code, which counts ring numbers, not observers). A subject with tally >= H is
// *stable*, one with L <= tally < H *unstable*, one below L is noise. A proposal, the sorted set
// of stable subjects, is ready when at least one subject is stable and none is unstable.
//
// Implicit detection [P §4.2, reference code]: once any REMOVE was seen in the configuration,
// an unstable subject s also counts ring k when its ring-k observer o is itself a member with
// tally(o) >= L (o is being removed, so its silence about s should not hold s back).
//
// Stuck subjects (ours; the paper's reinforcement timeout is unspecified, the code has none):
// a subject that stays unstable for `unstable_timeout` after some subject became stable is
// *dropped* from this configuration: it no longer blocks the proposal and is not in it. We drop
// rather than promote, because promotion would remove a member that most observers still
// reach; a member that really is half-reachable is monitored afresh in the next configuration
// and reported again there. The drop is local, so members may disagree on it: then their votes
// differ and the classic round (consensus_*) settles which cut wins.
//
// Pending reports (ours, for round-robin probing, consistent_node.h): a subject with REMOVE
// reports on fewer than L rings blocks the proposal for `pending_window` after its first
// report, since its other observers confirm it within about one probe interval of the first;
// without it, members that heard the first report of a late subject of a burst voted without
// it while others already had it unstable, and the late subjects took a second view change.
// Pending subjects hold a proposal back at most 2 pending_windows after the first subject
// became stable (a trickle of stray reports must not). 0 = off (the paper's rule: below L is
// noise).
//
// Cuts are capped at wire::kCutTotalMax subjects (lowest ids first; more than any
// configuration holds); cuts over wire::kCutMembersMax travel by digest (consensus.h).
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "core/consistent/configuration.h"
#include "grapevine/time.h"

namespace grapevine::detail {

struct CutThresholds {
  std::uint32_t high = 9;  // H
  std::uint32_t low = 3;   // L
  Duration unstable_timeout = Duration::seconds(10);
  Duration pending_window = Duration::zero();  // see "Pending reports" above
};

class CutDetector {
 public:
  explicit CutDetector(CutThresholds t) : t_(t) {}
  /// Forgets everything (a new configuration was installed).
  void reset();
  /// Records an alert already validated against `config` (rings are the sender's real rings).
  /// Returns true if it added a ring to the subject's tally.
  bool add(const Configuration& config, const wire::Alert& alert, Time now);
  /// Applies implicit detection; call after each batch of alerts.
  void apply_implicit(const Configuration& config, Time now);
  /// The proposal if one is ready at `now` (sorted by id, capped), else empty.
  [[nodiscard]] std::vector<Address> proposal(Time now) const;
  /// The first time after `now` when proposal() may change by time alone (an unstable
  /// subject's drop), or Time::max().
  [[nodiscard]] Time next_change(Time now) const noexcept;
  [[nodiscard]] std::uint32_t tally(const Address& subject) const noexcept;
  /// Did a leave (rather than a failure) cause a REMOVE about `subject`?
  [[nodiscard]] bool left(const Address& subject) const noexcept;
  [[nodiscard]] std::size_t subjects() const noexcept { return by_subject_.size(); }

 private:
  struct Entry {
    std::uint16_t rings = 0;
    bool join = false;
    bool left = false;
    Time unstable_since = Time::max();  // when tally first reached L
    Time first = Time::max();           // the first report
  };
  [[nodiscard]] bool stable(const Entry& e) const noexcept;
  [[nodiscard]] bool unstable(const Entry& e) const noexcept;
  [[nodiscard]] bool pending(const Entry& e, Time now) const noexcept;

  CutThresholds t_;
  std::map<Address, Entry> by_subject_;  // ordered: iteration never depends on hashing
  bool saw_remove_ = false;
  Time first_stable_ = Time::max();
};

}  // namespace grapevine::detail
