// Node's replicated-state API (NodeConfig::state): routing to the scuttlebutt machine and the
// name -> node lookup. Kept apart from node.cc so the component stays one small edit there.
#include "core/state/scuttlebutt.h"
#include "grapevine/node.h"
#include "wire/native_state.h"

namespace grapevine {

namespace {
Error state_off(bool memberlist) noexcept {
  return memberlist ? Error{Errc::invalid_argument,
                            "replicated state needs the native dialect (not memberlist)"}
                    : Error{Errc::invalid_argument, "replicated state is off (state.enabled)"};
}
}  // namespace

Result<void> validate(const StateConfig& c) noexcept {
  auto bad = [](const char* why) { return make_error(Errc::invalid_argument, why); };
  if (c.gossip_interval <= Duration::zero()) return bad("state.gossip_interval must be > 0");
  if (c.fanout < 1 || c.fanout > 8) return bad("state.fanout must be 1..8");
  if (c.packet_budget_bytes < 64 || c.packet_budget_bytes > wire::kDatagramBytesMax) {
    return bad("state.packet_budget_bytes must be 64..65507");
  }
  if (c.stream_bytes_max < 1024 || c.stream_bytes_max > wire::kStateStreamBytesMax - 64) {
    return bad("state.stream_bytes_max must be 1 KiB..20 MB");
  }
  if (c.key_bytes_max > wire::kStateKeyBytesWireMax) return bad("state.key_bytes_max over 4096");
  if (c.value_bytes_max > wire::kStateValueBytesWireMax) {
    return bad("state.value_bytes_max over 1 MiB");
  }
  return {};
}

void Node::route_state_frames(Time now, const Address& from, std::span<const std::byte> bytes,
                              Effects& fx) {
  wire::FrameIterator it(bytes);
  wire::Frame f;
  while (it.next(f)) {
    if (wire::is_state_frame(f.type)) state_->on_frame(now, from, f, fx);
  }
}

Result<std::uint64_t> Node::set(Time now, std::string_view key, std::string_view value,
                                Duration ttl, Effects& fx) {
  if (!state_) return state_off(memberlist_);
  return state_->set(now, key, value, ttl, sealed(now, fx));
}

Result<std::uint64_t> Node::erase(Time now, std::string_view key, Effects& fx) {
  if (!state_) return state_off(memberlist_);
  return state_->erase(now, key, sealed(now, fx));
}

std::optional<StateEntry> Node::get(std::string_view node, std::string_view key) const {
  if (!state_) return std::nullopt;
  if (node.empty() || node == "self") return state_->get(state_->store().self_id(), key);
  if (auto a = Address::parse(node)) return state_->get(node_id_of(*a), key);
  for (const MemberInfo& m : membership_->members()) {
    if (m.name == node) return state_->get(node_id_of(m.address), key);
  }
  return std::nullopt;
}

std::vector<StateEntry> Node::entries(std::string_view prefix) const {
  if (!state_) return {};
  return state_->entries(prefix);
}

std::uint64_t Node::state_watch(std::string_view prefix) {
  return state_ ? state_->watch(prefix) : 0;
}

void Node::state_unwatch(std::uint64_t id) {
  if (state_) state_->unwatch(id);
}

StateStats Node::state_stats() const noexcept { return state_ ? state_->stats() : StateStats{}; }

}  // namespace grapevine
