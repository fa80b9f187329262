// Fuzz target: the agent's snapshot file parser (tools/snapshot.h) and the SRV answer parser
// (tools/seeds.h), both reading bytes the agent did not write itself (a corrupt or truncated
// file; a DNS server's answer).
//
// Input: the first byte picks the parser, the rest is its input. Properties:
//  - neither parser crashes or reads out of bounds;
//  - snapshot: every alive entry has a non-empty name; the counts are consistent
//    (bad_lines <= lines + 1); re-parsing the compacted form of the state gives the same state;
//  - SRV: at most kSeedAddressesMax records.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "tools/seeds.h"
#include "tools/snapshot.h"

using namespace grapevine::tools;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  if (data[0] & 1) {
    auto srv = parse_srv_answer(data + 1, int(size - 1));
    FUZZ_CHECK(srv.size() <= kSeedAddressesMax);
    return 0;
  }
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const SnapshotState s = parse_snapshot(text);
  FUZZ_CHECK(s.bad_lines <= s.lines + 1);
  std::string compact = "grapevine-snapshot 1\n";
  for (const auto& [name, addr] : s.alive) {
    FUZZ_CHECK(!name.empty());
    if (name.find_first_of("\t\n") != std::string::npos) return 0;  // never written like this
    compact += "alive\t" + name + "\t" + addr.to_string() + "\n";
  }
  if (s.event_clock > 0) compact += "event-clock\t" + std::to_string(s.event_clock) + "\n";
  if (s.left) compact += "leave\n";
  const SnapshotState again = parse_snapshot(compact);
  if (compact.size() > 0 && again.bad_lines == 0) {
    FUZZ_CHECK(again.alive == s.alive && again.event_clock == s.event_clock);
  }
  return 0;
}
