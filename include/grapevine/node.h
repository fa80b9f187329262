// Node: one grapevine member, composed of a membership machine (who is in the group) and a
// multicast protocol that draws its targets from that membership's live list rather than from
// a global roster. This is what the runtime runs on sockets and what applications embed.
//
// Both components share the node's datagrams: the node walks each datagram's frames once and
// hands each component only the frames of its family (core/frame_router.h, wire/native.h); a
// component with nothing in a datagram is not called. Tree and centralized multicast work over the live list too, but a tree is only
// stable while membership is; gossip (push, pull, push-pull) is what this mode is for.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "grapevine/machine.h"
#include "grapevine/membership.h"
#include "grapevine/multicast.h"
#include "grapevine/state.h"
#include "grapevine/view.h"

namespace grapevine {
namespace detail {
class FrameRouter;
}  // namespace detail

/// A Node's multicast defaults (MulticastConfig's own are the papers' analyses'): push-pull
/// gossip, fanout 3, each message pushed for 5 rounds after a node receives it (a member is
/// missed with probability about e^-15, and pull requests catch it up) and forgotten 120
/// periods later; pull only while spreading (pull_when_idle = false). An idle group is silent.
MulticastConfig node_multicast_defaults() noexcept;

namespace detail {
class NodeSeal;
class Scuttlebutt;
class KeyringQueries;
}

/// Why a native packet or stream was refused by the seal (docs/security.md). Counted per reason.
enum class SealReject : std::uint8_t {
  no_key,             // sealed, but this node has no keys
  wrong_key,          // no installed key authenticates it (wrong key, wrong AAD, tampering)
  malformed,          // too short, bad header, no timestamp
  label_mismatch,     // sealed under another cluster label
  plaintext_refused,  // plaintext, and this node has keys (and verify_incoming)
  stale,              // its timestamp is further than SealConfig::max_age from our clock
  replayed,           // a packet with the same tag was already accepted within the window
};
inline constexpr std::size_t kSealRejectCount = 7;
const char* seal_reject_name(SealReject r) noexcept;

/// Authenticated encryption of the native dialect (wire/seal.h, docs/security.md). The keys and
/// the label are MembershipConfig::memberlist.keys and .label, one place for both dialects (the
/// memberlist dialect seals its own way); native keys must be 32 bytes (AES-256).
/// memberlist.gossip_verify_incoming = false accepts plaintext too, gossip_verify_outgoing =
/// false sends plaintext: memberlist's transition to a keyed cluster, node by node.
struct SealConfig {
  /// A sealed packet whose sender timestamp is further than this from our clock (either way)
  /// is refused as stale; accepted packets are remembered for 2 x max_age to refuse replays.
  /// Members' wall clocks must agree within it (NTP).
  Duration max_age = Duration::seconds(60);
  /// Most accepted-packet tags remembered; the oldest go first beyond it (counted).
  std::size_t replay_cache_max = 1u << 16;
  /// A packet sealed more than this before the node's first call (its start) is refused as
  /// stale: the tag cache starts empty, so without this a restarted (or new) node would accept
  /// replays of packets recorded before it started (docs/security.md). Also the clock skew a
  /// just-started node tolerates: a peer whose clock lags by more is refused until our clock
  /// has run that far past our start.
  Duration start_slack = Duration::seconds(1);
};

/// Keyring changes at run time (serf's `keys`): install a key that opens, make an installed key
/// the one that seals, remove a key that no longer seals.
enum class KeyringOp : std::uint8_t { install, use, remove };

struct SealStats {
  std::uint64_t sealed = 0, opened = 0;
  std::uint64_t plaintext_accepted = 0;  // verify_incoming = false only
  std::uint64_t seal_failures = 0;       // sends dropped: no nonce, or over the size limit
  std::uint64_t replay_cache_evictions = 0;
  std::uint64_t rejected[kSealRejectCount] = {};
  [[nodiscard]] std::uint64_t rejected_total() const noexcept {
    std::uint64_t n = 0;
    for (auto v : rejected) n += v;
    return n;
  }
};

struct NodeConfig {
  MembershipConfig membership;
  MulticastConfig multicast = node_multicast_defaults();
  /// A partial-view overlay (HyParView) beside the membership: when set, multicast() broadcasts
  /// over the view's own tree (Plumtree) instead of the gossip multicast, and join() also joins
  /// the overlay through the first seed. Native dialect only.
  std::optional<ViewConfig> view;
  SealConfig seal;
  /// Replicated per-node key-value state (scuttlebutt; set/get/erase below). On by default: it
  /// sends nothing while no node has a key. Native dialect only (ignored in memberlist's).
  StateConfig state;
};

Result<void> validate(const NodeConfig& config) noexcept;

/// The contract (machine.h): a Node is not thread-safe and not re-entrant: one thread at a
/// time calls it, never from inside one of its own Effects calls. `now` (nanoseconds of the
/// driver's monotonic clock, Time) never decreases. Every span passed in is read during the
/// call only (payloads, names, keys and metadata are copied); everything the call sends or
/// raises goes to `fx` before it returns, the spans handed to `fx` valid during that Effects
/// call only. Errors are Result values, never exceptions; each call lists its Errc values.
class Node final : public Machine {
 public:
  /// `config` is copied. Check it with validate() first: a bad config is a programming error.
  Node(const NodeConfig& config, const Address& self, std::uint64_t seed);
  ~Node() override;

