#include "node_json.h"

#include <cstdio>
#include <sstream>

#include "base64.h"
#include "grapevine/tags.h"

namespace grapevine::tools {

std::string message_id_text(const MessageId& id) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%llx:%u", static_cast<unsigned long long>(id.origin), id.seq);
  return buf;
}

namespace {
std::string node_id_text(NodeId id) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(id));
  return buf;
}
// Bytes from the network (serf's tags, user payloads) need not be text: a valid UTF-8 value goes
// in `key` as a string, anything else base64-encoded in `key`_base64 (JSON strings must be
// UTF-8; dumping raw bytes would throw).
void put_bytes(nlohmann::json& j, const std::string& key, std::span<const std::byte> bytes) {
  if (valid_utf8(bytes)) {
    j[key] = std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  } else {
    j[key + "_base64"] = base64_encode(bytes);
  }
}

// Names are text by contract; a hostile peer's invalid bytes are replaced, not fatal.
std::string text_of(std::string_view s) {
  auto bytes = std::as_bytes(std::span(s.data(), s.size()));
  if (valid_utf8(bytes)) return std::string(s);
  std::string out;
  for (char c : s) out.push_back((static_cast<unsigned char>(c) < 0x80) ? c : '?');
  return out;
}
// The tags in a member's metadata as a JSON object (serf's encoding; grapevine/tags.h), or
// nothing when the metadata is not tags.
void put_tags(nlohmann::json& j, std::span<const std::byte> meta) {
  auto tags = decode_tags(meta);
  if (!tags) return;
  nlohmann::json t = nlohmann::json::object();
  for (const auto& [k, v] : *tags) t[text_of(k)] = text_of(v);
  j["tags"] = std::move(t);
}
}  // namespace

nlohmann::json member_json(const MemberInfo& m) {
  nlohmann::json j = {{"name", text_of(m.name)},
                      {"id", node_id_text(m.id)},
                      {"address", m.address.to_string()},
                      {"state", member_state_name(m.state)},
                      {"incarnation", m.incarnation},
                      {"zone", text_of(m.zone)}};
  put_bytes(j, "meta", std::as_bytes(std::span(m.meta.data(), m.meta.size())));
  put_tags(j, m.meta);
  return j;
}

nlohmann::json event_json(const Event& e) {
  if (e.kind == EventKind::view_changed || e.kind == EventKind::view_stalled) {
    // Consistent mode: the configuration this node installed (or is stuck in).
    nlohmann::json members = nlohmann::json::array();
    for (const Address& a : e.members) members.push_back(a.to_string());
    return {{"event", "view"},
            {"kind", event_kind_name(e.kind)},
            {"configuration_id", node_id_text(e.configuration_id)},
            {"epoch", e.configuration_epoch},
            {"size", e.members.size()},
            {"members", members}};
  }
  if (e.kind == EventKind::user_event) {
    nlohmann::json u = {{"event", "user"},
                        {"name", text_of(e.user_name)},
                        {"ltime", e.ltime},
                        {"coalesce", e.coalesce}};
    put_bytes(u, "payload", e.payload);
    return u;
  }
  if (e.kind == EventKind::query) {  // a query received here (monitor shows it)
    nlohmann::json q = {{"event", "query"},
                        {"name", text_of(e.user_name)},
                        {"ltime", e.ltime},
                        {"id", e.query_id},
                        {"from", text_of(e.subject_name)},
                        {"from_address", e.subject.to_string()}};
    put_bytes(q, "payload", e.payload);
    return q;
  }
  nlohmann::json j = {{"event", "member"},
                      {"kind", event_kind_name(e.kind)},
                      {"name", text_of(e.subject_name)},
                      {"address", e.subject.to_string()},
                      {"incarnation", e.incarnation}};
  put_tags(j, e.subject_meta);
  return j;
}

nlohmann::json configuration_json(const ConfigurationInfo& c) {
  if (!c.valid) return nullptr;
  return {{"id", node_id_text(c.id)},
          {"epoch", c.epoch},
          {"size", c.size},
          {"member", c.member},
          {"stalled", c.stalled}};
}

nlohmann::json delivery_json(const MessageId& id, std::span<const std::byte> payload,
                             std::uint32_t hops) {
  nlohmann::json j = {{"event", "delivered"}, {"id", message_id_text(id)}, {"hops", hops}};
  put_bytes(j, "payload", payload);
  return j;
}

