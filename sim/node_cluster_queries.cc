// NodeCluster's queries: issuing them from a node, answering them through the cluster's
// QueryHandler, and recording what each querier gathered (sim/node_cluster.h).
#include "sim/node_cluster.h"

namespace grapevine::sim {

Result<QueryTicket> NodeCluster::query(NodeIndex i, std::string_view name,
                                       std::string_view payload, const QueryParams& params) {
  Result<QueryTicket> r = make_error(Errc::not_ready, "node not called");
  sim_.with_node(i, [&](Machine&, Effects& fx) {
    r = nodes_[i]->query(sim_.now(), name, std::as_bytes(std::span(payload.data(), payload.size())),
                         params, fx);
    if (r) queries_.try_emplace({i, r->id});
  });
  return r;
}

Result<QueryTicket> NodeCluster::keyring_query(NodeIndex i, KeyringCommand command,
                                               std::span<const std::byte> key,
                                               const QueryParams& params) {
  Result<QueryTicket> r = make_error(Errc::not_ready, "node not called");
  sim_.with_node(i, [&](Machine&, Effects& fx) {
    r = nodes_[i]->keyring_query(sim_.now(), command, key, params, fx);
    if (r) queries_.try_emplace({i, r->id});
  });
  return r;
}

const NodeCluster::QueryOutcome* NodeCluster::query_outcome(NodeIndex i, std::uint32_t id) const {
  auto it = queries_.find({i, id});
  return it == queries_.end() ? nullptr : &it->second;
}

bool NodeCluster::wait_query_done(NodeIndex i, std::uint32_t id, Duration timeout) {
  return wait([&] {
    const auto* q = query_outcome(i, id);
    return q != nullptr && q->done;
  }, timeout);
}

void NodeCluster::observe_query(Time now, NodeIndex observer, const Event& e) {
  if (e.kind == EventKind::query) {
    if (!query_handler_) return;
    auto answer = query_handler_(observer, e);
    if (!answer) return;
    // Answer after the machine call, as a driver does (the observer runs inside emit()).
    sim_.at(now, [this, observer, ltime = e.ltime, id = e.query_id, a = std::move(*answer)] {
      if (!active(observer)) return;
      sim_.with_node(observer, [&](Machine&, Effects& fx) {
        (void)nodes_[observer]->respond(sim_.now(), ltime, id,
                                        std::as_bytes(std::span(a.data(), a.size())), fx);
      });
    });
    return;
  }
  // The querier's own ack and response arrive inside its query() call, before it returns the id.
  QueryOutcome& q = queries_[{observer, e.query_id}];
  const NodeIndex from = index_of(e.subject_id);
  switch (e.kind) {
    case EventKind::query_ack:
      ++q.events;
      q.acks.insert(from);
      break;
    case EventKind::query_response:
      ++q.events;
      q.responses[from].assign(reinterpret_cast<const char*>(e.payload.data()), e.payload.size());
      break;
    case EventKind::query_done:
      q.done = true;
      q.done_at = now;
      break;
    default:
      break;
  }
}

}  // namespace grapevine::sim
