// UserEventLog: serf's ordering and de-duplication of user events (serf 0.9.4 serf.go
// UserEvent/handleUserEvent; service-layer.md A.4), for the native dialect's user events.
//
// Algorithm: a Lamport clock (starts at 1, as serf's, so 0 is never used). A local event takes
// the current time and advances the clock; a received one is witnessed (clock = max(clock,
// ltime + 1)). Recent events live in a ring of kSlots slots indexed by ltime % kSlots, each
// holding the events seen at that Lamport time; an event is new unless its slot, at the same
// ltime, already holds it. Events older than clock - kSlots (once the clock passed kSlots) are
// dropped as too old, as serf does.
//
// Deviations from serf: a slot keeps 64-bit hashes of (name, payload) instead of the events
// themselves (RecentEvents below keeps what a joiner may replay), and at most kEventsPerSlotMax of them
// (serf has no bound): beyond it an event is refused as `full` rather than growing memory. The
// ring is allocated on the first event, so a node that never sees one pays nothing.
#pragma once

#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace grapevine::detail {

class UserEventLog {
 public:
  static constexpr std::size_t kSlots = 512;            // serf's EventBuffer size
  static constexpr std::size_t kEventsPerSlotMax = 64;  // distinct events at one Lamport time

  enum class Verdict : std::uint8_t { fresh, duplicate, too_old, full };

  /// The Lamport time of a new local event; advances the clock.
  std::uint64_t stamp() noexcept { return clock_++; }
  /// Witnesses `ltime` and records the event if it is new.
  Verdict record(std::uint64_t ltime, std::string_view name, std::span<const std::byte> payload);
  [[nodiscard]] std::uint64_t clock() const noexcept { return clock_; }
  /// Lamport witness without recording (serf's push-pull merge, and a clock restored from a
  /// snapshot): clock = max(clock, ltime + 1); never back.
  void witness(std::uint64_t ltime) noexcept {
    if (ltime >= clock_ && ltime != UINT64_MAX) clock_ = ltime + 1;
  }

 private:
  struct Slot {
    std::uint64_t ltime = 0;
    std::vector<std::uint64_t> hashes;
  };
  std::uint64_t clock_ = 1;
  std::vector<Slot> slots_;
};

/// The recent user events themselves, newest last, for joiners that ask for them (serf's
/// push-pull Events, `join -replay`) and for every other push-pull, whose receiver delivers
/// those it missed (anti-entropy; digest() tells members that differ). Bounded by count (serf's EventBuffer: 512) and bytes;
/// the oldest go first. Empty, and free, until the first event.
class RecentEvents {
 public:
  static constexpr std::size_t kEventsMax = 512;         // events kept
  static constexpr std::size_t kBytesMax = 64 * 1024;    // names + payloads kept
  /// Lamport times below clock - kDigestWindow are left out of digest() (where buffers may
  /// differ by which events the bounds evicted first).
  static constexpr std::uint64_t kDigestWindow = 128;
  struct Entry {
    std::uint64_t ltime = 0;
    bool coalesce = false;
    std::string name;
    std::vector<std::byte> payload;
    std::uint64_t hash = 0;  // of (ltime, name, payload), for digest()
  };
  void add(std::uint64_t ltime, std::string_view name, std::span<const std::byte> payload,
           bool coalesce);
  [[nodiscard]] const std::deque<Entry>& entries() const noexcept { return entries_; }
  /// A summary of the events with Lamport time at least clock - kDigestWindow and of `clock`:
  /// equal on two members that hold the same recent events (0 before any event).
  [[nodiscard]] std::uint64_t digest(std::uint64_t clock) const noexcept;

 private:
  std::deque<Entry> entries_;
  std::size_t bytes_ = 0;
};

}  // namespace grapevine::detail
