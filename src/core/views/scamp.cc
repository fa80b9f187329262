#include "core/views/scamp.h"

#include "core/views/peer_set.h"
#include "core/views/send.h"

namespace grapevine::detail {

ScampView::ScampView(const ViewConfig& config, const Address& self, std::uint64_t seed)
    : ViewMachine(config.fanout, seed), config_(config), self_(self), rng_(seed) {}

void ScampView::join(Time /*now*/, const Address& contact, Effects& fx) {
  if (!contact.valid() || contact == self_ || left_) return;  // first member: nothing to do
  if (!contains(partial_, contact)) partial_.push_back(contact);
  ++stats_.control_sent;
  send_frame(fx, contact, [&](wire::Writer& w) {
    return wire::write_subscribe(w, {true, 0, self_});
  });
}

void ScampView::on_datagram(Time /*now*/, const Address& from, std::span<const std::byte> bytes,
                            Effects& fx) {
  if (left_) return;
  wire::FrameIterator it(bytes);
  wire::Frame frame;
  while (it.next(frame)) {
    switch (wire::ViewFrame(frame.type)) {
      case wire::ViewFrame::subscribe:
        if (auto f = wire::decode_subscribe(frame.body)) {
          on_subscribe(from, *f, fx);
        } else {
          ++stats_.malformed;
        }
        break;
      case wire::ViewFrame::inview:
        if (auto f = wire::decode_inview(frame.body)) {
          if (f->add && !contains(inview_, from) && from != self_ &&
              inview_.size() < config_.scamp_view_max) {
            inview_.push_back(from);
          }
          if (!f->add) erase_peer(inview_, from);
        } else {
          ++stats_.malformed;
        }
        break;
      case wire::ViewFrame::unsubscribe:
        if (auto f = wire::decode_unsubscribe(frame.body)) {
          on_unsubscribe(from, *f, fx);
        } else {
          ++stats_.malformed;
        }
        break;
      case wire::ViewFrame::view_gossip:
        on_flood_frame(frame.body, fx);
        break;
      default:
        if (!wire::other_component(frame.type, wire::FrameFamily::views)) ++stats_.unknown_frames;
        break;
    }
  }
  if (!it.ok()) ++stats_.malformed;
}

void ScampView::on_subscribe(const Address& from, const wire::SubscribeFrame& f, Effects& fx) {
  // A "new" subscription is only believed from the subscriber itself: anyone else could make a
  // contact fan a stranger's address out to its whole view.
  if (f.is_new && from == f.subscriber) {
    on_new_subscription(f.subscriber, fx);
  } else if (!f.is_new) {
    on_forwarded(f, fx);
  } else {
    ++stats_.malformed;
  }
}

// The contact: the subscriber points at us; we fan its subscription out to all our PartialView
// plus c random extra copies.
void ScampView::on_new_subscription(const Address& subscriber, Effects& fx) {
  if (subscriber == self_) return;
  if (!contains(inview_, subscriber) && inview_.size() < config_.scamp_view_max) {
    inview_.push_back(subscriber);
  }
  if (partial_.empty()) {
    keep(subscriber, fx);
    return;
  }
  // Copy: keep() inside the loop would change partial_ (it does not here, but forwarding must
  // go to the view as it was when the subscription arrived).
  const std::vector<Address> targets = partial_;
  for (const Address& p : targets) forward_to(p, subscriber, 1, fx);
  for (std::uint32_t k = 0; k < config_.scamp_c; ++k) {
    forward_to(random_peer(targets, rng_), subscriber, 1, fx);
  }
}

void ScampView::on_forwarded(const wire::SubscribeFrame& f, Effects& fx) {
  const Address& s = f.subscriber;
  const bool eligible =
      s != self_ && !contains(partial_, s) && partial_.size() < config_.scamp_view_max;
  if (eligible && (partial_.empty() || rng_.chance(1.0 / double(1 + partial_.size())))) {
    keep(s, fx);
    return;
  }
  if (partial_.empty() || f.hops >= config_.scamp_forward_hops_max) return;  // dropped
  forward_to(random_peer(partial_, rng_), s, f.hops + 1, fx);
}

void ScampView::keep(const Address& subscriber, Effects& fx) {
  partial_.push_back(subscriber);
  send_inview(subscriber, true, fx);
}

void ScampView::forward_to(const Address& to, const Address& subscriber, std::uint32_t hops,
                           Effects& fx) {
  ++stats_.control_sent;
  send_frame(fx, to, [&](wire::Writer& w) {
    return wire::write_subscribe(w, {false, hops, subscriber});
  });
}

void ScampView::send_inview(const Address& to, bool add, Effects& fx) {
  ++stats_.control_sent;
  send_frame(fx, to, [&](wire::Writer& w) { return wire::write_inview(w, {add}); });
}

void ScampView::on_unsubscribe(const Address& from, const wire::UnsubscribeFrame& f, Effects& fx) {
  if (f.leaving != from) {  // only a node may unsubscribe itself
    ++stats_.malformed;
    return;
  }
  const bool had = erase_peer(partial_, f.leaving);
  erase_peer(inview_, f.leaving);
  const Address& r = f.replacement;
  if (had && r.valid() && r != self_ && !contains(partial_, r)) keep(r, fx);
}

void ScampView::leave(Time /*now*/, Effects& fx) {
  if (left_) return;
  const std::size_t l = partial_.size();
  const std::size_t keepers =
      inview_.size() > config_.scamp_c + 1 ? inview_.size() - config_.scamp_c - 1 : 0;
  for (std::size_t i = 0; i < inview_.size(); ++i) {
    Address replacement{};
    if (i < keepers && l > 0) replacement = partial_[i % l];
    if (replacement == inview_[i]) replacement = Address{};  // never point a node at itself
    ++stats_.control_sent;
    send_frame(fx, inview_[i], [&](wire::Writer& w) {
      return wire::write_unsubscribe(w, {self_, replacement});
    });
  }
  for (const Address& p : partial_) send_inview(p, false, fx);
  partial_.clear();
  inview_.clear();
  left_ = true;
}

}  // namespace grapevine::detail
