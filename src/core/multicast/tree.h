// Tree multicast: data flows down a spanning tree of the group rooted at the origin, with one of
// two repair schemes.
//
// Tree. Members are laid out in index order starting at the root: position p = (index - root)
// mod N, parent (p-1)/d, children d*p+1 .. d*p+d. Every member computes the same tree from the
// same roster, so no tree-building messages are needed (a static overlay, as the lecture's
// baseline assumes). Latency is O(log_d N) hops; per-node load is d sends per message.
//
// ACK repair (after RMTP, Lin & Paul, INFOCOM 1996): each parent is the designated receiver of
// its children. A child acknowledges every data frame to its parent; the parent retransmits to a
// child that has not acknowledged within `ack_timeout`, up to `ack_retries_max` times, then
// gives the child up. Deviation: RMTP acknowledges windows with bitmaps; we acknowledge single
// messages, which costs more acks but changes nothing about who can repair whom.
//
// NACK repair (after SRM, Floyd et al., SIGCOMM 1995): no acks. The origin sends a session frame
// (its highest sequence number) down the tree every period for `session_periods` periods after a
// multicast; a member that sees a gap starts a request timer uniform in [c1*d, (c1+c2)*d]
// (d = its depth times `hop_delay`) and on expiry floods a NACK over the tree. Any holder that
// hears it starts a repair timer uniform in [d1*d', (d1+d2)*d'] (d' = hops the NACK travelled)
// and floods the repair when it fires. Hearing another member's request backs off one's own
// (exponentially); hearing a repair cancels one's own. Deviation: SRM uses IP multicast for
// requests and repairs; we flood them over the tree edges, so a failed interior node cuts its
// subtree off from repairs too, which is exactly the weakness this baseline exists to show.
#pragma once

#include <cstdint>
#include <vector>

#include "core/multicast/message_store.h"
#include "core/ticker.h"
#include "grapevine/multicast.h"
#include "util/rng.h"
#include "wire/native.h"

namespace grapevine::detail {

/// Most messages a node tracks as missing at once (NACK mode).
inline constexpr std::size_t kMissingMax = 1024;
/// Most unacknowledged (message, child) pairs a node tracks (ACK mode).
inline constexpr std::size_t kPendingAcksMax = 65536;
/// Session frames the origin sends after its last multicast (NACK mode).
inline constexpr std::uint32_t kSessionPeriods = 30;

class TreeMulticast final : public MulticastProtocol {
 public:
  TreeMulticast(const MulticastConfig& config, const Group& group, std::uint32_t self_index,
                std::uint64_t seed);

  void on_datagram(Time now, const Address& from, std::span<const std::byte> bytes,
                   Effects& fx) override;
  void on_timeout(Time now, Effects& fx) override;
  [[nodiscard]] Time next_deadline() const noexcept override;
  Result<MessageId> multicast(Time now, std::span<const std::byte> payload,
                              Effects& fx) override;
  [[nodiscard]] bool quiescent() const noexcept override;
  [[nodiscard]] bool has(const MessageId& id) const noexcept override {
    return store_.find(id) != nullptr;
  }

 private:
  struct PendingAck {
    MessageId id;
    std::uint32_t child;
    std::uint32_t retries;
    Time deadline;
  };
  struct Missing {
    MessageId id;
    Time deadline;
    std::uint32_t backoff;  // exponent of the request timer: requests sent or suppressed
    std::uint32_t sent;     // requests this member sent itself
  };
  struct RepairTimer {
    MessageId id;
    Time deadline;
  };
  struct OriginState {
    std::uint64_t origin;
    std::uint32_t root;
    std::uint32_t highest_seq;
  };

  // Tree geometry relative to a root.
  [[nodiscard]] std::uint32_t position(std::uint32_t index, std::uint32_t root) const noexcept;
  [[nodiscard]] std::uint32_t index_at(std::uint32_t pos, std::uint32_t root) const noexcept;
  [[nodiscard]] std::uint32_t depth(std::uint32_t root) const noexcept;
  /// Tree neighbours of this node (parent first, then children) in the tree rooted at `root`.
  std::uint32_t neighbours(std::uint32_t root, std::uint32_t* out, bool children_only) const;
  OriginState* origin_state(std::uint64_t origin);

  void send_down(Time now, const StoredMessage& m, std::uint32_t root, Effects& fx);
  void on_data(Time now, const Address& from, const wire::DataFrame& f, Effects& fx);
  void on_ack(const Address& from, const wire::AckFrame& f);
  void on_nack(Time now, const Address& from, const wire::NackFrame& f, Effects& fx);
  void on_session(Time now, const Address& from, const wire::SessionFrame& f, Effects& fx);
  void note_highest(Time now, OriginState& o, std::uint32_t seq);
  void flood(const Address& except, std::uint32_t root, const StoredMessage* repair,
             const wire::NackFrame* nack, Effects& fx);
  Duration uniform(double lo, double hi, Duration unit);
  void fire_acks(Time now, Effects& fx);
  void fire_requests(Time now, Effects& fx);
  void fire_repairs(Time now, Effects& fx);
  /// Floods `m` as a repair unless this node already passed this episode's repair on.
  void forward_repair(const Address& except, std::uint32_t root, const StoredMessage& m,
                      Effects& fx);

  const MulticastConfig& config_;
  const Group& group_;
  std::uint32_t self_;
  std::uint64_t node_id_;
  bool nack_mode_;
  Rng rng_;
  Ticker session_ticker_;
  std::uint32_t session_left_ = 0;
  std::uint32_t next_seq_ = 1;
  MessageStore store_;
  std::vector<PendingAck> pending_;
  std::vector<Missing> missing_;
  std::vector<RepairTimer> repairs_;
  std::vector<OriginState> origins_;
  /// Repairs this node has flooded or passed on since the last NACK for the same id: a repair
  /// crosses each tree edge once per request episode.
  std::vector<MessageId> forwarded_repairs_;
};

}  // namespace grapevine::detail
