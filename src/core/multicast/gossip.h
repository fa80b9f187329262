// Epidemic multicast: push, pull and push-pull gossip.
//
// Algorithm. Every `period` each node ticks. Messages received since the last tick become
// infective at the tick (so a synchronous run matches the analyses' rounds exactly: a node
// infected in round r spreads from round r+1). Then:
//  - push: pick b targets (uniform, or topology-aware) and send them every infective message;
//  - pull: pick `pull_fanout` peers and send "anything new?" with the ids this node holds; a peer
//    answers with the infective messages missing from that digest.
// Push-pull does both each tick.
//
// Papers. Demers et al., "Epidemic algorithms for replicated database maintenance", PODC 1987
// (push/pull/push-pull, rumor mongering with counter/coin and feedback/blind stop rules);
// Pittel 1987 and Karp et al. FOCS 2000 (rounds); Kermarrec, Massoulie, Ganesh, TPDS 2003
// (infect-and-die with Poisson fanout); Gupta's lecture (topology-aware 1/n_i rule).
//
// Stop-rule semantics (they change Demers' residues by ~30%, so they are written down):
//  - a push is "necessary" if the receiver did not hold the message at its last tick; with
//    feedback the receiver says so in a feedback frame;
//  - counter counts consecutive unnecessary contacts and resets on a necessary one;
//  - blind counter stops after k sends; blind coin stops with probability 1/k after each send;
//  - in pure pull mode a counter rises once per tick in which the node served no necessary
//    request but at least one unnecessary one, and resets after a tick with a necessary one.
// A removed message is neither pushed nor served to pulls.
// With pull_when_idle off (a Node's default) a node pulls only in ticks where it holds an
// infective message, and a node that sees a request listing ids it lacks asks the asker back
// (once a tick): an idle group sends nothing, and the requests of the nodes spreading a message
// announce it to those that missed it. Deviation from Demers: a node pushes
// to b *distinct* targets per round (the papers' analyses draw targets independently).
#pragma once

#include <cstdint>

#include "core/multicast/message_store.h"
#include "core/ticker.h"
#include "grapevine/multicast.h"
#include "util/rng.h"
#include "wire/native.h"

namespace grapevine::detail {

/// Most push targets in one tick (Poisson fanouts are clipped here).
inline constexpr std::uint32_t kFanoutMax = 256;

class GossipMulticast final : public MulticastProtocol {
 public:
  /// `config` and `group` must outlive this object.
  GossipMulticast(const MulticastConfig& config, const Group& group, std::uint32_t self_index,
                  std::uint64_t seed);

  void on_datagram(Time now, const Address& from, std::span<const std::byte> bytes,
                   Effects& fx) override;
  void on_timeout(Time now, Effects& fx) override;
  [[nodiscard]] Time next_deadline() const noexcept override { return ticker_.deadline(); }
  Result<MessageId> multicast(Time now, std::span<const std::byte> payload,
                              Effects& fx) override;
  [[nodiscard]] bool quiescent() const noexcept override;
  void prefetch() const noexcept override {
    const auto* self = reinterpret_cast<const char*>(this);
    for (std::size_t at = 128; at < sizeof(*this); at += 64) __builtin_prefetch(self + at);
    store_.prefetch();
  }
  [[nodiscard]] bool has(const MessageId& id) const noexcept override {
    return store_.find(id) != nullptr;
  }

 private:
  void tick(Effects& fx);
  void start_of_tick();
  void push_round(Effects& fx);
  void pull_round(Effects& fx);
  void after_push_sends(StoredMessage& m, std::uint32_t sends);
  void on_data(const Address& from, const wire::DataFrame& f, Effects& fx);
  void on_pull_request(const Address& from, const wire::PullRequestFrame& f, Effects& fx);
  void on_feedback(const wire::FeedbackFrame& f);
  void send_pull_request(const Address& to, Effects& fx);
  [[nodiscard]] bool lacks_any(const wire::PullRequestFrame& f) const noexcept;
  [[nodiscard]] bool spreading() const noexcept;
  void unnecessary_contact(StoredMessage& m);
  [[nodiscard]] bool wants_feedback() const noexcept;

  const MulticastConfig& config_;
  const Group& group_;
  std::uint32_t self_;
  std::uint64_t node_id_;
  Rng rng_;
  Ticker ticker_;
  std::uint32_t tick_ = 0;
  std::uint32_t pulled_back_tick_ = UINT32_MAX;  // the tick of the last request asked back
  std::uint32_t next_seq_ = 1;
  bool push_;
  bool pull_;
  MessageStore store_;
};

}  // namespace grapevine::detail
