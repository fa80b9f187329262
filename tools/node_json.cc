#include "node_json.h"

#include <cstdio>
#include <sstream>

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
}  // namespace

nlohmann::json member_json(const MemberInfo& m) {
  return {{"name", m.name},
          {"id", node_id_text(m.id)},
          {"address", m.address.to_string()},
          {"state", member_state_name(m.state)},
          {"incarnation", m.incarnation},
          {"meta", std::string(reinterpret_cast<const char*>(m.meta.data()), m.meta.size())}};
}

nlohmann::json event_json(const Event& e) {
  return {{"event", "member"},
          {"kind", event_kind_name(e.kind)},
          {"name", std::string(e.subject_name)},
          {"address", e.subject.to_string()},
          {"incarnation", e.incarnation}};
}

nlohmann::json delivery_json(const MessageId& id, std::span<const std::byte> payload,
                             std::uint32_t hops) {
  return {{"event", "delivered"},
          {"id", message_id_text(id)},
          {"hops", hops},
          {"payload", std::string(reinterpret_cast<const char*>(payload.data()), payload.size())}};
}

std::string render_metrics(const NodeHandle& node) {
  std::ostringstream o;
  const Membership& m = node.membership();
  const MembershipStats& s = m.stats();
  const MulticastStats& mc = node.multicast_stats();
  const IoStats& io = node.io_stats();
  auto metric = [&](const char* name, const char* type, const char* help, auto value) {
    o << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n'
      << name << ' ' << value << '\n';
  };
  o << "# HELP grapevine_members Members this node lists, by state.\n"
       "# TYPE grapevine_members gauge\n";
  for (MemberState st : {MemberState::alive, MemberState::suspect, MemberState::failed,
                         MemberState::left}) {
    o << "grapevine_members{state=\"" << member_state_name(st) << "\"} " << m.member_count(st)
      << '\n';
  }
  metric("grapevine_probes_total", "counter", "Failure-detector probes sent.", s.probes);
  metric("grapevine_probes_failed_total", "counter", "Probes with no ack, direct or indirect.",
         s.probes_failed);
  metric("grapevine_indirect_probes_total", "counter", "Ping-req messages sent.",
         s.indirect_probes);
  metric("grapevine_suspicions_total", "counter", "Members this node marked suspect.",
         s.suspicions);
  metric("grapevine_refutations_total", "counter", "Accusations about this node it refuted.",
         s.refutations);
  metric("grapevine_failures_total", "counter", "Members marked failed.", s.failures);
  metric("grapevine_leaves_total", "counter", "Members seen leaving.", s.leaves);
  metric("grapevine_push_pulls_total", "counter", "Full-state exchanges started.", s.push_pulls);
  metric("grapevine_messages_in_total", "counter", "Datagrams received.", io.datagrams_in);
  metric("grapevine_messages_out_total", "counter", "Datagrams sent.", io.datagrams_out);
  metric("grapevine_bytes_in_total", "counter", "Datagram bytes received.", io.bytes_in);
  metric("grapevine_bytes_out_total", "counter", "Datagram bytes sent.", io.bytes_out);
  metric("grapevine_streams_in_total", "counter", "TCP streams received.", io.streams_in);
  metric("grapevine_streams_out_total", "counter", "TCP streams sent.", io.streams_out);
  metric("grapevine_malformed_packets_total", "counter", "Packets dropped as malformed.",
         s.malformed_received + mc.malformed_received);
  metric("grapevine_rejected_packets_total", "counter",
         "Packets refused by the wire's checks (wrong key, label or CRC).", s.rejected_received);
  metric("grapevine_unknown_frames_total", "counter", "Frames of unknown type skipped.",
         s.unknown_frames + mc.unknown_frames);
  metric("grapevine_dropped_packets_total", "counter",
         "Packets that could not be sent or streams that failed.",
         io.send_errors + io.stream_errors + io.oversized_dropped);
  metric("grapevine_queue_depth", "gauge", "Membership updates waiting to be piggybacked.",
         m.queue_depth());
  metric("grapevine_health_score", "gauge", "Lifeguard local health score (0 = healthy).",
         m.health_score());
  metric("grapevine_multicast_delivered_total", "counter", "Multicast payloads delivered.",
         mc.delivered);
  metric("grapevine_multicast_duplicates_total", "counter", "Duplicate payload copies received.",
         mc.duplicates_received);
  return o.str();
}

}  // namespace grapevine::tools
