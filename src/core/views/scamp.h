// SCAMP: Scalable Membership Protocol (Ganesh, Kermarrec, Massoulie, NGC 2001 / IEEE TC 2003).
//
// Algorithm. Each node keeps a PartialView (peers it gossips to) and an InView (peers that hold
// it in theirs).
//  - Join: the joiner puts its contact in its PartialView and sends it a new subscription. The
//    contact forwards the subscription to every member of its PartialView and to c more members
//    chosen at random (c = the fault-tolerance knob).
//  - A node receiving a forwarded subscription keeps it with probability 1/(1 + |PartialView|)
//    (and tells the subscriber, which adds the node to its InView); otherwise, or if it already
//    holds the subscriber (or is the subscriber), it forwards it to a random PartialView member.
//    The view sizes self-tune to about (c + 1) ln N.
//  - Unsubscription: a leaving node with PartialView j_1..j_l and InView i_1..i_l' asks
//    i_1..i_(l'-c-1) to replace their link to it by j_1, j_2, ... (cyclically) and the last c+1
//    to just drop it: the group loses about c+1 links per leave plus the leaver's own, which keeps
//    the mean view size near (c + 1) ln of the new size.
//
// Deviations: no leases, no heartbeat-based isolation recovery (the paper's optional parts), so
// links to crashed nodes are never removed: the harness reports them as dead links. A forwarded
// subscription is dropped after scamp_forward_hops_max hops. A contact with an empty PartialView
// (the first member) keeps the subscriber itself.
#pragma once

#include <vector>

#include "grapevine/view.h"
#include "util/rng.h"
#include "wire/native_views.h"

namespace grapevine::detail {

class ScampView final : public ViewMachine {
 public:
  ScampView(const ViewConfig& config, const Address& self, std::uint64_t seed);

  [[nodiscard]] ViewKind kind() const noexcept override { return ViewKind::scamp; }
  void join(Time now, const Address& contact, Effects& fx) override;
  void leave(Time now, Effects& fx) override;
  [[nodiscard]] std::span<const Address> view() const noexcept override { return partial_; }
  void on_datagram(Time now, const Address& from, std::span<const std::byte> bytes,
                   Effects& fx) override;
  void on_timeout(Time /*now*/, Effects& /*fx*/) override {}
  [[nodiscard]] Time next_deadline() const noexcept override { return Time::max(); }

  [[nodiscard]] std::span<const Address> in_view() const noexcept { return inview_; }

 private:
  void on_subscribe(const Address& from, const wire::SubscribeFrame& f, Effects& fx);
  void on_new_subscription(const Address& subscriber, Effects& fx);
  void on_forwarded(const wire::SubscribeFrame& f, Effects& fx);
  void keep(const Address& subscriber, Effects& fx);
  void forward_to(const Address& to, const Address& subscriber, std::uint32_t hops, Effects& fx);
  void send_inview(const Address& to, bool add, Effects& fx);
  void on_unsubscribe(const Address& from, const wire::UnsubscribeFrame& f, Effects& fx);

  ViewConfig config_;
  Address self_;
  Rng rng_;
  std::vector<Address> partial_;
  std::vector<Address> inview_;
  bool left_ = false;
};

}  // namespace grapevine::detail
