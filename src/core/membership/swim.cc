#include "core/membership/swim.h"

#include <algorithm>
#include <vector>

#include "core/membership/membership_node.h"
#include "core/membership/suspicion.h"
#include "core/membership/suspicion_set.h"

namespace grapevine::detail {
namespace {

class SwimDetector final : public FailureDetector {
 public:
  SwimDetector(MembershipNode& node, bool lifeguard) : node_(node), lifeguard_(lifeguard) {}

  void start(Time now) override {
    ticker_.start(now, node_.config().probe_interval, node_.config().probe_random_phase,
                  node_.rng());
  }
  void stop() override {
    stopped_ = true;
    probe_.active = false;
  }
  [[nodiscard]] Time deadline() const noexcept override;
  void on_timeout(Time now, Effects& fx) override;
  void on_ping(Time now, const wire::PingFrame& f, const Address& reply_to,
               Effects& fx) override;
  void on_ping_req(Time now, const wire::PingReqFrame& f, const Address& from,
                   Effects& fx) override;
  void on_ack(Time now, std::uint32_t seq, Effects& fx) override;
  void on_nack(std::uint32_t seq) override;
  void on_stream_ack(Time now, std::uint32_t seq, Effects& fx) override;
  void on_member_added(NodeId id) override;
  bool on_suspect(Time now, NodeId id, std::uint32_t incarnation, NodeId from) override;
  void on_unsuspect(NodeId id) override { suspicions_.erase(id); }
  void on_refuted() override { awareness_delta(1); }
  [[nodiscard]] std::uint32_t health_score() const noexcept override { return awareness_; }

 private:
  struct Probe {
    bool active = false;
    bool indirect_sent = false;
    NodeId target = 0;
    Address address;
    std::uint32_t seq = 0;
    Time direct_deadline, end;
    std::uint32_t expected_nacks = 0, nacks = 0;
    bool stream_acked = false;  // the TCP fallback ping was answered
  };
  struct Relay {
    std::uint32_t my_seq, orig_seq;
    Address requester;
    Time deadline;
    bool want_nack;
  };

  void start_probe(Time now, Effects& fx);
  bool next_target(NodeId& out);
  void send_indirect(Effects& fx);
  void finish_failed_probe(Time now, Effects& fx);
  void fire_relays(Time now, Effects& fx);
  void fire_suspicions(Time now, Effects& fx);
  void awareness_delta(int d) {
    if (!lifeguard_) return;
    const int max = int(std::max<std::uint32_t>(node_.config().awareness_max, 1)) - 1;
    awareness_ = std::uint32_t(std::clamp(int(awareness_) + d, 0, max));
  }

