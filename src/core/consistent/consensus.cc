// Fast Paxos with a classic fallback; the protocol is described in consensus.h.
#include "core/consistent/consensus.h"

#include <algorithm>
#include <bit>

#include "grapevine/group.h"

namespace grapevine::detail {

void Consensus::reset(const Configuration& config) {
  config_ = config.ref();
  proposals_.clear();
  gossip_cursor_ = 0;
  own_.clear();
  voted_ = false;
  promised_ = vrank_ = wire::Rank{0, 0};
  vval_.clear();
  has_vval_ = false;
  max_round_ = 1;
  leading_ = wire::Rank{0, 0};
  phase1b_.clear();
  leading_value_.clear();
  phase2_sent_ = false;
  phase2b_.clear();
  decided_.reset();
  decided_fast_ = false;
}

void Consensus::fill_cut(wire::RapidMessage& m, const std::vector<Address>& cut) {
  m.count = std::uint32_t(std::min(cut.size(), wire::kCutMembersMax));
  std::copy_n(cut.begin(), m.count, m.addrs);
}

Consensus::Proposal* Consensus::track(const Configuration& config,
                                      const std::vector<Address>& cut) {
  const std::uint64_t d = cut_digest(config.ref(), cut);
  auto it = proposals_.find(d);
  if (it != proposals_.end()) return &it->second;
  if (proposals_.size() >= kProposalsMax) return nullptr;
  Proposal& p = proposals_[d];
  p.cut = cut;
  p.bits.assign((config.size() + 7) / 8, 0);
  return &p;
}

void Consensus::set_bit(const Configuration& config, Proposal& p, std::uint32_t member) {
  (void)config;
  std::uint8_t& b = p.bits[member / 8];
  const auto bit = std::uint8_t(1u << (member % 8));
  if (!(b & bit)) {
    b = std::uint8_t(b | bit);
    ++p.count;
  }
}

void Consensus::check_fast(const Configuration& config, const Proposal& p) {
  if (!decided_ && p.count >= config.fast_quorum()) decide(p.cut, true);
}

bool Consensus::vote(const Configuration& config, const std::vector<Address>& cut) {
  if (voted_ || decided_ || cut.empty()) return false;
  if (own_.empty()) own_ = cut;  // offered as coordinator even if it cannot vote fast
  auto self = config.index_of(self_);
  if (!self || promised_ > kFastRank) return false;
  Proposal* p = track(config, cut);
  if (p == nullptr) return false;
  voted_ = true;
  promised_ = vrank_ = kFastRank;
  vval_ = cut;
  has_vval_ = true;
  set_bit(config, *p, *self);
  check_fast(config, *p);
  return true;
}

void Consensus::on_vote(const Configuration& config, const wire::RapidMessage& m) {
  if (decided_ || m.count == 0 || m.bitmap_bytes != (config.size() + 7) / 8) return;
  std::vector<Address> cut(m.addrs, m.addrs + m.count);
  std::vector<Address> canon = cut;
  canonical_cut(canon);
  if (canon != cut) return;  // not canonical: refuse rather than guess
  Proposal* p = track(config, cut);
  if (p == nullptr) return;
  for (std::uint32_t i = 0; i < m.bitmap_bytes; ++i) {
    const auto incoming = std::to_integer<std::uint8_t>(m.bitmap[i]);
    const auto added = std::uint8_t(incoming & ~p->bits[i]);
    if (added == 0) continue;
    // Bits past the last member are malformed; ignore them.
    for (std::uint32_t b = 0; b < 8; ++b) {
      if ((added & (1u << b)) && i * 8 + b < config.size()) set_bit(config, *p, i * 8 + b);
    }
  }
  check_fast(config, *p);
}

const std::vector<Address>* Consensus::most_voted() const noexcept {
  const Proposal* best = nullptr;
  for (const auto& [d, p] : proposals_) {
    if (best == nullptr || p.count > best->count) best = &p;
  }
  return best == nullptr ? nullptr : &best->cut;
}

bool Consensus::next_gossip(const Configuration& config, wire::RapidMessage& out) {
  if (proposals_.empty()) return false;
  auto it = proposals_.upper_bound(gossip_cursor_);
  if (it == proposals_.end()) it = proposals_.begin();
  gossip_cursor_ = it->first;
  out.type = wire::RapidFrame::vote;
  out.config = config.ref();
  fill_cut(out, it->second.cut);
  out.bitmap_bytes = std::uint32_t(it->second.bits.size());
  for (std::size_t i = 0; i < it->second.bits.size(); ++i) out.bitmap[i] = std::byte(it->second.bits[i]);
  return true;
}

void Consensus::start_classic(const Configuration& config) {
  if (decided_) return;
  max_round_ = std::max(max_round_, promised_.round) + 1;
  leading_ = wire::Rank{max_round_, node_id_of(self_)};
  phase1b_.clear();
  phase2b_.clear();
  phase2_sent_ = false;
  ++classic_started_;
  scratch_.type = wire::RapidFrame::phase1a;
  scratch_.config = config.ref();
  scratch_.rank = leading_;
  host_.send_to_members(scratch_);
  on_phase1a(config, self_, scratch_);  // this member is an acceptor too
}

void Consensus::on_phase1a(const Configuration& config, const Address& from,
                           const wire::RapidMessage& m) {
  max_round_ = std::max(max_round_, m.rank.round);
  if (decided_ || m.rank <= promised_ || m.rank.round < 2) return;
  promised_ = m.rank;
  scratch_.type = wire::RapidFrame::phase1b;
  scratch_.config = config.ref();
  scratch_.rank = m.rank;
  scratch_.vrank = has_vval_ ? vrank_ : wire::Rank{0, 0};
  fill_cut(scratch_, has_vval_ ? vval_ : std::vector<Address>{});
  if (from == self_) on_phase1b(config, self_, scratch_);
  else host_.send_to(from, scratch_);
}

void Consensus::on_phase1b(const Configuration& config, const Address& from,
                           const wire::RapidMessage& m) {
  if (decided_ || m.rank != leading_ || phase2_sent_) return;
  auto idx = config.index_of(from);
  if (!idx) return;
  phase1b_[*idx] = Reply{m.vrank, std::vector<Address>(m.addrs, m.addrs + m.count)};
  if (phase1b_.size() < config.classic_quorum()) return;
  auto value = choose_value(config);
  if (!value) return;
  phase2_sent_ = true;
  leading_value_ = *value;
  scratch_.type = wire::RapidFrame::phase2a;
  scratch_.config = config.ref();
  scratch_.rank = leading_;
  fill_cut(scratch_, leading_value_);
  host_.send_to_members(scratch_);
  on_phase2a(config, self_, scratch_);
}

std::optional<std::vector<Address>> Consensus::choose_value(const Configuration& config) const {
  const Reply* best = nullptr;
  for (const auto& [i, r] : phase1b_) {
    if (r.vval.empty()) continue;
    if (best == nullptr || r.vrank > best->vrank) best = &r;
  }
  if (best != nullptr && best->vrank.round >= 2) return best->vval;
  // Fast-round values: count each in Q.
  std::map<std::uint64_t, std::pair<std::uint32_t, const std::vector<Address>*>> counts;
  for (const auto& [i, r] : phase1b_) {
    if (r.vval.empty() || r.vrank != kFastRank) continue;
    auto& c = counts[cut_digest(config.ref(), r.vval)];
    ++c.first;
    c.second = &r.vval;
  }
  const std::uint32_t q = std::uint32_t(phase1b_.size());
  const std::vector<Address>* most = nullptr;
  std::uint32_t most_n = 0;
  for (const auto& [d, c] : counts) {
    if (c.first + config.fast_slack() >= q) return *c.second;  // may have been decided
    if (c.first > most_n) most_n = c.first, most = c.second;
  }
  if (most != nullptr) return *most;
  if (!own_.empty()) return own_;
  return std::nullopt;
}

void Consensus::on_phase2a(const Configuration& config, const Address& from,
                           const wire::RapidMessage& m) {
  max_round_ = std::max(max_round_, m.rank.round);
  if (decided_ || m.rank < promised_ || m.rank.round < 2 || m.count == 0) return;
  promised_ = vrank_ = m.rank;
  vval_.assign(m.addrs, m.addrs + m.count);
  has_vval_ = true;
  scratch_.type = wire::RapidFrame::phase2b;
  scratch_.config = config.ref();
  scratch_.rank = m.rank;
  scratch_.digest = cut_digest(config.ref(), vval_);
  if (from == self_) on_phase2b(config, self_, scratch_);
  else host_.send_to(from, scratch_);
}

void Consensus::on_phase2b(const Configuration& config, const Address& from,
                           const wire::RapidMessage& m) {
  if (decided_ || m.rank != leading_ || !phase2_sent_) return;
  if (m.digest != cut_digest(config.ref(), leading_value_)) return;
  auto idx = config.index_of(from);
  if (!idx) return;
  phase2b_[*idx] = true;
  if (phase2b_.size() < config.classic_quorum()) return;
  decide(leading_value_, false);
  scratch_.type = wire::RapidFrame::decision;
  scratch_.config = config.ref();
  fill_cut(scratch_, leading_value_);
  host_.send_to_members(scratch_);
}

void Consensus::on_decision(const wire::RapidMessage& m) {
  if (decided_ || m.count == 0) return;
  decide(std::vector<Address>(m.addrs, m.addrs + m.count), false);
}

void Consensus::decide(std::vector<Address> cut, bool fast) {
  decided_ = std::move(cut);
  decided_fast_ = fast;
}

}  // namespace grapevine::detail
