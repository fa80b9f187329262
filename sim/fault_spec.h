// The fault schedule of a cluster experiment (`grapevine sim cluster --fault SPEC`), parsed here
// so every front end (CLI, Python bindings, tests) reads the same language:
//   crash:K@T          K random live members crash at T
//   restart:K@T        K of the crashed members come back (fresh state, same name and address)
//   leave:K@T          K random live members leave gracefully at T
//   slow:K@T           K random live members turn CPU-starved at T (every event costs them
//                      the experiment's slow_service, queued FIFO)
//   partition:F@T1-T2  a random fraction F of the live members is cut off from the rest at T1,
//                      healed at T2
//   loss:P@T1-T2       every link loses a fraction P of its packets from T1 to T2
//   lossy:K:P@T1-T2    K random live members lose a fraction P of the packets they send and
//                      receive from T1 to T2 (Simulator::set_drop)
// Times are durations from the start: 90s, 1.5m, 500ms, 1h; a plain number is seconds.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "grapevine/time.h"

namespace grapevine::sim {

enum class FaultKind : std::uint8_t { crash, restart, leave, slow, partition, loss, lossy };
const char* fault_kind_name(FaultKind k) noexcept;

struct Fault {
  FaultKind kind = FaultKind::crash;
  std::uint32_t count = 0;  // crash, restart, leave, slow, lossy: members
  double fraction = 0.0;    // partition: share of live members cut off; loss, lossy: probability
  Duration at;
  Duration until;  // partition, loss, lossy: the end; others: == at
  /// Whether the fault has an end (partition, loss, lossy).
  [[nodiscard]] bool ranged() const noexcept {
    return kind == FaultKind::partition || kind == FaultKind::loss || kind == FaultKind::lossy;
  }
};

/// Parses "90s", "1.5m", "500ms", "2h", "1500us", "7" (seconds). False if malformed or negative.
bool parse_sim_duration(std::string_view text, Duration& out) noexcept;

/// Parses one fault spec (grammar above). Returns "" or what is wrong, one line, quoting the spec.
std::string parse_fault(std::string_view spec, Fault& out);

}  // namespace grapevine::sim
