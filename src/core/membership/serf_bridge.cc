// The membership node's side of serf's protocol layer (core/serf/serf_layer.h): how serf's
// messages ride the memberlist dialect. Serf messages gossip as memberlist user messages in
// the broadcast queue (retransmit-limited, piggybacked and gossiped like membership updates);
// acks, responses and relays go as one user message in a datagram to one address; the
// layer's push-pull state rides memberlist's push-pull user state. Enabled by
// MemberlistOptions::serf in the memberlist dialect.
#include "core/membership/membership_node.h"

namespace grapevine::detail {

class MembershipNode::SerfBridge final : public serf::Host {
 public:
  explicit SerfBridge(MembershipNode& n) : n_(n) {}

  void gossip(std::span<const std::byte> message) override {
    Bytes m;
    if (n_.codec_->user(message, m)) n_.queue_.push(n_.next_user_key(), m);
  }
  void send(const Address& to, std::span<const std::byte> message, Effects& fx) override {
    if (n_.codec_->user(message, n_.primary(0))) n_.send_messages(fx, to, 1);
  }
  void members(std::vector<serf::HostMember>& out) const override {
    for (const MemberRecord& r : n_.list_.records()) {
      serf::HostMember m;
      m.name = n_.list_.name_of(r.id);
      if (m.name.empty()) continue;
      m.address = r.address;
      m.state = (r.id == n_.self_id_ && n_.leaving_) ? MemberState::left : r.state;
      m.meta = n_.list_.meta_of(r.id);
      m.vsn = n_.list_.vsn_of(r.id);
      out.push_back(m);
    }
  }
  Result<void> change_key(serf::KeyOp op, std::span<const std::byte> key) override {
    const KeyChange c = op == serf::KeyOp::install ? KeyChange::install
                        : op == serf::KeyOp::use   ? KeyChange::use
                                                   : KeyChange::remove;
    return n_.codec_->change_key(c, key);
  }
  [[nodiscard]] std::vector<std::vector<std::byte>> keys() const override {
    return n_.codec_->keys();
  }

 private:
  MembershipNode& n_;
};

MembershipNode::~MembershipNode() = default;

Result<std::uint64_t> MembershipNode::serf_query(Time now, std::string_view name,
                                                 std::span<const std::byte> payload,
                                                 const SerfQueryOptions& options, Effects& fx) {
  if (!serf_) return make_error(Errc::invalid_argument, "serf queries need the serf dialect");
  serf::QueryParams p;
  p.nodes = options.nodes;
  p.tags = options.tags;
  p.request_ack = options.request_ack;
  p.relay_factor = options.relay_factor;
  p.timeout = options.timeout;
  // serf's key manager: `_serf_install-key` etc. (payload: the raw key; Layer::key_query).
  constexpr std::string_view kKeyPrefix = "_serf_";
  if (name.starts_with(kKeyPrefix) && name.ends_with("-keys") != name.ends_with("-key")) {
    return serf_->key_query(now, name.substr(kKeyPrefix.size()), payload, p, fx);
  }
  return serf_->query(now, name, payload, p, fx);
}

bool MembershipNode::serf_query_result(std::uint64_t ltime, SerfQueryResult& out) const {
  const serf::QueryResult* r = serf_ ? serf_->query_result(ltime) : nullptr;
  if (r == nullptr) return false;
  out.deadline = r->deadline;
  out.done = r->done;
  out.acks = r->acks;
  out.responses = r->responses;
  return true;
}

void MembershipNode::start_serf() {
  if (config_.dialect != Dialect::memberlist || !config_.memberlist.serf) return;
  serf_bridge_ = std::make_unique<SerfBridge>(*this);
  serf::LayerConfig c;
  c.name = config_.name;
  c.address = self_address_;
  c.gossip_interval = config_.gossip_interval;
  for (const auto& [name, response] : config_.memberlist.serf_responses) {
    c.responses[name] = response;
  }
  serf_ = std::make_unique<serf::Layer>(std::move(c), *serf_bridge_, rng_.next());
}

}  // namespace grapevine::detail
