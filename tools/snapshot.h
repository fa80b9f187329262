// The agent's snapshot file (`--snapshot FILE`), as serf's snapshotter (serf 0.9.4
// serf/snapshot.go): an append-only text log of member changes, the user-event Lamport clock and
// a clean leave, replayed at start so a restarted agent rejoins the members it knew without
// --join and does not handle again the user events it already handled.
//
// Format (ours, one record per line, fields separated by TAB; names may hold spaces):
//   grapevine-snapshot 1           header (first line of a compacted file)
//   alive<TAB>NAME<TAB>IP:PORT     member NAME is alive at that address
//   not-alive<TAB>NAME             member NAME failed or left
//   event-clock<TAB>N              user events up to Lamport time N were handled
//   leave                          this node left cleanly: forget the members (no auto-rejoin)
// Replay applies the lines in order. A malformed or truncated line (a crash mid-write) is
// skipped and counted; the rest is used. Lines longer than kLineBytesMax count as malformed.
//
// Writes (loop thread) go through stdio and are flushed at once (a killed agent loses nothing;
// the kernel has them); fsync runs on leave and on compaction (a power loss may lose the last
// lines, as serf's 500 ms flush). When the appended bytes pass kCompactBytes the file is rewritten
// from the state in memory (to FILE.compact, fsync, rename), so it stays O(members).
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "grapevine/address.h"

namespace grapevine::tools {

struct SnapshotState {
  std::map<std::string, Address> alive;  // name -> address
  std::uint64_t event_clock = 0;         // highest handled user-event Lamport time
  bool left = false;                     // the last word was a clean leave
  std::uint64_t lines = 0, bad_lines = 0;
};

inline constexpr std::size_t kSnapshotLineBytesMax = 1024;
inline constexpr std::size_t kSnapshotCompactBytes = 128 * 1024;  // serf's snapshotSizeLimit

/// Replays snapshot text. Never fails: what does not parse is counted in bad_lines.
SnapshotState parse_snapshot(std::string_view text);

class Snapshotter {
 public:
  /// Opens (creating) `path`, replays it into `restored`. Returns nullptr with `error` set when
  /// the file cannot be read or written.
  static std::unique_ptr<Snapshotter> open(const std::string& path, const std::string& self_name,
                                           SnapshotState& restored, std::string& error);
  ~Snapshotter();
  void alive(const std::string& name, const Address& addr);
  void not_alive(const std::string& name);
  void event_clock(std::uint64_t ltime);
  /// A clean leave: recorded and fsynced.
  void leave();
  [[nodiscard]] std::uint64_t compactions() const { return compactions_; }

 private:
  Snapshotter(std::string path, std::string self, SnapshotState state, std::FILE* f);
  void append(const std::string& line);
  void compact();

  std::string path_, self_;
  SnapshotState state_;
  std::FILE* file_ = nullptr;
  std::size_t appended_ = 0;
  std::uint64_t compactions_ = 0;
};

}  // namespace grapevine::tools