  void on_datagram(Time now, const Address& from, std::span<const std::byte> bytes,
                   Effects& fx) override;
  void on_stream(Time now, const Address& from, std::span<const std::byte> message,
                 StreamId stream, Effects& fx) override;
  void on_timeout(Time now, Effects& fx) override;
  /// Membership's framing, or [u32 length][sealed message] when the node seals.
  [[nodiscard]] Result<std::size_t> stream_message_length(
      std::span<const std::byte> received) const override;
  [[nodiscard]] Time next_deadline() const noexcept override;

  /// Joins through `seeds` (and the partial-view overlay through the first seed). Errors:
  /// invalid_argument (no seed other than this node's own address).
  Result<void> join(Time now, std::span<const Address> seeds, Effects& driver_fx) {
    Effects& fx = sealed(now, driver_fx);
    if (view_) view_->join(now, seeds.empty() ? Address{} : seeds.front(), fx);
    return membership_->join(now, seeds, fx);
  }
  /// join() with options (JoinOptions::replay: deliver the seed's buffered user events).
  Result<void> join(Time now, std::span<const Address> seeds, const JoinOptions& options,
                    Effects& driver_fx) {
    Effects& fx = sealed(now, driver_fx);
    if (view_) view_->join(now, seeds.empty() ? Address{} : seeds.front(), fx);
    return membership_->join_with(now, seeds, options, fx);
  }
  /// Leaves gracefully (Membership::leave). Never fails; a second call does nothing.
  void leave(Time now, Effects& driver_fx) {
    Effects& fx = sealed(now, driver_fx);
    if (view_) view_->leave(now, fx);
    membership_->leave(now, fx);
  }
  void preload(Time now, std::span<const Address> members) { membership_->preload(now, members); }
  /// Multicasts `payload` (copied) to the live members. Errors as MulticastProtocol::multicast:
  /// too_large (over kMulticastPayloadBytesMax), not_ready (no other live member; gossip,
  /// tree and centralized protocols). With a partial view (NodeConfig::view): too_large only.
  /// In the memberlist dialect the payload travels as memberlist user messages
  /// (Membership::broadcast: too_large over the packet budget with framing), which Go members
  /// receive through their delegate's NotifyMsg.
  Result<MessageId> multicast(Time now, std::span<const std::byte> payload,
                              Effects& driver_fx) {
    Effects& fx = sealed(now, driver_fx);
    if (view_) return view_broadcast(now, payload, fx);
    if (config_.membership.dialect == Dialect::memberlist) {
      return membership_->broadcast(now, payload, fx);
    }
    return multicast_->multicast(now, payload, fx);
  }