namespace {
// grapevine_rejected_packets_total by reason: the native seal's reasons (node_seal.h), and
// the memberlist dialect's refusals (wrong key, label or CRC) as reason="memberlist".
void render_rejected(std::ostringstream& o, const MembershipStats& s, const SealStats& seal) {
  o << "# HELP grapevine_rejected_packets_total Packets and streams refused by the wire's "
       "checks, by reason.\n# TYPE grapevine_rejected_packets_total counter\n";
  for (std::size_t i = 0; i < kSealRejectCount; ++i) {
    o << "grapevine_rejected_packets_total{reason=\"" << seal_reject_name(SealReject(i))
      << "\"} " << seal.rejected[i] << '\n';
  }
  o << "grapevine_rejected_packets_total{reason=\"memberlist\"} " << s.rejected_received
    << '\n';
  o << "# HELP grapevine_sealed_total Native datagrams and streams sealed.\n"
       "# TYPE grapevine_sealed_total counter\ngrapevine_sealed_total "
    << seal.sealed << "\n# HELP grapevine_opened_total Sealed datagrams and streams opened.\n"
       "# TYPE grapevine_opened_total counter\ngrapevine_opened_total "
    << seal.opened << '\n';
}
// Consistent mode (Rapid): the installed configuration and its view changes; nothing in
// eventual mode, where there is no configuration.
void render_consistent(std::ostringstream& o, const NodeMetrics& nm) {
  const ConfigurationInfo& c = nm.configuration;
  if (!c.valid) return;
  const MembershipStats& s = nm.membership;
  auto metric = [&](const char* name, const char* type, const char* help, auto value) {
    o << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n'
      << name << ' ' << value << '\n';
  };
  o << "# HELP grapevine_consistent_configuration The installed configuration (its id as a "
       "label; 1 while this node is a member of it, 0 while joining).\n"
       "# TYPE grapevine_consistent_configuration gauge\n"
    << "grapevine_consistent_configuration{id=\"" << node_id_text(c.id) << "\"} "
    << (c.member ? 1 : 0) << '\n';
  metric("grapevine_consistent_epoch", "gauge", "View changes in the installed chain.", c.epoch);
  metric("grapevine_consistent_members", "gauge", "Members of the installed configuration.",
         c.size);
  metric("grapevine_consistent_stalled", "gauge",
         "1 while a change to the installed configuration is pending past stall_timeout (no "
         "quorum: the minority side of a partition), else 0.",
         c.stalled ? 1 : 0);
  metric("grapevine_consistent_view_changes_total", "counter", "Configurations installed.",
         s.view_changes);
  metric("grapevine_consistent_view_stalls_total", "counter",
         "Configurations that stalled (view_stalled events).", s.view_stalls);
  metric("grapevine_consistent_fast_decisions_total", "counter", "Fast Paxos decisions.",
         s.fast_decisions);
  metric("grapevine_consistent_classic_decisions_total", "counter", "Classic Paxos decisions.",
         s.classic_decisions);
  metric("grapevine_consistent_catch_ups_total", "counter",
         "Configurations installed from a peer (missed decisions).", s.catch_ups);
  metric("grapevine_consistent_removed_self_total", "counter",
         "Times this node found itself removed (then rejoined).", s.removed_self);
}
}  // namespace

std::string render_metrics(const NodeHandle& node) { return render_metrics(node.metrics()); }

