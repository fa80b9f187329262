// The native dialect's seal at the Node boundary: see node_seal.h.
#include "core/node_seal.h"

#include <cstring>

#include "util/assert.h"
#include "wire/native_membership.h"

namespace grapevine::detail {

// The Effects components write into when the node seals: seals, then forwards to the driver.
class NodeSeal::Fx final : public Effects {
 public:
  explicit Fx(NodeSeal& s) : s_(s) {}
  void bind(Time now, Effects& inner) noexcept {
    now_ = now;
    inner_ = &inner;
  }
  void send(const Address& to, std::span<const std::byte> datagram) override {
    auto sealed = s_.seal(now_, datagram, false);
    if (!sealed.empty()) inner_->send(to, sealed);
  }
  void emit(const Event& event) override { inner_->emit(event); }
  void send_stream(const Address& to, std::span<const std::byte> message) override {
    auto sealed = s_.seal(now_, message, true);
    if (!sealed.empty()) inner_->send_stream(to, sealed);
  }
  void reply_stream(StreamId stream, std::span<const std::byte> message) override {
    auto sealed = s_.seal(now_, message, true);
    if (!sealed.empty()) inner_->reply_stream(stream, sealed);
  }

 private:
  NodeSeal& s_;
  Time now_{};
  Effects* inner_ = nullptr;
};

NodeSeal::NodeSeal(const NodeConfig& config, const Address& self, std::uint64_t seed)
    : native_(config.membership.dialect == Dialect::native),
      label_(config.membership.memberlist.label),
      verify_incoming_(config.membership.memberlist.gossip_verify_incoming),
      verify_outgoing_(config.membership.memberlist.gossip_verify_outgoing),
      cfg_(config.seal) {
  const auto& keys = config.membership.memberlist.keys;
  if (!native_ || keys.empty()) return;  // nothing to seal: no generator, no replay state
  std::vector<std::span<const std::byte>> extra(keys.begin() + 1, keys.end());
  auto ring = wire::ml::Keyring::create(keys.front(), extra);
  GV_ASSERT(ring.has_value());  // validate(NodeConfig) checked the lengths
  keys_.emplace(std::move(*ring));
  gcm_.emplace(*keys_);
  fx_ = std::make_unique<Fx>(*this);
  replay_ = std::make_unique<Replay>();
  // Deterministic default seed: the node's seed and address (the simulator's case).
  std::byte material[8 + 16 + 2];
  for (int i = 0; i < 8; ++i) material[i] = std::byte(seed >> (8 * i));
  std::memcpy(material + 8, self.ip.data(), 16);
  material[24] = std::byte(self.port >> 8);
  material[25] = std::byte(self.port & 0xff);
  const auto s = wire::seal::derive_seed_bytes(material);
  nonces_ = std::make_unique<wire::seal::NonceGenerator>(s);
}

NodeSeal::~NodeSeal() = default;

void NodeSeal::seed_nonces(std::span<const std::byte> entropy) {
  if (!keyed()) return;
  const auto s = wire::seal::derive_seed_bytes(entropy);
  nonces_ = std::make_unique<wire::seal::NonceGenerator>(s);
}

Result<void> NodeSeal::change_keyring(KeyringOp op, std::span<const std::byte> key) {
  if (!native_) return make_error(Errc::invalid_argument, "memberlist dialect: not supported");
  if (!keyed()) {
    return make_error(Errc::not_ready, "no keyring: start the node with a key (--encrypt)");
  }
  if (key.size() != wire::seal::kKeyBytes) {
    return make_error(Errc::invalid_argument, "native dialect keys must be 32 bytes");
  }
  Result<void> r = make_error(Errc::invalid_argument, "unknown keyring operation");
  switch (op) {
    case KeyringOp::install:
      r = keys_->add_key(key);
      break;
    case KeyringOp::use:
      r = keys_->use_key(key);
      break;
    case KeyringOp::remove:
      r = keys_->remove_key(key);
      break;
  }
  if (r) gcm_.emplace(*keys_);
  return r;
}

std::vector<std::vector<std::byte>> NodeSeal::keyring() const {
  std::vector<std::vector<std::byte>> out;
  if (!keys_) return out;
  for (std::size_t i = 0; i < keys_->size(); ++i) {
    out.emplace_back(keys_->key(i).begin(), keys_->key(i).end());
  }
  return out;
}

std::size_t NodeSeal::overhead() const noexcept {
  return keyed() ? wire::seal::overhead(label_.size()) : 0;
}

Effects& NodeSeal::wrap(Time now, Effects& fx) {
  if (!start_) start_ = now;
  if (!keyed() || !verify_outgoing_) return fx;
  fx_->bind(now, fx);
  return *fx_;
}

std::optional<std::span<const std::byte>> NodeSeal::open_datagram(
    Time now, std::span<const std::byte> bytes) {
  if (!native_) return bytes;
  if (wire::seal::is_sealed(bytes)) return open_sealed(now, bytes);
  if (!keyed()) return bytes;
  if (verify_incoming_) {
    reject(SealReject::plaintext_refused);
    return std::nullopt;
  }
  ++stats_.plaintext_accepted;
  return bytes;
}

std::optional<std::span<const std::byte>> NodeSeal::open_stream(
    Time now, std::span<const std::byte> message) {
  // Keyed framing: [u32 length][sealed or, in transition, plaintext native message].
  if (!native_ || !keyed()) return message;
  if (message.size() < 4) {
    reject(SealReject::malformed);
    return std::nullopt;
  }
  const auto body = message.subspan(4);
  if (wire::seal::is_sealed(body)) return open_sealed(now, body);
  if (verify_incoming_) {
    reject(SealReject::plaintext_refused);
    return std::nullopt;
  }
  ++stats_.plaintext_accepted;
  return message;  // a plaintext native stream message: its own length header, as framed
}

std::optional<std::span<const std::byte>> NodeSeal::open_sealed(Time now,
                                                                 std::span<const std::byte> b) {
  wire::seal::Opened o;
  if (auto r = wire::seal::open(gcm_ ? &*gcm_ : nullptr, label_, b, open_buf_, o)) {
    reject(*r);
    return std::nullopt;
  }
  if (!fresh(now, o)) return std::nullopt;
  ++stats_.opened;
  return o.plain;
}

bool NodeSeal::fresh(Time now, const wire::seal::Opened& o) {
  if (!start_) start_ = now;
  const std::int64_t mine_ms = (now.ns() + clock_offset_.ns()) / 1000000;
  // Not sealed before we started (less the slack): our tag cache would not know it.
  const std::int64_t floor_ms =
      (start_->ns() + clock_offset_.ns()) / 1000000 - cfg_.start_slack.ms();
  // Compared without subtracting the peer's value: any int64 it sends is safe.
  if (o.timestamp_ms < mine_ms - cfg_.max_age.ms() || o.timestamp_ms < floor_ms ||
      o.timestamp_ms > mine_ms + cfg_.max_age.ms()) {
    reject(SealReject::stale);
    return false;
  }
  auto& order = replay_->order;
  auto& seen = replay_->seen;
  while (!order.empty() && order.front().first <= now.ns()) {
    seen.erase(order.front().second);
    order.pop_front();
  }
  if (!seen.insert(o.tag_id).second) {
    reject(SealReject::replayed);
    return false;
  }
  order.emplace_back(now.ns() + 2 * cfg_.max_age.ns(), o.tag_id);
  if (order.size() > cfg_.replay_cache_max) {
    seen.erase(order.front().second);
    order.pop_front();
    ++stats_.replay_cache_evictions;
  }
  return true;
}

std::span<const std::byte> NodeSeal::seal(Time now, std::span<const std::byte> plain,
                                          bool framed) {
  seal_buf_.clear();
  if (framed) seal_buf_.resize(4);
  const std::int64_t ts_ms = (now.ns() + clock_offset_.ns()) / 1000000;
  if (!wire::seal::seal(*gcm_, label_, ts_ms, plain, *nonces_, seal_buf_)) {
    ++stats_.seal_failures;
    return {};
  }
  if (framed) {
    const std::size_t n = seal_buf_.size() - 4;
    for (int i = 0; i < 4; ++i) seal_buf_[std::size_t(i)] = std::byte(n >> (24 - 8 * i));
  }
  ++stats_.sealed;
  return seal_buf_;
}

}  // namespace grapevine::detail