  /// Membership::witness_event_clock (a user-event Lamport clock restored from a snapshot).
  void witness_event_clock(std::uint64_t ltime) { membership_->witness_event_clock(ltime); }
  /// A serf-style user event through the membership (Membership::user_event; native dialect).
  /// Errors: invalid_argument (empty name, memberlist dialect, consistent mode), too_large
  /// (name + payload over kUserEventBytesMax).
  Result<std::uint64_t> user_event(Time now, std::string_view name,
                                   std::span<const std::byte> payload, bool coalesce,
                                   Effects& driver_fx) {
    return membership_->user_event(now, name, payload, coalesce, sealed(now, driver_fx));
  }
  /// A serf query (Membership::serf_query; serf dialect).
  Result<std::uint64_t> serf_query(Time now, std::string_view name,
                                   std::span<const std::byte> payload,
                                   const SerfQueryOptions& options, Effects& driver_fx) {
    return membership_->serf_query(now, name, payload, options, sealed(now, driver_fx));
  }
  /// A serf-style query (Membership::query; grapevine/query.h; native dialect). Errors as
  /// Membership::query.
  Result<QueryTicket> query(Time now, std::string_view name, std::span<const std::byte> payload,
                            const QueryParams& params, Effects& driver_fx) {
    return membership_->query(now, name, payload, params, sealed(now, driver_fx));
  }
  /// Answers a received `query` event (its ltime and query_id). Errors as Membership::respond.
  Result<void> respond(Time now, std::uint64_t ltime, std::uint32_t id,
                       std::span<const std::byte> payload, Effects& driver_fx) {
    return membership_->respond(now, ltime, id, payload, sealed(now, driver_fx));
  }
  /// Cluster-wide keyring change or listing (serf's `keys`): an internal query every live
  /// member answers by applying `command` with `key` (32 bytes; ignored by list) to its own
  /// keyring (change_keyring) and answering a KeyringAnswer (decode_keyring_answer; for list,
  /// its keys), this node included. The answers arrive as `query_response` events of the
  /// returned ticket, then `query_done`. A member refuses use of a key it does not hold and
  /// removal of its primary (ok = false, with the reason). A zero `params.timeout` means
  /// max(the default query timeout, kKeyringQueryTimeoutMin): a rotation wants every member's
  /// answer more than a quick one, and the ticket ends early once every member answered.
  /// Errors: as Membership::query; invalid_argument (a key not 32 bytes for install/use/remove).
  Result<QueryTicket> keyring_query(Time now, KeyringCommand command,
                                    std::span<const std::byte> key, const QueryParams& params,
                                    Effects& driver_fx);
  /// Membership::force_leave and update_meta, their sends sealed like every other call's. Call
  /// these, not membership().force_leave(...), whenever the node has keys. Errors as
  /// Membership::force_leave (invalid_argument: no such member, not failed, consistent mode)
  /// and Membership::update_meta (too_large over kMetaBytesMax; in consistent mode the new
  /// metadata is gossiped outside the views, not a view change).
  Result<void> force_leave(Time now, std::string_view name, Effects& driver_fx) {
    return membership_->force_leave(now, name, sealed(now, driver_fx));
  }
  Result<void> update_meta(Time now, std::span<const std::byte> meta, Effects& driver_fx) {
    return membership_->update_meta(now, meta, sealed(now, driver_fx));
  }

  [[nodiscard]] Membership& membership() noexcept { return *membership_; }
  [[nodiscard]] const Membership& membership() const noexcept { return *membership_; }
  [[nodiscard]] MulticastProtocol& multicast_protocol() noexcept { return *multicast_; }
  [[nodiscard]] const MulticastProtocol& multicast_protocol() const noexcept {
    return *multicast_;
  }
  // ---- replicated node state (NodeConfig::state) ----
  /// Sets this node's `key` to `value` (bytes, any content), replicated to every live member.
  /// `ttl` > 0: the key is deleted `ttl` after now. Returns the key's version (a set of an
  /// unchanged value returns the current one). Errors: invalid_argument (state off, memberlist
  /// dialect, empty key), too_large (key_bytes_max, value_bytes_max, keys_per_node_max or
  /// node_bytes_max exceeded).
  Result<std::uint64_t> set(Time now, std::string_view key, std::string_view value,
                            Duration ttl, Effects& fx);
  /// Deletes this node's `key` (a tombstone, replicated, collected after tombstone_grace).
  /// Errors: invalid_argument (state off), rejected (no such key).
  Result<std::uint64_t> erase(Time now, std::string_view key, Effects& fx);
  /// The value of `key` at the node named `node` (a member name, an "ip:port" address, or ""
  /// / "self" for this node), as far as this node knows. nullopt: unknown node or key.
  [[nodiscard]] std::optional<StateEntry> get(std::string_view node, std::string_view key) const;
  /// Every live key starting with `prefix`, of every node held, by (node id, key).
  [[nodiscard]] std::vector<StateEntry> entries(std::string_view prefix) const;
  /// Emits EventKind::state_changed for keys starting with `prefix` (local and remote changes)
  /// from now on. Returns an id for state_unwatch(), 0 when state is off.
  std::uint64_t state_watch(std::string_view prefix);
  void state_unwatch(std::uint64_t id);
  /// The state machine, or nullptr when off.
  [[nodiscard]] const detail::Scuttlebutt* state() const noexcept { return state_.get(); }
  /// Counters of the state component (zeros when off).
  [[nodiscard]] StateStats state_stats() const noexcept;

