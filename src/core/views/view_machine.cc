// The default broadcast over a partial view: flooding with an optional fanout. Each node
// delivers and forwards a message the first time it sees it (to every peer of view(), or to
// `fanout` of them chosen at random), never to the peer it came from when it can avoid it, and
// drops later copies. This is the "gossip over the partial view" of Kermarrec, Massoulie and
// Ganesh (TPDS 2003) that SCAMP's reliability claim is about.
#include <algorithm>
#include <array>

#include "core/views/send.h"
#include "grapevine/view.h"
#include "util/assert.h"
#include "util/rng.h"
#include "wire/native_views.h"

namespace grapevine {

ViewMachine::ViewMachine(std::uint32_t fanout, std::uint64_t seed) noexcept
    : fanout_(fanout), flood_rng_(seed ^ 0x666c6f6f64ULL) {}  // "flood": own stream

std::uint64_t ViewMachine::next_random() noexcept {
  return splitmix64(flood_rng_);
}

bool ViewMachine::first_sight(std::uint64_t msg_id) {
  if (std::find(seen_.begin(), seen_.end(), msg_id) != seen_.end()) return false;
  if (seen_.size() < kSeenIdsMax) {
    seen_.push_back(msg_id);
  } else {
    seen_[seen_next_] = msg_id;
    seen_next_ = (seen_next_ + 1) % kSeenIdsMax;
  }
  return true;
}

void ViewMachine::broadcast(Time /*now*/, std::uint64_t msg_id, std::span<const std::byte> payload,
                            Effects& fx) {
  if (payload.size() > wire::kMulticastPayloadBytesMax || !first_sight(msg_id)) return;
  Event ev;
  ev.kind = EventKind::delivered;
  ev.message = MessageId{msg_id, 0};
  ev.payload = payload;
  ev.hops = 0;
  fx.emit(ev);
  forward(msg_id, 1, payload, fx);
}

void ViewMachine::on_flood_frame(std::span<const std::byte> body, Effects& fx) {
  auto f = wire::decode_view_gossip(body);
  if (!f) {
    ++stats_.malformed;
    return;
  }
  ++stats_.payload_received;
  if (!first_sight(f->msg_id)) {
    ++stats_.duplicates;
    return;
  }
  Event ev;
  ev.kind = EventKind::delivered;
  ev.message = MessageId{f->msg_id, 0};
  ev.payload = f->payload;
  ev.hops = f->hops;
  fx.emit(ev);
  forward(f->msg_id, f->hops + 1, f->payload, fx);
}

void ViewMachine::forward(std::uint64_t msg_id, std::uint32_t hops,
                          std::span<const std::byte> payload, Effects& fx) {
  std::span<const Address> peers = view();
  // Copy: view() is only valid until the next call into the machine, and we pick a subset.
  constexpr std::size_t kTargetsMax = 256;
  std::array<Address, kTargetsMax> targets;
  const std::size_t n = std::min(peers.size(), kTargetsMax);
  std::copy_n(peers.begin(), n, targets.begin());
  std::size_t use = n;
  if (fanout_ > 0 && fanout_ < n) {
    // Partial Fisher-Yates: the first `fanout_` slots become a uniform sample.
    for (std::size_t i = 0; i < fanout_; ++i) {
      std::size_t j = i + std::size_t(next_random() % (n - i));
      std::swap(targets[i], targets[j]);
    }
    use = fanout_;
  }
  const wire::ViewGossipFrame f{msg_id, std::min(hops, wire::kViewHopsMax), payload};
  for (std::size_t i = 0; i < use; ++i) {
    if (detail::send_frame(fx, targets[i],
                           [&](wire::Writer& w) { return wire::write_view_gossip(w, f); })) {
      ++stats_.payload_sent;
    }
  }
}

}  // namespace grapevine
