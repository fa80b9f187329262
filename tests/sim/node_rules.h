// Test-only helpers on NodeCluster for the membership rule tests: craft one membership message
// ("node `from` says member `about` is alive / suspect / dead / left at incarnation N") in the
// cluster's dialect, with the dialect's own codec (native frames or memberlist msgpack), and
// hand it to a node as a datagram through Node::on_datagram, as the driver would; read what a
// node lists about a member; force-leave and update_meta through the node's membership.
#pragma once

#include <algorithm>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/membership/codec.h"
#include "core/membership/member_list.h"
#include "core/membership/memberlist_codec.h"
#include "sim/node_cluster.h"
#include "util/assert.h"
#include "util/rng.h"

namespace grapevine::sim::rules {

enum class Say : std::uint8_t { alive, suspect, dead, left };

inline const char* say_name(Say s) {
  switch (s) {
    case Say::alive: return "alive";
    case Say::suspect: return "suspect";
    case Say::dead: return "dead";
    case Say::left: return "left";
  }
  return "?";
}

inline std::string name_of(NodeIndex i) { return "node-" + std::to_string(i); }

/// The codec node `from` would use, and the member list that names every cluster node for it
/// (the memberlist codec resolves ids to names).
struct SenderCodec {
  detail::MemberList names;
  Rng rng{0x72756c6573};
  std::unique_ptr<detail::Codec> codec;

  SenderCodec(NodeCluster& c, NodeIndex from)
      : names(c.id_of(from), sim_address(from), c.now()) {
    names.set_extra(c.id_of(from), name_of(from), {});
    for (NodeIndex i = 0; i < c.size(); ++i) {
      if (i == from) continue;
      names.add(c.id_of(i), sim_address(i), 0, MemberState::alive, c.now());
      names.set_extra(c.id_of(i), name_of(i), {});
    }
    MembershipConfig config;
    config.name = name_of(from);
    const bool ml = c.id_of(0) != node_id_of(sim_address(0));
    codec = ml ? detail::make_memberlist_codec(config, sim_address(from), names, rng)
               : detail::make_native_codec(c.id_of(from));
  }
};

/// Node `to` receives, from node `from`'s address, one datagram saying `what` about node
/// `about` at `incarnation` (`left` is memberlist's dead with From == Node). An alive carries
/// `meta` and `address` (default: node `about`'s own). Effects (re-gossip)
/// go out through the simulator; nothing else runs, so the receiver's list shows the verdict.
inline void inject(NodeCluster& c, NodeIndex to, NodeIndex from, Say what, NodeIndex about,
                   std::uint32_t incarnation, std::span<const std::byte> meta = {},
                   std::optional<Address> address = std::nullopt) {
  const Address from_addr = sim_address(from);
  SenderCodec sender(c, from);
  detail::Codec* codec = sender.codec.get();
  detail::Bytes msg;
  const std::string about_name = name_of(about);
  bool ok = false;
  switch (what) {
    case Say::alive:
      ok = codec->alive(wire::AliveFrame{c.id_of(about), incarnation,
                                         address.value_or(sim_address(about)), meta,
                                         about_name, wire::Vsn{}},
                        msg);
      break;
    case Say::suspect:
      ok = codec->suspect(wire::AccuseFrame{c.id_of(about), incarnation, c.id_of(from)}, msg);
      break;
    case Say::dead:
      ok = codec->dead(wire::AccuseFrame{c.id_of(about), incarnation, c.id_of(from)}, msg);
      break;
    case Say::left:
      ok = codec->dead(wire::AccuseFrame{c.id_of(about), incarnation, c.id_of(about)}, msg);
      break;
  }
  GV_ASSERT(ok);
  detail::Bytes datagram;
  codec->pack(std::span(&msg, 1), detail::Peer{sim_address(to), 0}, datagram);
  c.sim().with_node(to, [&](Machine& m, Effects& fx) {
    m.on_datagram(c.now(), from_addr, datagram, fx);
  });
}

/// Node `to` receives, as if answering its own push-pull, node `from`'s state holding one
/// entry: node `about` in `state` at `incarnation` (anti-entropy's merge, not gossip's).
inline void inject_push_pull(NodeCluster& c, NodeIndex to, NodeIndex from, wire::WireState state,
                             NodeIndex about, std::uint32_t incarnation) {
  SenderCodec sender(c, from);
  const std::string about_name = name_of(about);
  const wire::MemberEntry entry{c.id_of(about), sim_address(about), incarnation, state, {},
                                about_name, wire::Vsn{1, 5, 2, 0, 0, 0}};
  const wire::PushPullHeader h{false, true, c.id_of(from), sim_address(from), 1};
  const detail::Bytes message = sender.codec->push_pull(h, std::span(&entry, 1));
  GV_ASSERT(!message.empty());
  c.sim().with_node(to, [&](Machine& m, Effects& fx) {
    m.on_stream(c.now(), sim_address(from), message, StreamId{0}, fx);
  });
}

/// What node `at` lists about node `who` (nullopt: not listed).
inline std::optional<MemberInfo> member(NodeCluster& c, NodeIndex at, NodeIndex who) {
  const NodeId id = c.id_of(who);
  for (MemberInfo& m : c.node(at).membership().members()) {
    if (m.id == id) return std::move(m);
  }
  return std::nullopt;
}

/// Entries node `at` lists under the name of node `who`.
inline std::size_t entries_named(NodeCluster& c, NodeIndex at, NodeIndex who) {
  std::size_t n = 0;
  for (const MemberInfo& m : c.node(at).membership().members()) n += m.name == name_of(who);
  return n;
}

/// Does every active node other than `who` list it with this state and at least `incarnation`?
inline bool all_see_at(NodeCluster& c, NodeIndex who, MemberState s, std::uint32_t incarnation) {
  for (NodeIndex k = 0; k < c.size(); ++k) {
    if (k == who || !c.active(k)) continue;
    auto m = member(c, k, who);
    if (!m || m->state != s || m->incarnation < incarnation) return false;
  }
  return true;
}

inline Result<void> force_leave(NodeCluster& c, NodeIndex at, NodeIndex who) {
  Result<void> out;
  c.sim().with_node(at, [&](Machine&, Effects& fx) {
    out = c.node(at).force_leave(c.now(), name_of(who), fx);
  });
  return out;
}

inline Result<void> update_meta(NodeCluster& c, NodeIndex at, std::span<const std::byte> meta) {
  Result<void> out;
  c.sim().with_node(at, [&](Machine&, Effects& fx) {
    out = c.node(at).update_meta(c.now(), meta, fx);
  });
  return out;
}

/// Runs the cluster until `done()` (checked every 100 ms) or `timeout`; returns done().
template <class F>
bool wait_for(NodeCluster& c, F&& done, Duration timeout) {
  const Time deadline = c.now() + timeout;
  while (c.now() < deadline) {
    if (done()) return true;
    c.run_until(std::min(deadline, c.now() + Duration::milliseconds(100)));
  }
  return done();
}

/// Events of `kind` that node `observer` raised about `subject` at or after `since`.
inline std::size_t events_about(const NodeCluster& c, NodeIndex observer, NodeIndex subject,
                                EventKind kind, Time since = Time::zero()) {
  std::size_t n = 0;
  for (const ClusterEvent& e : c.events()) {
    n += e.time >= since && e.observer == observer && e.subject == subject && e.kind == kind;
  }
  return n;
}

}  // namespace grapevine::sim::rules