  /// The partial-view overlay, or nullptr when NodeConfig::view is unset.
  [[nodiscard]] const ViewMachine* view() const noexcept { return view_.get(); }

  /// Native dialect with keys (SealConfig): seeds the nonce generator from `entropy` (any
  /// length; hashed). Drivers on a real network call it once with OS randomness, before the
  /// first call; without it the nonces derive from the constructor's seed (reproducible).
  void seed_nonces(std::span<const std::byte> entropy);
  /// The sealed timestamp is `now + offset`: the wall clock minus the driver's clock (0 in the
  /// simulator, where virtual time is everyone's clock).
  void set_clock_offset(Duration offset) noexcept;
  [[nodiscard]] const SealStats& seal_stats() const noexcept;
  /// Native dialect: changes the keyring; `key` is copied. Installing a key already installed
  /// does nothing and succeeds. Errors: invalid_argument (memberlist dialect, a key not
  /// kNativeKeyBytes (32) bytes, use/remove of a key not installed, removing the primary),
  /// not_ready (the node was started without keys: sealing cannot be switched on at run time).
  Result<void> change_keyring(KeyringOp op, std::span<const std::byte> key);
  /// The installed keys, primary first (copies; empty without keys or in the memberlist
  /// dialect).
  [[nodiscard]] std::vector<std::vector<std::byte>> keyring() const;

  /// Mutual TLS (the runtime's RuntimeOptions::tls): the names the driver authenticated (the
  /// peer certificate's) for the stream it hands to the next on_stream(); cleared by that call.
  /// Empty = no check. There, a native push-pull whose sender entry has a name not among them
  /// is refused unread (stream_identity_refused()); other stream messages carry no name.
  void set_stream_peer_names(std::span<const std::string> names) {
    stream_peer_names_.assign(names.begin(), names.end());
  }
  /// Streams refused by that check, since start.
  [[nodiscard]] std::uint64_t stream_identity_refused() const noexcept {
    return stream_identity_refused_;
  }

 private:
  /// The Effects components write into: `fx`, or a sealing adapter forwarding to it.
  Effects& sealed(Time now, Effects& fx);
  NodeConfig config_;
  bool memberlist_;
  std::unique_ptr<Membership> membership_;
  std::unique_ptr<MulticastProtocol> multicast_;
  std::unique_ptr<ViewMachine> view_;
  std::unique_ptr<detail::NodeSeal> seal_;
  std::unique_ptr<detail::Scuttlebutt> state_;
  std::unique_ptr<detail::FrameRouter> router_;  // native dialect: frames to their component
  std::unique_ptr<detail::KeyringQueries> keyring_queries_;  // answers keyring queries
  std::uint64_t view_id_base_ = 0;  // broadcast ids: our address and a counter
  std::uint64_t view_seq_ = 0;
  std::vector<std::string> stream_peer_names_;  // set_stream_peer_names, for one on_stream
  std::uint64_t stream_identity_refused_ = 0;
  /// True unless stream_peer_names_ is set and `message` claims another sender (node_tls.cc).
  bool stream_identity_ok(std::span<const std::byte> message) const;

  Result<MessageId> view_broadcast(Time now, std::span<const std::byte> payload, Effects& fx);
  void route_state_frames(Time now, const Address& from, std::span<const std::byte> bytes,
                          Effects& fx);
};

}  // namespace grapevine
