// NodeSeal: the native dialect's seal at the Node boundary (wire/seal.h, docs/security.md).
//
// Node opens every inbound native datagram and stream here once, before routing its frames to
// the components, and hands the components wrap(fx) instead of the driver's Effects, so every
// datagram, stream and stream reply they send leaves sealed. Components never see a key.
//
// Inbound rules, in order: a memberlist-dialect node passes everything through (memberlist seals
// its own way). A keyless node passes plaintext through and refuses sealed input (no_key). A
// keyed node refuses plaintext (plaintext_refused) unless gossip_verify_incoming is off, opens
// sealed input with its keyring (malformed / label_mismatch / wrong_key), refuses a timestamp
// further than SealConfig::max_age from its own clock (stale), and refuses a tag it accepted
// before (replayed). Accepted tags are kept 2 x max_age: a packet older than that is stale.
// The tag cache starts empty, so a packet sealed more than SealConfig::start_slack before this
// node's first call is stale too: replays recorded before a restart are refused.
//
// Clock: the timestamp is `now + clock_offset`: the runtime sets the offset to wall clock minus
// its monotonic clock; the simulator leaves 0 (virtual time is everyone's clock). Nonces: a
// per-node CTR-DRBG (wire/seal.h) seeded from SHA-256(node seed, address) until the driver
// calls seed_nonces() with OS randomness, as the runtime does. Deterministic in the simulator;
// in the runtime no two nodes share a nonce stream even when started with the same seed.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <unordered_set>
#include <vector>

#include "grapevine/node.h"
#include "wire/seal.h"

namespace grapevine::detail {

class NodeSeal {
 public:
  NodeSeal(const NodeConfig& config, const Address& self, std::uint64_t seed);
  ~NodeSeal();

  /// True when this node seals (native dialect with keys).
  [[nodiscard]] bool keyed() const noexcept { return keys_.has_value(); }
  void seed_nonces(std::span<const std::byte> entropy);
  void set_clock_offset(Duration offset) noexcept { clock_offset_ = offset; }

  /// The datagram to route, or nullopt when refused (counted). The span is `bytes` itself or
  /// scratch memory valid until the next call on this object.
  std::optional<std::span<const std::byte>> open_datagram(Time now,
                                                          std::span<const std::byte> bytes);
  /// A stream message framed by stream_message_length(): the message to route, or nullopt.
  std::optional<std::span<const std::byte>> open_stream(Time now,
                                                        std::span<const std::byte> message);
  /// Sealed framing when keyed: [u32 length][sealed]; `inner` answers otherwise.
  [[nodiscard]] bool frames_streams() const noexcept { return keyed(); }

  /// The Effects to give components: `fx` itself when not sealing, else an adapter that seals
  /// and forwards to `fx`. Valid until the next wrap() (calls are not re-entrant).
  Effects& wrap(Time now, Effects& fx);

  /// Node::change_keyring / Node::keyring: see node.h.
  Result<void> change_keyring(KeyringOp op, std::span<const std::byte> key);
  [[nodiscard]] std::vector<std::vector<std::byte>> keyring() const;

  [[nodiscard]] const SealStats& stats() const noexcept { return stats_; }
  [[nodiscard]] std::size_t overhead() const noexcept;

 private:
  class Fx;
  friend class Fx;

  std::optional<std::span<const std::byte>> open_sealed(Time now, std::span<const std::byte> b);
  bool fresh(Time now, const wire::seal::Opened& o);
  void reject(SealReject r) noexcept { ++stats_.rejected[std::size_t(r)]; }
  /// Seals `plain`, with a 4-byte length prefix when `framed` (streams). Empty on failure.
  std::span<const std::byte> seal(Time now, std::span<const std::byte> plain, bool framed);

  bool native_;
  std::optional<wire::ml::Keyring> keys_;
  std::optional<wire::ml::GcmKeyring> gcm_;  // keys_' contexts, rebuilt when keys_ changes
  std::string label_;
  bool verify_incoming_, verify_outgoing_;
  SealConfig cfg_;
  Duration clock_offset_ = Duration::zero();
  std::optional<Time> start_;  // the first wrap() or accepted packet: SealConfig::start_slack
  std::unique_ptr<wire::seal::NonceGenerator> nonces_;
  std::vector<std::byte> open_buf_, seal_buf_;
  // Accepted tags, for replays. Allocated only when keyed: a keyless Node (the simulator's
  // large runs) carries no more than a few pointers for the seal.
  struct Replay {
    std::deque<std::pair<std::int64_t, std::uint64_t>> order;  // (forget at ns, tag id)
    std::unordered_set<std::uint64_t> seen;  // membership test only, never iterated
  };
  std::unique_ptr<Replay> replay_;
  std::unique_ptr<Fx> fx_;
  SealStats stats_;
};

}  // namespace grapevine::detail
