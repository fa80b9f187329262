// Fast Paxos with a classic fallback, on cut digests; the protocol is described in consensus.h.
#include "core/consistent/consensus.h"

#include <algorithm>
#include <bit>

#include "grapevine/group.h"

namespace grapevine::detail {

void Consensus::reset(const Configuration& config) {
  config_ = config.ref();
  proposals_.clear();
  known_.clear();
  gossip_cursor_ = 0;
  own_.reset();
  voted_ = false;
  promised_ = vrank_ = wire::Rank{0, 0};
  vval_.reset();
  max_round_ = 1;
  leading_ = wire::Rank{0, 0};
  phase1b_.clear();
  leading_value_ = CutRef{};
  phase2_sent_ = false;
  phase2b_.clear();
  decided_.reset();
  decided_fast_ = false;
}

std::uint64_t Consensus::learn(const Configuration& config, std::vector<Address> cut) {
  std::vector<Address> canon = cut;
  canonical_cut(canon);
  if (canon != cut || cut.empty()) return 0;  // not canonical: refuse rather than guess
  const std::uint64_t d = cut_digest(config.ref(), cut);
  if (known_.count(d) == 0 && known_.size() < kKnownMax) known_.emplace(d, std::move(cut));
  return d;
}

const std::vector<Address>* Consensus::known(std::uint64_t digest) const noexcept {
  auto it = known_.find(digest);
  return it == known_.end() ? nullptr : &it->second;
}

std::optional<std::uint32_t> Consensus::voter_of(std::uint64_t digest,
                                                 std::uint64_t pick) const noexcept {
  auto it = proposals_.find(digest);
  if (it == proposals_.end() || it->second.count == 0) return std::nullopt;
  std::uint64_t skip = pick % it->second.count;
  const auto& bits = it->second.bits;
  for (std::uint32_t i = 0; i < bits.size() * 8; ++i) {
    if ((bits[i / 8] & (1u << (i % 8))) && skip-- == 0) return i;
  }
  return std::nullopt;
}

void Consensus::fill_cut(wire::RapidMessage& m, CutRef cut) const {
  m.digest = cut.digest;
  m.total = cut.size;
  m.count = 0;
  const std::vector<Address>* list = known(cut.digest);
  if (list != nullptr && list->size() <= wire::kCutMembersMax) {
    m.count = std::uint32_t(list->size());
    std::copy(list->begin(), list->end(), m.addrs);
  }
}

// The cut a frame names: learns an inline list (it must match the digest), else trusts the
// digest and size.
std::optional<Consensus::CutRef> Consensus::read_cut(const Configuration& config,
                                                     const wire::RapidMessage& m) {
  if (m.total == 0) return std::nullopt;
  if (m.count != 0) {
    if (learn(config, std::vector<Address>(m.addrs, m.addrs + m.count)) != m.digest) {
      return std::nullopt;
    }
  }
  return CutRef{m.digest, m.total};
}

Consensus::Proposal* Consensus::track(const Configuration& config, CutRef cut) {
  auto it = proposals_.find(cut.digest);
  if (it != proposals_.end()) return &it->second;
  if (proposals_.size() >= kProposalsMax) return nullptr;
  Proposal& p = proposals_[cut.digest];
  p.size = cut.size;
  p.bits.assign((config.size() + 7) / 8, 0);
  return &p;
}

void Consensus::set_bit(Proposal& p, std::uint32_t member) {
  std::uint8_t& b = p.bits[member / 8];
  const auto bit = std::uint8_t(1u << (member % 8));
  if (!(b & bit)) {
    b = std::uint8_t(b | bit);
    ++p.count;
  }
}

void Consensus::check_fast(const Configuration& config, std::uint64_t digest, const Proposal& p) {
  if (!decided_ && p.count >= config.fast_quorum()) decide(CutRef{digest, p.size}, true);
}

bool Consensus::vote(const Configuration& config, const std::vector<Address>& cut) {
  if (voted_ || decided_ || cut.empty()) return false;
  const std::uint64_t d = learn(config, cut);
  if (d == 0) return false;
  const CutRef ref{d, std::uint32_t(cut.size())};
  if (!own_) own_ = ref;  // offered as coordinator even if it cannot vote fast
  auto self = config.index_of(self_);
  if (!self || promised_ > kFastRank) return false;
  Proposal* p = track(config, ref);
  if (p == nullptr) return false;
  voted_ = true;
  promised_ = vrank_ = kFastRank;
  vval_ = ref;
  set_bit(*p, *self);
  check_fast(config, d, *p);
  return true;
}

void Consensus::on_vote(const Configuration& config, const wire::RapidMessage& m) {
  if (decided_ || m.bitmap_bytes != (config.size() + 7) / 8) return;
  auto cut = read_cut(config, m);
  if (!cut) return;
  Proposal* p = track(config, *cut);
  if (p == nullptr || p->size != cut->size) return;
  for (std::uint32_t i = 0; i < m.bitmap_bytes; ++i) {
    const auto incoming = std::to_integer<std::uint8_t>(m.bitmap[i]);
    const auto added = std::uint8_t(incoming & ~p->bits[i]);
    if (added == 0) continue;
    // Bits past the last member are malformed; ignore them.
    for (std::uint32_t b = 0; b < 8; ++b) {
      if ((added & (1u << b)) && i * 8 + b < config.size()) set_bit(*p, i * 8 + b);
    }
  }
  check_fast(config, cut->digest, *p);
}

std::optional<Consensus::CutRef> Consensus::most_voted() const noexcept {
  std::optional<CutRef> best;
  std::uint32_t best_n = 0;
  for (const auto& [d, p] : proposals_) {
    if (!best || p.count > best_n) best = CutRef{d, p.size}, best_n = p.count;
  }
  return best;
}

bool Consensus::next_gossip(const Configuration& config, wire::RapidMessage& out) {
  if (proposals_.empty()) return false;
  auto it = proposals_.upper_bound(gossip_cursor_);
  if (it == proposals_.end()) it = proposals_.begin();
  gossip_cursor_ = it->first;
  out.type = wire::RapidFrame::vote;
  out.config = config.ref();
  fill_cut(out, CutRef{it->first, it->second.size});
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
  scratch_.vrank = vval_ ? vrank_ : wire::Rank{0, 0};
  fill_cut(scratch_, vval_.value_or(CutRef{}));
  if (from == self_) on_phase1b(config, self_, scratch_);
  else host_.send_to(from, scratch_);
}

void Consensus::on_phase1b(const Configuration& config, const Address& from,
                           const wire::RapidMessage& m) {
  if (decided_ || m.rank != leading_ || phase2_sent_) return;
  auto idx = config.index_of(from);
  if (!idx) return;
  phase1b_[*idx] = Reply{m.vrank, read_cut(config, m).value_or(CutRef{})};
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

std::optional<Consensus::CutRef> Consensus::choose_value(const Configuration& config) const {
  const Reply* best = nullptr;
  for (const auto& [i, r] : phase1b_) {
    if (r.vval.size == 0) continue;
    if (best == nullptr || r.vrank > best->vrank) best = &r;
  }
  if (best != nullptr && best->vrank.round >= 2) return best->vval;
  // Fast-round values: count each in Q.
  std::map<std::uint64_t, std::pair<std::uint32_t, CutRef>> counts;
  for (const auto& [i, r] : phase1b_) {
    if (r.vval.size == 0 || r.vrank != kFastRank) continue;
    // try_emplace, not operator[]: clang 14 with libstdc++ 12 cannot default-construct a pair
    // holding a nested struct with member initializers (the fuzz preset's compiler).
    auto& c = counts.try_emplace(r.vval.digest, 0u, r.vval).first->second;
    ++c.first;
    c.second = r.vval;
  }
  const std::uint32_t q = std::uint32_t(phase1b_.size());
  std::optional<CutRef> most;
  std::uint32_t most_n = 0;
  for (const auto& [d, c] : counts) {
    if (c.first + config.fast_slack() >= q) return c.second;  // may have been decided
    if (c.first > most_n) most_n = c.first, most = c.second;
  }
  if (most) return most;
  return own_;
}

void Consensus::on_phase2a(const Configuration& config, const Address& from,
                           const wire::RapidMessage& m) {
  max_round_ = std::max(max_round_, m.rank.round);
  if (decided_ || m.rank < promised_ || m.rank.round < 2) return;
  auto cut = read_cut(config, m);
  if (!cut) return;
  promised_ = vrank_ = m.rank;
  vval_ = *cut;
  scratch_.type = wire::RapidFrame::phase2b;
  scratch_.config = config.ref();
  scratch_.rank = m.rank;
  scratch_.digest = cut->digest;
  if (from == self_) on_phase2b(config, self_, scratch_);
  else host_.send_to(from, scratch_);
}

void Consensus::on_phase2b(const Configuration& config, const Address& from,
                           const wire::RapidMessage& m) {
  if (decided_ || m.rank != leading_ || !phase2_sent_) return;
  if (m.digest != leading_value_.digest) return;
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

void Consensus::on_decision(const Configuration& config, const wire::RapidMessage& m) {
  if (decided_) return;
  if (auto cut = read_cut(config, m)) decide(*cut, false);
}

void Consensus::decide(CutRef cut, bool fast) {
  decided_ = cut;
  decided_fast_ = fast;
}

}  // namespace grapevine::detail
