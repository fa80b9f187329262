// Membership configuration: memberlist-equivalent profiles, validation, names, the factory.
#include <cstring>

#include "core/consistent/consistent_node.h"
#include "core/membership/membership_node.h"
#include "crypto/aead.h"
#include "grapevine/membership.h"
#include "wire/native.h"
#include "wire/native_membership.h"

namespace grapevine {

const char* member_state_name(MemberState s) noexcept {
  switch (s) {
    case MemberState::alive: return "alive";
    case MemberState::suspect: return "suspect";
    case MemberState::failed: return "failed";
    case MemberState::left: return "left";
  }
  return "unknown";
}

namespace {
constexpr const char* kDetectorNames[] = {"swim", "lifeguard", "gossip-heartbeat", "all-to-all",
                                          "phi"};
constexpr int kDetectorCount = int(sizeof kDetectorNames / sizeof kDetectorNames[0]);
}

const char* detector_name(Detector d) noexcept { return kDetectorNames[int(d)]; }

bool parse_detector(std::string_view text, Detector& out) noexcept {
  for (int i = 0; i < kDetectorCount; ++i) {
    if (text == kDetectorNames[i]) {
      out = Detector(i);
      return true;
    }
  }
  return false;
}

void use_serf_dialect(MembershipConfig& config) noexcept {
  config.dialect = Dialect::memberlist;
  config.memberlist.serf = true;
  auto& m = config.memberlist;
  if (m.delegate_min == 0 && m.delegate_max == 0 && m.delegate_cur == 0) {
    m.delegate_min = 2, m.delegate_max = 5, m.delegate_cur = 5;  // serf's agent (protocol 5)
  }
}

const char* dialect_name(Dialect d) noexcept {
  return d == Dialect::memberlist ? "memberlist" : "native";
}

bool parse_dialect(std::string_view text, Dialect& out) noexcept {
  if (text == "native") out = Dialect::native;
  else if (text == "memberlist") out = Dialect::memberlist;
  else return false;
  return true;
}

const char* membership_mode_name(MembershipMode m) noexcept {
  return m == MembershipMode::consistent ? "consistent" : "eventual";
}

bool parse_membership_mode(std::string_view text, MembershipMode& out) noexcept {
  if (text == "eventual") out = MembershipMode::eventual;
  else if (text == "consistent") out = MembershipMode::consistent;
  else return false;
  return true;
}

namespace {
Result<void> validate_consistent(const MembershipConfig& c) noexcept {
  auto bad = [](const char* what) { return make_error(Errc::invalid_argument, what); };
  const ConsistentOptions& o = c.consistent;
  if (c.dialect != Dialect::native) return bad("consistent membership speaks the native dialect");
  if (o.rings < 3 || o.rings > wire::kRingsMax) return bad("consistent.rings must be in [3, 16]");
  if (o.low < 1 || o.low > o.high || o.high > o.rings) return bad("need 1 <= L <= H <= K");
  if (o.probe_interval <= Duration::zero()) return bad("consistent.probe_interval must be > 0");
  if (o.probe_timeout <= Duration::zero() || o.probe_timeout >= o.probe_interval) {
    return bad("consistent.probe_timeout must be in (0, probe_interval)");
  }
  if (o.probe_misses < 1) return bad("consistent.probe_misses must be >= 1");
  if (o.gossip_interval <= Duration::zero()) return bad("consistent.gossip_interval must be > 0");
  if (o.gossip_nodes < 1 || o.gossip_nodes > 16) return bad("consistent.gossip_nodes in [1,16]");
  if (o.retransmit_mult < 1) return bad("consistent.retransmit_mult must be >= 1");
  if (o.propose_delay < Duration::zero()) return bad("consistent.propose_delay must be >= 0");
  if (o.unstable_timeout <= Duration::zero() || o.classic_timeout <= Duration::zero() ||
      o.stall_timeout <= Duration::zero()) {
    return bad("consistent timeouts must be > 0");
  }
  return {};
}
}  // namespace

MembershipConfig MembershipConfig::lan() { return MembershipConfig{}; }

MembershipConfig MembershipConfig::wan() {
  // memberlist DefaultWANConfig.
  MembershipConfig c;
  c.probe_interval = Duration::seconds(5);
  c.probe_timeout = Duration::seconds(3);
  c.suspicion_mult = 6;
  c.gossip_nodes = 4;
  c.gossip_interval = Duration::milliseconds(500);
  c.gossip_to_the_dead = Duration::seconds(60);
  c.push_pull_interval = Duration::seconds(60);
  return c;
}

MembershipConfig MembershipConfig::local() {
  // memberlist DefaultLocalConfig.
  MembershipConfig c;
  c.probe_interval = Duration::seconds(1);
  c.probe_timeout = Duration::milliseconds(200);
  c.indirect_checks = 1;
  c.suspicion_mult = 3;
  c.retransmit_mult = 2;
  c.gossip_interval = Duration::milliseconds(100);
  c.gossip_to_the_dead = Duration::seconds(15);
  c.push_pull_interval = Duration::seconds(15);
  return c;
}

Result<void> validate(const MembershipConfig& c) noexcept {
  auto bad = [](const char* what) { return make_error(Errc::invalid_argument, what); };
  if (c.mode == MembershipMode::consistent) {
    if (auto ok = validate_consistent(c); !ok) return ok;
  }
  if (c.probe_interval <= Duration::zero()) return bad("probe_interval must be > 0");
  if (c.probe_timeout <= Duration::zero() || c.probe_timeout > c.probe_interval) {
    return bad("probe_timeout must be in (0, probe_interval]");
  }
  if (c.indirect_checks > 16) return bad("indirect_checks must be <= 16");
  if (c.suspicion_mult < 1) return bad("suspicion_mult must be >= 1");
  if (c.suspicion_max_timeout_mult < 1) return bad("suspicion_max_timeout_mult must be >= 1");
  if (c.retransmit_mult < 1) return bad("retransmit_mult must be >= 1");
  if (c.awareness_max < 1) return bad("awareness_max must be >= 1");
  if (c.gossip_interval < Duration::zero()) return bad("gossip_interval must be >= 0");
  if (c.gossip_nodes > 16) return bad("gossip_nodes must be <= 16");
  if (c.heartbeat_interval <= Duration::zero()) return bad("heartbeat_interval must be > 0");
  if (c.fail_timeout < Duration::zero()) return bad("fail_timeout must be >= 0");
  if (c.cleanup_factor < 1.0) return bad("cleanup_factor must be >= 1");
  if (c.heartbeat_fanout < 1 || c.heartbeat_fanout > 16) return bad("heartbeat_fanout in [1,16]");
  if (!(c.phi_threshold > 0.0 && c.phi_threshold <= 1000.0)) {
    return bad("phi_threshold must be in (0, 1000]");
  }
  if (c.phi_window < 2 || c.phi_window > 100000) return bad("phi_window must be in [2, 100000]");
  if (c.phi_min_std_deviation <= Duration::zero()) return bad("phi_min_std_deviation must be > 0");
  if (c.phi_acceptable_pause < Duration::zero()) return bad("phi_acceptable_pause must be >= 0");
  if (c.phi_first_heartbeat_estimate <= Duration::zero()) {
    return bad("phi_first_heartbeat_estimate must be > 0");
  }
  if (c.join_retry_interval <= Duration::zero()) return bad("join_retry_interval must be > 0");
  if (c.churn_anti_entropy_delay < Duration::zero()) return bad("churn_anti_entropy_delay must be >= 0");
  if (c.join_gossip_delay < Duration::zero()) return bad("join_gossip_delay must be >= 0");
  if (c.meta.size() > wire::kMetaBytesMax) return bad("meta must be <= 512 bytes");
  if (c.name.size() > wire::kNameBytesMax) return bad("name must be <= 255 bytes");
  if (c.zone.size() > wire::kZoneBytesMax) return bad("zone must be <= 64 bytes");
  if (c.zone_prefix > 128) return bad("zone_prefix must be <= 128");
  if (c.dialect == Dialect::memberlist) {
    if (!c.zone.empty()) {
      return bad("the memberlist dialect cannot carry a zone (no room in its member entry): "
                 "use zone_prefix");
    }
    if (c.name.empty()) return bad("the memberlist dialect needs a member name");
    if (c.detector != Detector::swim && c.detector != Detector::lifeguard) {
      return bad("the memberlist dialect runs SWIM or Lifeguard only");
    }
    for (const auto& k : c.memberlist.keys) {
      if (k.size() != 16 && k.size() != 24 && k.size() != 32) {
        return bad("encryption keys must be 16, 24 or 32 bytes");
      }
    }
    if (c.memberlist.label.size() > 255) return bad("label must be <= 255 bytes");
  }
  // Keys without a cipher would leave the node unable to seal or open: refuse them here.
  if (!c.memberlist.keys.empty() && detail::aead() == nullptr) {
    return make_error(Errc::invalid_argument, detail::kNoAeadError);
  }
  if (c.expected_members > detail::kMembersMax) return bad("expected_members must be at most 4194304");
  if (c.packet_budget_bytes < 256 || c.packet_budget_bytes > wire::kPacketBudgetBytesMax) {
    return bad("packet_budget_bytes must be in [256, 8192]");
  }
  return {};
}

std::unique_ptr<Membership> make_membership(const MembershipConfig& config,
                                            const Address& self_address, std::uint64_t seed) {
  if (config.mode == MembershipMode::consistent) {
    return std::make_unique<detail::ConsistentNode>(config, self_address, seed);
  }
  return std::make_unique<detail::MembershipNode>(config, self_address, seed);
}

}  // namespace grapevine
