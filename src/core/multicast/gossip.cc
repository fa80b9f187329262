#include "core/multicast/gossip.h"

#include <algorithm>
#include <array>

#include "core/multicast/sender.h"
#include "core/targets.h"
#include "util/assert.h"

namespace grapevine::detail {

GossipMulticast::GossipMulticast(const MulticastConfig& config, const Group& group,
                                 std::uint32_t self_index, std::uint64_t seed)
    : config_(config),
      group_(group),
      self_(self_index),
      node_id_(node_id_of(group.address(self_index))),
      rng_(seed),
      push_(config.protocol != MulticastProtocolKind::pull),
      pull_(config.protocol != MulticastProtocolKind::push) {
  GV_ASSERT(self_index < group.size());
}

bool GossipMulticast::wants_feedback() const noexcept {
  return push_ && config_.feedback &&
         (config_.stop == StopRule::counter || config_.stop == StopRule::coin);
}

bool GossipMulticast::quiescent() const noexcept {
  return std::none_of(store_.all().begin(), store_.all().end(),
                      [](const StoredMessage& m) { return m.spread != Spread::removed; });
}

Result<MessageId> GossipMulticast::multicast(Time /*now*/, std::span<const std::byte> payload,
                                             Effects& fx) {
  if (payload.size() > wire::kMulticastPayloadBytesMax) {
    return make_error(Errc::too_large, "payload over kMulticastPayloadBytesMax");
  }
  if (group_.size() < 2) return make_error(Errc::not_ready, "group has no other member");
  MessageId id{node_id_, next_seq_++};
  // The origin is infective at once: it pushes at its next tick.
  StoredMessage& m = store_.add(id, payload, 0, tick_, Spread::infective);
  emit_delivered(fx, stats_, m);
  return id;
}

void GossipMulticast::on_timeout(Time now, Effects& fx) {
  if (!ticker_.started()) {
    ticker_.start(now, config_.period, config_.random_phase, rng_);
    return;
  }
  if (!ticker_.due(now)) return;
  ticker_.advance(now, config_.period, config_.period_jitter, rng_);
  tick(fx);
}

void GossipMulticast::tick(Effects& fx) {
  ++tick_;
  start_of_tick();
  if (push_) push_round(fx);
  if (pull_) pull_round(fx);
  store_.expire(tick_, config_.retention_periods);
}

// Fresh messages become infective; pure pull settles the per-tick counter bookkeeping.
void GossipMulticast::start_of_tick() {
  const bool pull_counting = !push_ && (config_.stop == StopRule::counter ||
                                        config_.stop == StopRule::coin);
  for (StoredMessage& m : store_.all()) {
    if (m.spread == Spread::fresh) m.spread = Spread::infective;
    if (pull_counting && m.spread == Spread::infective) {
      if (m.necessary_this_tick) {
        m.counter = 0;
      } else if (m.unnecessary_this_tick) {
        unnecessary_contact(m);
      }
    }
    m.necessary_this_tick = m.unnecessary_this_tick = false;
  }
}

void GossipMulticast::push_round(Effects& fx) {
  std::array<StoredMessage*, 64> infective;
  std::size_t count = 0;
  for (StoredMessage& m : store_.all()) {
    if (m.spread == Spread::infective && count < infective.size()) infective[count++] = &m;
  }
  if (count == 0) return;
  std::uint32_t fanout = config_.fanout;
  if (config_.fanout_poisson_mean > 0.0) fanout = rng_.poisson(config_.fanout_poisson_mean);
  fanout = std::min(fanout, kFanoutMax);
  std::array<std::uint32_t, kFanoutMax> targets;
  std::uint32_t n = pick_targets(group_, self_, config_.topology_aware, rng_,
                                 std::span(targets.data(), fanout));
  auto batch = std::span(infective.data(), count);
  for (std::uint32_t t = 0; t < n; ++t) {
    send_data(fx, stats_, group_.address(targets[t]), batch, wire::kDataPush,
              config_.packet_budget_bytes);
  }
  for (StoredMessage* m : batch) after_push_sends(*m, n);
}

// Stop rules that act on the sender's own count of sends.
void GossipMulticast::after_push_sends(StoredMessage& m, std::uint32_t sends) {
  ++m.rounds_spread;
  switch (config_.stop) {
    case StopRule::none:
      break;
    case StopRule::rounds:
      if (m.rounds_spread >= config_.stop_rounds) m.spread = Spread::removed;
      break;
    case StopRule::infect_and_die:
      m.spread = Spread::removed;
      break;
    case StopRule::counter:
      if (!config_.feedback) {
        m.counter += sends;
        if (m.counter >= config_.stop_k) m.spread = Spread::removed;
      }
      break;
    case StopRule::coin:
      if (!config_.feedback) {
        for (std::uint32_t i = 0; i < sends && m.spread != Spread::removed; ++i) {
          if (rng_.below(config_.stop_k) == 0) m.spread = Spread::removed;
        }
      }
      break;
  }
}

void GossipMulticast::unnecessary_contact(StoredMessage& m) {
  if (config_.stop == StopRule::counter) {
    if (++m.counter >= config_.stop_k) m.spread = Spread::removed;
  } else if (config_.stop == StopRule::coin) {
    if (rng_.below(config_.stop_k) == 0) m.spread = Spread::removed;
  }
}

bool GossipMulticast::spreading() const noexcept {
  return std::any_of(store_.all().begin(), store_.all().end(),
                     [](const StoredMessage& m) { return m.spread == Spread::infective; });
}

void GossipMulticast::pull_round(Effects& fx) {
  if (!config_.pull_when_idle && !spreading()) return;  // nothing to spread: silence
  std::array<std::uint32_t, kFanoutMax> targets;
  std::uint32_t want = std::min(config_.pull_fanout, kFanoutMax);
  std::uint32_t n = pick_targets(group_, self_, config_.topology_aware, rng_,
                                 std::span(targets.data(), want));
  for (std::uint32_t t = 0; t < n; ++t) send_pull_request(group_.address(targets[t]), fx);
}

void GossipMulticast::send_pull_request(const Address& to, Effects& fx) {
  std::array<MessageId, wire::kPullDigestIdsMax> digest;
  std::size_t count = 0;
  auto all = store_.all();
  for (auto it = all.rbegin(); it != all.rend() && count < digest.size(); ++it) {
    digest[count++] = it->id;  // newest first: those are the ones peers are likely to offer
  }
  send_control(fx, stats_, to, [&](wire::Writer& w) {
    return wire::write_pull_request(w, std::span(digest.data(), count));
  });
}

bool GossipMulticast::lacks_any(const wire::PullRequestFrame& f) const noexcept {
  for (std::uint32_t i = 0; i < f.count; ++i) {
    if (store_.find(f.ids[i]) == nullptr) return true;
  }
  return false;
}

void GossipMulticast::on_datagram(Time /*now*/, const Address& from,
                                  std::span<const std::byte> bytes, Effects& fx) {
  ++stats_.datagrams_received;
  wire::FrameIterator frames(bytes);
  wire::Frame frame;
  while (frames.next(frame)) {
    switch (wire::FrameType(frame.type)) {
      case wire::FrameType::data: {
        auto f = wire::decode_data(frame.body);
        if (!f) { ++stats_.malformed_received; return; }
        on_data(from, *f, fx);
        break;
      }
      case wire::FrameType::pull_request: {
        wire::PullRequestFrame f;  // decoded in place: 1 KiB not copied through a Result
        if (!wire::decode_pull_request_into(frame.body, f)) { ++stats_.malformed_received; return; }
        if (pull_) on_pull_request(from, f, fx);
        // Quiet pull: the asker holds something we lack; ask it back (once a tick).
        if (pull_ && !config_.pull_when_idle && pulled_back_tick_ != tick_ && lacks_any(f)) {
          pulled_back_tick_ = tick_;
          send_pull_request(from, fx);
        }
        break;
      }
      case wire::FrameType::feedback: {
        auto f = wire::decode_feedback(frame.body);
        if (!f) { ++stats_.malformed_received; return; }
        on_feedback(*f);
        break;
      }
      default:
        if (!wire::other_component(frame.type, wire::FrameFamily::multicast)) ++stats_.unknown_frames;
    }
  }
  if (!frames.ok()) ++stats_.malformed_received;
}

void GossipMulticast::on_data(const Address& from, const wire::DataFrame& f, Effects& fx) {
  ++stats_.data_received;
  StoredMessage* m = store_.find(f.id);
  bool was_new = m == nullptr || m->spread == Spread::fresh;  // news at the start of this round
  if (m != nullptr) {
    ++stats_.duplicates_received;
  } else {
    m = &store_.add(f.id, f.payload, f.hops + 1, tick_, Spread::fresh);
    emit_delivered(fx, stats_, *m);
  }
  if (f.flags == wire::kDataPush && wants_feedback()) {
    send_control(fx, stats_, from, [&](wire::Writer& w) {
      return wire::write_feedback(w, wire::FeedbackFrame{f.id, was_new});
    });
  }
}

void GossipMulticast::on_pull_request(const Address& from, const wire::PullRequestFrame& f,
                                      Effects& fx) {
  std::array<StoredMessage*, 64> reply;
  std::size_t count = 0;
  auto digest = std::span(f.ids, f.count);
  for (StoredMessage& m : store_.all()) {
    if (m.spread != Spread::infective) continue;
    if (std::find(digest.begin(), digest.end(), m.id) != digest.end()) {
      m.unnecessary_this_tick = true;
    } else if (count < reply.size()) {
      m.necessary_this_tick = true;
      reply[count++] = &m;
    }
  }
  if (count > 0) {
    send_data(fx, stats_, from, std::span(reply.data(), count), wire::kDataPullReply,
              config_.packet_budget_bytes);
  }
}

void GossipMulticast::on_feedback(const wire::FeedbackFrame& f) {
  StoredMessage* m = store_.find(f.id);
  if (m == nullptr || m->spread != Spread::infective || !config_.feedback) return;
  if (f.was_new) {
    if (config_.stop == StopRule::counter) m->counter = 0;
  } else {
    unnecessary_contact(*m);
  }
}

}  // namespace grapevine::detail
