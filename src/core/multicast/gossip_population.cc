// GossipPopulation (gossip_population.h): GossipMulticast's algorithm over flat per-node state.
// Each function mirrors the GossipMulticast function of the same name (gossip.cc), including
// the order of every random draw; keep the two in step.
#include "core/multicast/gossip_population.h"

#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <new>

#include "core/multicast/sender.h"
#include "core/targets.h"
#include "util/assert.h"

namespace grapevine::detail {

namespace {

constexpr std::size_t kHugePage = std::size_t(2) << 20;

// One block for all members; huge pages when the kernel allows them (THP "madvise"), so a random
// member costs one TLB entry per 32,768 members rather than one per 64.
GossipMember* allocate_members(std::size_t count, std::size_t& bytes) {
  bytes = (count * sizeof(GossipMember) + kHugePage - 1) / kHugePage * kHugePage;
  void* p = std::aligned_alloc(kHugePage, bytes);
  if (p == nullptr) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
  (void)madvise(p, bytes, MADV_HUGEPAGE);  // a hint: no huge pages is only slower
#endif
  return static_cast<GossipMember*>(p);
}

}  // namespace

// ---- the population -------------------------------------------------------------------------

GossipPopulation::GossipPopulation(const MulticastConfig& config, const Group& group,
                                   std::uint64_t seed)
    : config_(config), group_(group), size_(group.size()),
      push_(config.protocol != MulticastProtocolKind::pull),
      pull_(config.protocol != MulticastProtocolKind::push) {
  GV_ASSERT(config.protocol == MulticastProtocolKind::push ||
            config.protocol == MulticastProtocolKind::pull ||
            config.protocol == MulticastProtocolKind::pushpull);
  const bool counting = config.stop == StopRule::counter || config.stop == StopRule::coin;
  wants_feedback_ = push_ && config.feedback && counting;
  pull_counting_ = !push_ && counting;
  if (config.stop == StopRule::counter) counter_.assign(size_, 0);
  if (config.stop == StopRule::rounds) rounds_spread_.assign(size_, 0);
  if (config.retention_periods > 0) received_tick_.assign(size_, 0);
  if (pull_ && !config.pull_when_idle) pulled_back_tick_.assign(size_, UINT32_MAX);
  members_ = allocate_members(size_, block_bytes_);
  for (std::uint32_t i = 0; i < size_; ++i) new (&members_[i]) GossipMember(*this, derive_seed(seed, i + 1));
}

GossipPopulation::~GossipPopulation() {
  for (std::uint32_t i = 0; i < size_; ++i) members_[i].~GossipMember();
  std::free(members_);
}

Result<MessageId> GossipPopulation::multicast(std::uint32_t origin,
                                              std::span<const std::byte> payload, Effects& fx) {
  if (payload.size() > wire::kMulticastPayloadBytesMax) {
    return make_error(Errc::too_large, "payload over kMulticastPayloadBytesMax");
  }
  if (group_.size() < 2) return make_error(Errc::not_ready, "group has no other member");
  if (has_message_) return make_error(Errc::invalid_argument, "a population carries one message");
  GV_ASSERT(origin < size_);
  // A member's first multicast is sequence 1 of its node id, as in GossipMulticast.
  has_message_ = true;
  id_ = MessageId{node_id_of(group_.address(origin)), 1};
  payload_.assign(payload.begin(), payload.end());
  members_[origin].store(0, GossipMember::kInfective, fx);  // infective at once
  return id_;
}

bool GossipPopulation::quiescent(std::uint32_t i) const noexcept {
  const auto s = members_[i].state_;
  return s == GossipMember::kNone || s == GossipMember::kRemoved;
}

bool GossipPopulation::has(std::uint32_t i, const MessageId& id) const noexcept {
  return members_[i].holds() && id == id_;
}

void GossipPopulation::set_stripes(std::uint32_t stripes) {
  GV_ASSERT(stripes >= 1);
  stripes_.assign(stripes, Stripe{});
  stripe_nodes_ = stripes == 1 ? UINT32_MAX : std::max<std::uint32_t>(1, (size_ + stripes - 1) / stripes);
}

MulticastStats GossipPopulation::total_stats() const noexcept {
  MulticastStats t = member0_;
  for (const Stripe& stripe : stripes_) {
    const MulticastStats& o = stripe.others;
    t.datagrams_sent += o.datagrams_sent;
    t.bytes_sent += o.bytes_sent;
    t.data_sent += o.data_sent;
    t.control_sent += o.control_sent;
    t.datagrams_received += o.datagrams_received;
    t.data_received += o.data_received;
    t.duplicates_received += o.duplicates_received;
    t.malformed_received += o.malformed_received;
    t.unknown_frames += o.unknown_frames;
    t.delivered += o.delivered;
  }
  return t;
}

// sender.cc's send_data for the one message: one data frame, one datagram (skipped if the
// message cannot fit the budget even alone, as there).
void GossipPopulation::send_data(Effects& fx, MulticastStats& stats, const Address& to,
                                 std::uint16_t hops, std::uint8_t flags) const {
  std::array<std::byte, wire::kPacketBudgetBytesMax> buf;
  const std::size_t budget = std::min(config_.packet_budget_bytes, buf.size());
  wire::Writer w(std::span<std::byte>(buf.data(), budget));
  wire::begin_datagram(w);
  if (!wire::write_data(w, wire::DataFrame{id_, hops, flags, payload_})) return;
  fx.send(to, w.written());
  ++stats.datagrams_sent;
  stats.data_sent += 1;
  stats.bytes_sent += w.size();
}

// ---- a member -------------------------------------------------------------------------------

std::uint32_t GossipMember::self() const noexcept {
  return std::uint32_t(this - population_->members_);
}

MulticastStats& GossipMember::stats() noexcept {
  if (this == population_->members_) return population_->member0_;
  return population_->stripe_of(self()).others;
}

void GossipMember::store(std::uint32_t hops, State state, Effects& fx) {
  GV_ASSERT(hops <= UINT16_MAX);
  GossipPopulation& p = *population_;
  state_ = state;
  flags_ = 0;
  hops_ = std::uint16_t(hops);
  const std::uint32_t i = self();
  if (!p.counter_.empty()) p.counter_[i] = 0;
  if (!p.rounds_spread_.empty()) p.rounds_spread_[i] = 0;
  if (!p.received_tick_.empty()) p.received_tick_[i] = tick_;
  Event e;
  e.kind = EventKind::delivered;
  e.message = p.id_;
  e.payload = p.payload_;
  e.hops = hops;
  ++stats().delivered;
  fx.emit(e);
}

void GossipMember::on_timeout(Time now, Effects& fx) {
  const MulticastConfig& c = population_->config_;
  if (next_ == 0) {  // Ticker::start
    Duration first = c.period;
    if (c.random_phase) first = Duration::nanoseconds(rng_.between(1, c.period.ns()));
    next_ = (now + first).ns();
    return;
  }
  if (now.ns() < next_) return;
  // Ticker::advance
  Duration step = c.period;
  if (c.period_jitter > 0.0) {
    auto spread = std::int64_t(double(c.period.ns()) * c.period_jitter);
    step = Duration::nanoseconds(c.period.ns() + rng_.between(-spread, spread));
  }
  next_ += step.ns();
  if (next_ <= now.ns()) next_ = (now + step).ns();
  tick(fx);
}

void GossipMember::tick(Effects& fx) {
  GossipPopulation& p = *population_;
  ++tick_;
  start_of_tick();
  if (p.push_) push_round(fx);
  if (p.pull_) pull_round(fx);
  // MessageStore::expire
  const std::uint32_t periods = p.config_.retention_periods;
  if (periods > 0 && holds() && tick_ - p.received_tick_[self()] > periods) state_ = kNone;
}

void GossipMember::start_of_tick() {
  if (state_ == kFresh) state_ = kInfective;
  if (population_->pull_counting_ && state_ == kInfective) {
    if (flags_ & kNecessary) {
      if (!population_->counter_.empty()) population_->counter_[self()] = 0;
    } else if (flags_ & kUnnecessary) {
      unnecessary_contact();
    }
  }
  flags_ = 0;
}

void GossipMember::push_round(Effects& fx) {
  if (state_ != kInfective) return;
  GossipPopulation& p = *population_;
  const MulticastConfig& c = p.config_;
  std::uint32_t fanout = c.fanout;
  if (c.fanout_poisson_mean > 0.0) fanout = rng_.poisson(c.fanout_poisson_mean);
  fanout = std::min(fanout, kFanoutMax);
  std::array<std::uint32_t, kFanoutMax> targets;
  std::uint32_t n = pick_targets(p.group_, self(), c.topology_aware, rng_,
                                 std::span(targets.data(), fanout));
  MulticastStats& s = stats();
  for (std::uint32_t t = 0; t < n; ++t) {
    p.send_data(fx, s, p.group_.address(targets[t]), hops_, wire::kDataPush);
  }
  after_push_sends(n);
}

void GossipMember::after_push_sends(std::uint32_t sends) {
  GossipPopulation& p = *population_;
  const MulticastConfig& c = p.config_;
  switch (c.stop) {
    case StopRule::none:
      break;
    case StopRule::rounds:
      if (++p.rounds_spread_[self()] >= c.stop_rounds) state_ = kRemoved;
      break;
    case StopRule::infect_and_die:
      state_ = kRemoved;
      break;
    case StopRule::counter:
      if (!c.feedback) {
        std::uint32_t& counter = p.counter_[self()];
        counter += sends;
        if (counter >= c.stop_k) state_ = kRemoved;
      }
      break;
    case StopRule::coin:
      if (!c.feedback) {
        for (std::uint32_t i = 0; i < sends && state_ != kRemoved; ++i) {
          if (rng_.below(c.stop_k) == 0) state_ = kRemoved;
        }
      }
      break;
  }
}

void GossipMember::unnecessary_contact() {
  const MulticastConfig& c = population_->config_;
  if (c.stop == StopRule::counter) {
    if (++population_->counter_[self()] >= c.stop_k) state_ = kRemoved;
  } else if (c.stop == StopRule::coin) {
    if (rng_.below(c.stop_k) == 0) state_ = kRemoved;
  }
}

void GossipMember::pull_round(Effects& fx) {
  GossipPopulation& p = *population_;
  if (!p.config_.pull_when_idle && state_ != kInfective) return;  // nothing to spread: silence
  std::array<std::uint32_t, kFanoutMax> targets;
  std::uint32_t want = std::min(p.config_.pull_fanout, kFanoutMax);
  std::uint32_t n = pick_targets(p.group_, self(), p.config_.topology_aware, rng_,
                                 std::span(targets.data(), want));
  for (std::uint32_t t = 0; t < n; ++t) send_pull_request(p.group_.address(targets[t]), fx);
}

void GossipMember::send_pull_request(const Address& to, Effects& fx) {
  const MessageId* ids = &population_->id_;
  const std::size_t count = holds() ? 1 : 0;
  send_control(fx, stats(), to, [&](wire::Writer& w) {
    return wire::write_pull_request(w, std::span(ids, count));
  });
}

bool GossipMember::lacks_any(const wire::PullRequestFrame& f) const noexcept {
  for (std::uint32_t i = 0; i < f.count; ++i) {
    if (!holds() || !(f.ids[i] == population_->id_)) return true;
  }
  return false;
}

void GossipMember::on_datagram(Time /*now*/, const Address& from,
                               std::span<const std::byte> bytes, Effects& fx) {
  GossipPopulation& p = *population_;
  MulticastStats& s = stats();
  ++s.datagrams_received;
  wire::FrameIterator frames(bytes);
  wire::Frame frame;
  while (frames.next(frame)) {
    switch (wire::FrameType(frame.type)) {
      case wire::FrameType::data: {
        auto f = wire::decode_data(frame.body);
        if (!f) { ++s.malformed_received; return; }
        on_data(from, *f, fx);
        break;
      }
      case wire::FrameType::pull_request: {
        wire::PullRequestFrame& f = p.stripe_of(self()).scratch;
        if (!wire::decode_pull_request_into(frame.body, f)) { ++s.malformed_received; return; }
        if (p.pull_) on_pull_request(from, f, fx);
        if (p.pull_ && !p.config_.pull_when_idle) {  // quiet pull: ask the asker back
          std::uint32_t& asked = p.pulled_back_tick_[self()];
          if (asked != tick_ && lacks_any(f)) {
            asked = tick_;
            send_pull_request(from, fx);
          }
        }
        break;
      }
      case wire::FrameType::feedback: {
        auto f = wire::decode_feedback(frame.body);
        if (!f) { ++s.malformed_received; return; }
        on_feedback(*f);
        break;
      }
      default:
        if (!wire::other_component(frame.type, wire::FrameFamily::multicast)) ++s.unknown_frames;
    }
  }
  if (!frames.ok()) ++s.malformed_received;
}

void GossipMember::on_data(const Address& from, const wire::DataFrame& f, Effects& fx) {
  GossipPopulation& p = *population_;
  ++stats().data_received;
  // The population's one message, byte for byte (see the header's limits).
  GV_ASSERT(p.has_message_ && f.id == p.id_ && f.payload.size() == p.payload_.size() &&
            std::memcmp(f.payload.data(), p.payload_.data(), p.payload_.size()) == 0);
  const bool was_new = state_ == kNone || state_ == kFresh;  // news at the start of this round
  if (holds()) {
    ++stats().duplicates_received;
  } else {
    store(f.hops + 1, kFresh, fx);
  }
  if (f.flags == wire::kDataPush && p.wants_feedback_) {
    send_control(fx, stats(), from, [&](wire::Writer& w) {
      return wire::write_feedback(w, wire::FeedbackFrame{f.id, was_new});
    });
  }
}

void GossipMember::on_pull_request(const Address& from, const wire::PullRequestFrame& f,
                                   Effects& fx) {
  if (state_ != kInfective) return;
  const MessageId& id = population_->id_;
  auto digest = std::span(f.ids, f.count);
  if (std::find(digest.begin(), digest.end(), id) != digest.end()) {
    flags_ |= kUnnecessary;
  } else {
    flags_ |= kNecessary;
    population_->send_data(fx, stats(), from, hops_, wire::kDataPullReply);
  }
}

void GossipMember::on_feedback(const wire::FeedbackFrame& f) {
  GossipPopulation& p = *population_;
  if (!holds() || !(f.id == p.id_) || state_ != kInfective || !p.config_.feedback) return;
  if (f.was_new) {
    if (p.config_.stop == StopRule::counter) p.counter_[self()] = 0;
  } else {
    unnecessary_contact();
  }
}

}  // namespace grapevine::detail