  MembershipNode& node_;
  const bool lifeguard_;
  Ticker ticker_;
  bool stopped_ = false;
  std::vector<NodeId> order_;
  std::size_t order_pos_ = 0;
  Probe probe_;
  std::uint32_t next_seq_ = 1;
  std::vector<Relay> relays_;
  SuspicionSet suspicions_;
  std::uint32_t awareness_ = 0;
};

Time SwimDetector::deadline() const noexcept {
  Time t = stopped_ ? Time::max() : ticker_.deadline();
  if (probe_.active) t = std::min(t, probe_.indirect_sent ? probe_.end : probe_.direct_deadline);
  for (const Relay& r : relays_) t = std::min(t, r.deadline);
  return std::min(t, suspicions_.deadline());
}

void SwimDetector::on_timeout(Time now, Effects& fx) {
  fire_suspicions(now, fx);
  fire_relays(now, fx);
  if (probe_.active && !probe_.indirect_sent && now >= probe_.direct_deadline) send_indirect(fx);
  if (probe_.active && now >= probe_.end) finish_failed_probe(now, fx);
  if (!stopped_ && ticker_.due(now)) {
    ticker_.advance(now, node_.config().probe_interval, 0.0, node_.rng());
    if (!probe_.active) start_probe(now, fx);  // a probe stretched by awareness skips ticks
  }
}

bool SwimDetector::next_target(NodeId& out) {
  MemberList& list = node_.list();
  for (std::size_t tries = 0; tries < 2 * order_.size() + 2; ++tries) {
    if (order_pos_ >= order_.size()) {
      // Wrap: a fresh random order of the live members (SWIM's round-robin probing).
      order_.clear();
      for (std::uint32_t i = 1; i < list.live_size(); ++i) {
        order_.push_back(list.at(list.live_slot(i)).id);
      }
      node_.rng().shuffle(std::span(order_));
      order_pos_ = 0;
      if (order_.empty()) return false;
    }
    NodeId id = order_[order_pos_++];
    std::uint32_t slot = list.find(id);
    if (slot == MemberList::kNone) continue;
    MemberState s = list.at(slot).state;
    if (s == MemberState::alive || s == MemberState::suspect) {
      out = id;
      return true;
    }
  }
  return false;
}

void SwimDetector::on_member_added(NodeId id) {
  order_.push_back(id);
  std::size_t k = node_.rng().below(order_.size());
  std::swap(order_[k], order_.back());
}

void SwimDetector::start_probe(Time now, Effects& fx) {
  NodeId target;
  if (!next_target(target)) return;
  const MemberRecord& r = node_.list().at(node_.list().find(target));
  const MembershipConfig& c = node_.config();
  probe_ = Probe{};
  probe_.active = true;
  probe_.target = target;
  probe_.address = r.address;
  probe_.seq = next_seq_++;
  probe_.direct_deadline = now + c.probe_timeout;
  probe_.end = now + c.probe_interval * std::int64_t(awareness_ + 1);
  ++node_.mutable_stats().probes;
  const bool buddy = lifeguard_ && r.state == MemberState::suspect;
  const wire::AccuseFrame accusation{target, r.incarnation, node_.self_id()};
  // Buddy system: a ping to a suspect carries the suspicion, so it can refute at once.
  node_.send_ping(fx, r.address, wire::PingFrame{probe_.seq, target, node_.self_id()},
                  buddy ? &accusation : nullptr);
}

void SwimDetector::send_indirect(Effects& fx) {
  probe_.indirect_sent = true;
  MemberList& list = node_.list();
  const std::uint32_t k = node_.config().indirect_checks;
  std::vector<std::uint32_t> helpers;
  const std::uint32_t live = list.live_size();
  for (std::uint32_t attempt = 0; helpers.size() < k && attempt < 4 * k && live > 2; ++attempt) {
    auto i = 1 + std::uint32_t(node_.rng().below(live - 1));
    std::uint32_t slot = list.live_slot(i);
    const MemberRecord& r = list.at(slot);
    if (r.state != MemberState::alive || r.id == probe_.target) continue;
    if (std::find(helpers.begin(), helpers.end(), slot) != helpers.end()) continue;
    helpers.push_back(slot);
  }
  const wire::PingReqFrame req{probe_.seq, probe_.target, probe_.address, lifeguard_};
  for (std::uint32_t slot : helpers) {
    node_.send_ping_req(fx, list.at(slot).address, req);
    ++node_.mutable_stats().indirect_probes;
  }
  probe_.expected_nacks = lifeguard_ ? std::uint32_t(helpers.size()) : 0;
  // memberlist: a TCP ping in parallel with the indirect probes, answered on its stream; the
  // answer counts only at the end of the probe, so relayed acks still get their chance.
  node_.send_stream_ping(fx, probe_.target,
                         wire::PingFrame{probe_.seq, probe_.target, node_.self_id()});
}

void SwimDetector::finish_failed_probe(Time now, Effects& fx) {
  probe_.active = false;
  if (probe_.stream_acked) {
    // Reached over TCP only (memberlist logs "UDP probes failed, network may be
    // misconfigured"): not suspected, and a success for local health, as in memberlist.
    awareness_delta(-1);
    return;
  }
  ++node_.mutable_stats().probes_failed;
  // Lifeguard: missing nacks say "it may be me"; with no helper to ask, any failure counts.
  if (probe_.expected_nacks > 0) {
    if (probe_.nacks < probe_.expected_nacks) {
      awareness_delta(int(probe_.expected_nacks - probe_.nacks));
    }
  } else {
    awareness_delta(1);
  }
  node_.suspect(now, probe_.target, fx);
}

void SwimDetector::on_ack(Time /*now*/, std::uint32_t seq, Effects& fx) {
  if (probe_.active && seq == probe_.seq) {
    probe_.active = false;
    awareness_delta(-1);
    return;
  }
  for (std::size_t i = 0; i < relays_.size(); ++i) {
    if (relays_[i].my_seq != seq) continue;
    Relay r = relays_[i];
    relays_.erase(relays_.begin() + std::ptrdiff_t(i));
    node_.send_ack(fx, r.requester, r.orig_seq);
    return;
  }
}

void SwimDetector::on_nack(std::uint32_t seq) {
  if (probe_.active && seq == probe_.seq) {
    ++probe_.nacks;
    ++node_.mutable_stats().nacks_received;
  }
}

void SwimDetector::on_stream_ack(Time /*now*/, std::uint32_t seq, Effects& /*fx*/) {
  if (probe_.active && seq == probe_.seq && !probe_.stream_acked) {
    probe_.stream_acked = true;
    ++node_.mutable_stats().stream_ping_acks;
  }
}

void SwimDetector::on_ping(Time /*now*/, const wire::PingFrame& f, const Address& reply_to,
                           Effects& fx) {
  if (f.target != 0 && f.target != node_.self_id()) return;  // meant for another node
  node_.send_ack(fx, reply_to, f.seq);
}

void SwimDetector::on_ping_req(Time now, const wire::PingReqFrame& f, const Address& from,
                               Effects& fx) {
  const std::uint32_t seq = next_seq_++;
  relays_.push_back(Relay{seq, f.seq, from, now + node_.config().probe_timeout, f.want_nack});
  node_.send_ping(fx, f.target_address, wire::PingFrame{seq, f.target, node_.self_id()},
                  nullptr);
}

void SwimDetector::fire_relays(Time now, Effects& fx) {
  for (std::size_t i = 0; i < relays_.size();) {
    if (relays_[i].deadline > now) {
      ++i;
      continue;
    }
    Relay r = relays_[i];
    relays_.erase(relays_.begin() + std::ptrdiff_t(i));
    if (r.want_nack) node_.send_nack(fx, r.requester, r.orig_seq);
  }
}

bool SwimDetector::on_suspect(Time now, NodeId id, std::uint32_t incarnation, NodeId from) {
  if (suspicions_.find(id) != nullptr) return suspicions_.confirm(id, from);
  const MembershipConfig& c = node_.config();
  const std::size_t n = node_.list().live_size();
  std::uint32_t k = lifeguard_ && c.suspicion_mult > 2 ? c.suspicion_mult - 2 : 0;
  if (n < std::size_t(k) + 2) k = 0;  // too few members to expect that many confirmations
  Suspicion s;
  s.subject = id;
  s.incarnation = incarnation;
  s.start = now;
  s.min = suspicion_min(c.suspicion_mult, n, c.probe_interval);
  s.max = lifeguard_ ? s.min * std::int64_t(c.suspicion_max_timeout_mult) : s.min;
  s.k = k;
  s.confirmers.push_back(from);
  s.deadline = now + suspicion_timeout(s.min, s.max, k, 0);
  suspicions_.add(std::move(s));
  return true;
}

void SwimDetector::fire_suspicions(Time now, Effects& fx) {
  if (suspicions_.deadline() > now) return;
  std::vector<Suspicion> due;
  suspicions_.take_due(now, due);  // in the order they started
  for (const Suspicion& s : due) {
    const std::uint32_t slot = node_.list().find(s.subject);
    if (slot == MemberList::kNone) continue;
    const MemberRecord& r = node_.list().at(slot);
    if (r.state == MemberState::suspect && r.incarnation == s.incarnation) {
      node_.declare_failed(now, s.subject, fx);
    }
  }
}

}  // namespace

std::unique_ptr<FailureDetector> make_swim_detector(MembershipNode& node, bool lifeguard) {
  return std::make_unique<SwimDetector>(node, lifeguard);
}

}  // namespace grapevine::detail