// Every number here comes from NodeMetrics (NodeHandle::metrics()), the embedder's accessor:
// one source of truth for the library and the agent's /metrics.
std::string render_metrics(const NodeMetrics& nm) {
  std::ostringstream o;
  const MembershipStats& s = nm.membership;
  const MulticastStats& mc = nm.multicast;
  const IoStats& io = nm.io;
  auto metric = [&](const char* name, const char* type, const char* help, auto value) {
    o << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n'
      << name << ' ' << value << '\n';
  };
  o << "# HELP grapevine_members Members this node lists, by state.\n"
       "# TYPE grapevine_members gauge\n";
  for (MemberState st :
       {MemberState::alive, MemberState::suspect, MemberState::failed, MemberState::left}) {
    o << "grapevine_members{state=\"" << member_state_name(st) << "\"} " << nm.member_count(st)
      << '\n';
  }
  metric("grapevine_probes_total", "counter", "Failure-detector probes sent.", s.probes);
  metric("grapevine_probes_failed_total", "counter", "Probes with no ack, direct or indirect.",
         s.probes_failed);
  metric("grapevine_indirect_probes_total", "counter", "Ping-req messages sent.",
         s.indirect_probes);
  metric("grapevine_suspicions_total", "counter", "Members this node marked suspect.",
         s.suspicions);
  metric("grapevine_stream_pings_total", "counter",
         "TCP fallback pings sent after a datagram ping went unanswered.", s.stream_pings);
  metric("grapevine_stream_ping_acks_total", "counter",
         "Probes that only the TCP fallback ping's answer saved from failing.", s.stream_ping_acks);
  metric("grapevine_refutations_total", "counter", "Accusations about this node it refuted.",
         s.refutations);
  metric("grapevine_failures_total", "counter", "Members marked failed.", s.failures);
  metric("grapevine_leaves_total", "counter", "Members seen leaving.", s.leaves);
  metric("grapevine_push_pulls_total", "counter", "Full-state exchanges started.", s.push_pulls);
  metric("grapevine_queries_total", "counter", "Queries handled here (native dialect).",
         s.queries);
  metric("grapevine_query_responses_total", "counter",
         "Responses gathered for this node's queries (native dialect).", s.query_responses);
  metric("grapevine_query_reasks_total", "counter",
         "Direct re-sends of this node's queries to members gossip had not reached.",
         s.query_reasks);
  metric("grapevine_messages_in_total", "counter", "Datagrams received.", io.datagrams_in);
  metric("grapevine_messages_out_total", "counter", "Datagrams sent.", io.datagrams_out);
  metric("grapevine_bytes_in_total", "counter", "Datagram bytes received.", io.bytes_in);
  metric("grapevine_bytes_out_total", "counter", "Datagram bytes sent.", io.bytes_out);
  metric("grapevine_streams_in_total", "counter", "TCP streams received.", io.streams_in);
  metric("grapevine_streams_out_total", "counter", "TCP streams sent.", io.streams_out);
  metric("grapevine_malformed_packets_total", "counter", "Packets dropped as malformed.",
         s.malformed_received + mc.malformed_received);
  render_rejected(o, s, nm.seal);
  metric("grapevine_unknown_frames_total", "counter", "Frames of unknown type skipped.",
         s.unknown_frames + mc.unknown_frames);
  metric("grapevine_dropped_packets_total", "counter",
         "Packets that could not be sent or streams that failed.",
         io.send_errors + io.stream_errors + io.oversized_dropped);
  // Limits biting (RuntimeOptions; docs/limits.md).
  metric("grapevine_streams_refused_total", "counter",
         "Inbound connections closed at once: inbound_streams_max were open.", io.streams_refused);
  metric("grapevine_streams_over_budget_total", "counter",
         "Inbound streams dropped at inbound_stream_bytes_max buffered.", io.streams_over_budget);
  metric("grapevine_streams_timed_out_total", "counter", "Streams dropped at stream_timeout.",
         io.streams_timed_out);
  metric("grapevine_datagrams_denied_total", "counter",
         "Datagrams from outside allowed_cidrs, dropped unparsed.", io.datagrams_denied);
  metric("grapevine_streams_denied_total", "counter",
         "Connections from outside allowed_cidrs, closed unread.", io.streams_denied);
  metric("grapevine_datagrams_rate_limited_total", "counter",
         "Datagrams over datagrams_per_source_per_second, dropped unparsed.",
         io.datagrams_rate_limited);
  metric("grapevine_tls_handshakes_total", "counter",
         "Mutual-TLS stream handshakes completed (--tls-cert).", io.tls_handshakes);
  o << "# HELP grapevine_tls_handshake_failures_total Streams refused by mutual TLS, by reason: "
       "handshake (not TLS 1.3, broken), certificate (missing or not from the CA, ours or "
       "the peer's), name (not the member's name), timeout (no handshake by stream_timeout).\n"
       "# TYPE grapevine_tls_handshake_failures_total counter\n";
  for (auto [reason, value] : {std::pair{"handshake", io.tls_failed_handshake},
                               std::pair{"certificate", io.tls_failed_certificate},
                               std::pair{"name", io.tls_failed_name},
                               std::pair{"timeout", io.tls_failed_timeout}}) {
    o << "grapevine_tls_handshake_failures_total{reason=\"" << reason << "\"} " << value << '\n';
  }
  metric("grapevine_inbound_streams", "gauge", "Inbound streams open now.",
         io.inbound_streams_open);
  metric("grapevine_inbound_stream_bytes", "gauge", "Bytes inbound streams buffer now.",
         io.inbound_stream_bytes);
  metric("grapevine_queue_depth", "gauge", "Membership updates waiting to be piggybacked.",
         nm.queue_depth);
  metric("grapevine_health_score", "gauge", "Lifeguard local health score (0 = healthy).",
         nm.health_score);
  metric("grapevine_multicast_delivered_total", "counter", "Multicast payloads delivered.",
         mc.delivered);
  metric("grapevine_multicast_duplicates_total", "counter", "Duplicate payload copies received.",
         mc.duplicates_received);
  const StateStats& st = nm.state;
  metric("grapevine_state_rounds_total", "counter", "Replicated-state gossip rounds.", st.rounds);
  metric("grapevine_state_bytes_sent_total", "counter", "Replicated-state bytes sent.",
         st.bytes_sent);
  metric("grapevine_state_keys_applied_total", "counter", "State keys learnt from peers.",
         st.keys_applied);
  metric("grapevine_state_refused_total", "counter",
         "State refused at a StateConfig limit (key, value, keys per node, node or peer bytes).",
         st.refused_key_bytes + st.refused_value_bytes + st.refused_keys_per_node +
             st.refused_node_bytes + st.refused_peer_bytes);
  render_consistent(o, nm);
  return o.str();
}

}  // namespace grapevine::tools
