#include "core/views/cyclon.h"

#include <algorithm>

#include "core/views/peer_set.h"
#include "core/views/send.h"

namespace grapevine::detail {

CyclonView::CyclonView(const ViewConfig& config, std::uint32_t view_size,
                       std::uint32_t shuffle_length, const Address& self, std::uint64_t seed)
    : ViewMachine(config.fanout, seed),
      config_(config),
      view_size_(view_size),
      shuffle_length_(shuffle_length),
      self_(self),
      rng_(seed) {}

Time CyclonView::next_deadline() const noexcept {
  return (left_ || !joined_) ? Time::max() : ticker_.deadline();
}

std::ptrdiff_t CyclonView::index_of(const Address& a) const noexcept {
  auto it = std::find(peers_.begin(), peers_.end(), a);
  return it == peers_.end() ? -1 : it - peers_.begin();
}

void CyclonView::add(const Address& a, std::uint32_t age) {
  peers_.push_back(a);
  ages_.push_back(age);
}

void CyclonView::remove_at(std::size_t i) {
  peers_.erase(peers_.begin() + std::ptrdiff_t(i));
  ages_.erase(ages_.begin() + std::ptrdiff_t(i));
}

void CyclonView::join(Time /*now*/, const Address& contact, Effects& fx) {
  if (joined_ || left_) return;
  joined_ = true;  // the ticker starts at the next on_timeout (deadline zero = "call me now")
  if (!contact.valid() || contact == self_) return;
  ++stats_.control_sent;
  send_frame(fx, contact, [&](wire::Writer& w) {
    return wire::write_walk(w, {config_.cyclon_walk_ttl, self_});
  });
}

void CyclonView::leave(Time /*now*/, Effects& /*fx*/) {
  // Cyclon has no unsubscription: pointers to a departed node age out like dead links.
  left_ = true;
  peers_.clear();
  ages_.clear();
}

void CyclonView::on_timeout(Time now, Effects& fx) {
  if (left_ || !joined_) return;
  if (!ticker_.started()) {
    ticker_.start(now, config_.period, config_.random_phase, rng_);
    return;
  }
  if (!ticker_.due(now)) return;
  ticker_.advance(now, config_.period, config_.period_jitter, rng_);
  shuffle(fx);
}

void CyclonView::on_datagram(Time /*now*/, const Address& from, std::span<const std::byte> bytes,
                             Effects& fx) {
  if (left_) return;
  wire::FrameIterator it(bytes);
  wire::Frame frame;
  while (it.next(frame)) {
    if (on_frame(from, frame, fx)) continue;
    if (frame.type == std::uint8_t(wire::ViewFrame::view_gossip)) {
      on_flood_frame(frame.body, fx);
    } else if (!wire::other_component(frame.type, wire::FrameFamily::views)) {
      ++stats_.unknown_frames;
    }
  }
  if (!it.ok()) ++stats_.malformed;
}

bool CyclonView::on_frame(const Address& from, const wire::Frame& frame, Effects& fx) {
  if (frame.type == std::uint8_t(wire::ViewFrame::walk)) {
    if (auto f = wire::decode_walk(frame.body)) {
      on_walk(from, *f, fx);
    } else {
      ++stats_.malformed;
    }
    return true;
  }
  if (frame.type == std::uint8_t(wire::ViewFrame::shuffle)) {
    if (auto f = wire::decode_shuffle(frame.body)) {
      on_shuffle(from, *f, fx);
    } else {
      ++stats_.malformed;
    }
    return true;
  }
  return false;
}

// Up to `count` distinct random entries of the view, never `exclude`.
std::vector<wire::ViewEntry> CyclonView::sample(std::size_t count, const Address& exclude) {
  std::vector<std::size_t> idx;
  for (std::size_t i = 0; i < peers_.size(); ++i) {
    if (peers_[i] != exclude) idx.push_back(i);
  }
  rng_.shuffle(std::span(idx));
  idx.resize(std::min(count, idx.size()));
  std::vector<wire::ViewEntry> out;
  for (std::size_t i : idx) out.push_back({peers_[i], ages_[i]});
  return out;
}

void CyclonView::shuffle(Effects& fx) {
  if (peers_.empty()) return;
  for (auto& a : ages_) a = std::min(a + 1, wire::kViewAgeMax);
  const auto oldest = std::size_t(std::max_element(ages_.begin(), ages_.end()) - ages_.begin());
  const Address q = peers_[oldest];
  remove_at(oldest);  // a dead Q is gone now; a live one sends a replacement back
  std::vector<wire::ViewEntry> out = sample(shuffle_length_ - 1, q);
  pending_peer_ = q;
  pending_sent_.clear();
  for (const auto& e : out) pending_sent_.push_back(e.address);
  out.push_back({self_, 0});
  ++stats_.control_sent;
  send_frame(fx, q,
             [&](wire::Writer& w) { return wire::write_shuffle(w, wire::kShuffleRequest, out); });
}

void CyclonView::on_shuffle(const Address& from, const wire::EntriesFrame& f, Effects& fx) {
  const auto got = std::span(f.entries, f.count);
  if (f.kind == wire::kShuffleRequest) {
    std::vector<wire::ViewEntry> reply = sample(shuffle_length_, from);
    ++stats_.control_sent;
    send_frame(fx, from,
               [&](wire::Writer& w) { return wire::write_shuffle(w, wire::kShuffleReply, reply); });
    std::vector<Address> sent;
    for (const auto& e : reply) sent.push_back(e.address);
    merge(got, sent);
  } else if (f.kind == wire::kShuffleReply && from == pending_peer_) {
    merge(got, pending_sent_);
    pending_peer_ = Address{};
    pending_sent_.clear();
  } else {
    std::vector<Address> none;  // join reply or a late answer: free slots only
    merge(got, none);
  }
}

void CyclonView::merge(std::span<const wire::ViewEntry> got, std::vector<Address>& replaceable) {
  for (const wire::ViewEntry& e : got) {
    if (e.address == self_ || !e.address.valid() || index_of(e.address) >= 0) continue;
    if (peers_.size() < view_size_) {
      add(e.address, e.age);
      continue;
    }
    while (!replaceable.empty()) {
      const Address victim = replaceable.back();
      replaceable.pop_back();
      const std::ptrdiff_t i = index_of(victim);
      if (i < 0) continue;  // already gone
      peers_[std::size_t(i)] = e.address;
      ages_[std::size_t(i)] = e.age;
      break;
    }
  }
}

void CyclonView::on_walk(const Address& from, const wire::WalkFrame& f, Effects& fx) {
  if (f.joiner == self_) return;
  if (from == f.joiner) {
    // We are the introducer: start c walks (paper: the introducer performs c random walks).
    for (std::uint32_t k = 0; k < view_size_; ++k) walk_step(f.joiner, f.ttl, fx);
  } else {
    walk_step(f.joiner, f.ttl, fx);
  }
}

void CyclonView::walk_step(const Address& joiner, std::uint32_t ttl, Effects& fx) {
  if (ttl > 0) {
    std::vector<wire::ViewEntry> next = sample(1, joiner);
    if (!next.empty()) {
      ++stats_.control_sent;
      send_frame(fx, next[0].address, [&](wire::Writer& w) {
        return wire::write_walk(w, {ttl - 1, joiner});
      });
      return;
    }
  }
  end_walk(joiner, fx);
}

void CyclonView::end_walk(const Address& joiner, Effects& fx) {
  if (index_of(joiner) >= 0) return;  // another walk already ended here
  wire::ViewEntry give{self_, 0};
  if (peers_.size() >= view_size_) {
    // Swap: hand one of our entries to the joiner and point at the joiner in its slot.
    const auto i = std::size_t(rng_.below(peers_.size()));
    give = {peers_[i], ages_[i]};
    peers_[i] = joiner;
    ages_[i] = 0;
  } else {
    add(joiner, 0);
  }
  ++stats_.control_sent;
  send_frame(fx, joiner, [&](wire::Writer& w) {
    return wire::write_shuffle(w, wire::kShuffleJoinReply, std::span(&give, 1));
  });
}

}  // namespace grapevine::detail
