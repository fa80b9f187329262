// Serf's messages: see messages.h for the wire rules.
#include "core/serf/messages.h"

#include <array>

#include "wire/memberlist/msgpack.h"
#include "wire/writer.h"

namespace grapevine::detail::serf {
namespace {

namespace ml = wire::ml;
using ml::MpReader;
using ml::MpWriter;

constexpr std::size_t kFixedBytesMax = 256;  // type byte, keys, scalars of any one message

template <class F>
Bytes build(MessageType type, std::size_t variable_bytes, F&& body) {
  Bytes out(kFixedBytesMax + variable_bytes);
  wire::Writer w(out);
  w.u8(std::uint8_t(type));
  MpWriter mp(w);
  body(w, mp);
  if (!mp.ok()) return {};
  out.resize(w.size());
  return out;
}

std::size_t raw_len(std::size_t n) { return ml::raw_size(n); }

template <class T>
Result<T> finish(const MpReader& r, T&& value) {
  if (!r.ok()) return make_error(r.error(), r.error_detail());
  return std::forward<T>(value);
}

std::string_view name_field(MpReader& r) { return r.str(kNameBytesMax); }

}  // namespace

Bytes encode(const Leave& m) {
  return build(MessageType::leave, raw_len(m.node.size()), [&](wire::Writer&, MpWriter& mp) {
    mp.map_header(3);
    mp.str("LTime"), mp.uint(m.ltime);
    mp.str("Node"), mp.str(m.node);
    mp.str("Prune"), mp.boolean(m.prune);
  });
}

Bytes encode(const Join& m) {
  return build(MessageType::join, raw_len(m.node.size()), [&](wire::Writer&, MpWriter& mp) {
    mp.map_header(2);
    mp.str("LTime"), mp.uint(m.ltime);
    mp.str("Node"), mp.str(m.node);
  });
}

Bytes encode(const UserEvent& m) {
  const std::size_t n = raw_len(m.name.size()) + raw_len(m.payload.size());
  return build(MessageType::user_event, n, [&](wire::Writer&, MpWriter& mp) {
    mp.map_header(4);
    mp.str("CC"), mp.boolean(m.cc);
    mp.str("LTime"), mp.uint(m.ltime);
    mp.str("Name"), mp.str(m.name);
    mp.str("Payload"), mp.bytes_or_nil(m.payload);
  });
}

Bytes encode(const Query& m) {
  std::size_t n = raw_len(m.source_node.size()) + raw_len(m.name.size()) +
                  raw_len(m.payload.size()) + 32;
  for (ByteSpan f : m.filters) n += raw_len(f.size());
  return build(MessageType::query, n, [&](wire::Writer&, MpWriter& mp) {
    mp.map_header(11);
    mp.str("Addr"), mp.bytes_or_nil(m.addr.span());
    mp.str("Filters");
    if (m.filters.empty()) {
      mp.nil();
    } else {
      mp.array_header(std::uint32_t(m.filters.size()));
      for (ByteSpan f : m.filters) mp.raw(f);
    }
    mp.str("Flags"), mp.uint(m.flags);
    mp.str("ID"), mp.uint(m.id);
    mp.str("LTime"), mp.uint(m.ltime);
    mp.str("Name"), mp.str(m.name);
    mp.str("Payload"), mp.bytes_or_nil(m.payload);
    mp.str("Port"), mp.uint(m.port);
    mp.str("RelayFactor"), mp.uint(m.relay_factor);
    mp.str("SourceNode"), mp.str(m.source_node);
    mp.str("Timeout"), mp.sint(m.timeout_ns);
  });
}

Bytes encode(const QueryResponse& m) {
  const std::size_t n = raw_len(m.from.size()) + raw_len(m.payload.size());
  return build(MessageType::query_response, n, [&](wire::Writer&, MpWriter& mp) {
    mp.map_header(5);
    mp.str("Flags"), mp.uint(m.flags);
    mp.str("From"), mp.str(m.from);
    mp.str("ID"), mp.uint(m.id);
    mp.str("LTime"), mp.uint(m.ltime);
    mp.str("Payload"), mp.bytes_or_nil(m.payload);
  });
}

Bytes encode(const PushPull& m) {
  std::size_t n = 0;
  for (const auto& [name, t] : m.status_ltimes) n += raw_len(name.size()) + 9;
  for (std::string_view name : m.left_members) n += raw_len(name.size());
  for (const UserEvent& e : m.events) n += raw_len(e.name.size()) + raw_len(e.payload.size()) + 40;
  return build(MessageType::push_pull, n, [&](wire::Writer&, MpWriter& mp) {
    mp.map_header(6);
    mp.str("EventLTime"), mp.uint(m.event_ltime);
    // One {LTime, Events} group per event: serf's merge replays each (de-duplicated there).
    mp.str("Events"), mp.array_header(std::uint32_t(m.events.size()));
    for (const UserEvent& e : m.events) {
      mp.map_header(2);
      mp.str("Events"), mp.array_header(1);
      mp.map_header(2);
      mp.str("Name"), mp.str(e.name);
      mp.str("Payload"), mp.bytes_or_nil(e.payload);
      mp.str("LTime"), mp.uint(e.ltime);
    }
    mp.str("LTime"), mp.uint(m.ltime);
    mp.str("LeftMembers"), mp.array_header(std::uint32_t(m.left_members.size()));
    for (std::string_view name : m.left_members) mp.str(name);
    mp.str("QueryLTime"), mp.uint(m.query_ltime);
    mp.str("StatusLTimes"), mp.map_header(std::uint32_t(m.status_ltimes.size()));
    for (const auto& [name, t] : m.status_ltimes) mp.str(name), mp.uint(t);
  });
}

Bytes encode(const KeyResponse& m) {
  std::size_t n = raw_len(m.message.size()) + raw_len(m.primary_key.size()) + 8;
  for (const std::string& k : m.keys) n += raw_len(k.size());
  return build(MessageType::key_response, n, [&](wire::Writer&, MpWriter& mp) {
    mp.map_header(4);
    mp.str("Keys");
    if (m.keys.empty()) {
      mp.nil();
    } else {
      mp.array_header(std::uint32_t(m.keys.size()));
      for (const std::string& k : m.keys) mp.str(k);
    }
    mp.str("Message"), mp.str(m.message);
    mp.str("PrimaryKey"), mp.str(m.primary_key);
    mp.str("Result"), mp.boolean(m.result);
  });
}

Bytes encode_conflict(const ConflictMember* m) {
  if (m == nullptr) {
    return build(MessageType::conflict_response, 0, [](wire::Writer&, MpWriter& mp) { mp.nil(); });
  }
  auto tags = encode_tags(m->tags);
  if (!tags) return {};
  const std::size_t n = raw_len(m->name.size()) + tags->size() + 32;
  return build(MessageType::conflict_response, n, [&](wire::Writer& w, MpWriter& mp) {
    mp.map_header(11);
    mp.str("Addr"), mp.bytes_or_nil(m->addr.span());
    mp.str("DelegateCur"), mp.uint(m->vsn[5]);
    mp.str("DelegateMax"), mp.uint(m->vsn[4]);
    mp.str("DelegateMin"), mp.uint(m->vsn[3]);
    mp.str("Name"), mp.str(m->name);
    mp.str("Port"), mp.uint(m->port);
    mp.str("ProtocolCur"), mp.uint(m->vsn[2]);
    mp.str("ProtocolMax"), mp.uint(m->vsn[1]);
    mp.str("ProtocolMin"), mp.uint(m->vsn[0]);
    mp.str("Status"), mp.uint(m->status);
    mp.str("Tags");
    w.bytes(ByteSpan(*tags).subspan(1));  // the msgpack map after serf's magic byte
  });
}

Bytes encode_key_request(ByteSpan key) {
  return build(MessageType::key_request, raw_len(key.size()), [&](wire::Writer&, MpWriter& mp) {
    mp.map_header(1);
    mp.str("Key"), mp.raw(key);
  });
}

Bytes encode_node_filter(std::span<const std::string_view> nodes) {
  std::size_t n = 0;
  for (std::string_view s : nodes) n += raw_len(s.size());
  return build(MessageType::leave /* filter type 0: nodes */, n, [&](wire::Writer&, MpWriter& mp) {
    mp.array_header(std::uint32_t(nodes.size()));
    for (std::string_view s : nodes) mp.str(s);
  });
}

Bytes encode_tag_filter(std::string_view tag, std::string_view expr) {
  const std::size_t n = raw_len(tag.size()) + raw_len(expr.size());
  return build(MessageType::join /* filter type 1: tag */, n, [&](wire::Writer&, MpWriter& mp) {
    mp.map_header(2);
    mp.str("Expr"), mp.str(expr);
    mp.str("Tag"), mp.str(tag);
  });
}

Bytes encode_relay(const Relay& m) {
  const std::size_t n = raw_len(m.dest_name.size()) + m.inner.size() + 32;
  return build(MessageType::relay, n, [&](wire::Writer& w, MpWriter& mp) {
    mp.map_header(2);
    mp.str("DestAddr"), mp.map_header(3);
    mp.str("IP"), mp.bytes_or_nil(m.ip.span());
    mp.str("Port"), mp.uint(m.port);
    mp.str("Zone"), mp.str("");
    mp.str("DestName"), mp.str(m.dest_name);
    w.bytes(m.inner);
  });
}

// ---- decoders ----

Result<Leave> decode_leave(ByteSpan body) {
  static constexpr std::array<std::string_view, 3> kNames = {"LTime", "Node", "Prune"};
  MpReader r(body);
  Leave m;
  r.struct_fields(kNames, [&](int f) {
    if (f == 0) m.ltime = r.uint(UINT64_MAX);
    if (f == 1) m.node = name_field(r);
    if (f == 2) m.prune = r.boolean();
  });
  return finish(r, std::move(m));
}

Result<Join> decode_join(ByteSpan body) {
  static constexpr std::array<std::string_view, 2> kNames = {"LTime", "Node"};
  MpReader r(body);
  Join m;
  r.struct_fields(kNames, [&](int f) {
    if (f == 0) m.ltime = r.uint(UINT64_MAX);
    if (f == 1) m.node = name_field(r);
  });
  return finish(r, std::move(m));
}

namespace {

void read_event(MpReader& r, UserEvent& m) {
  static constexpr std::array<std::string_view, 4> kNames = {"LTime", "Name", "Payload", "CC"};
  r.struct_fields(kNames, [&](int f) {
    if (f == 0) m.ltime = r.uint(UINT64_MAX);
    if (f == 1) m.name = name_field(r);
    if (f == 2) m.payload = r.raw(kPayloadBytesMax);
    if (f == 3) m.cc = r.boolean();
  });
}

// serf's userEvents {LTime, Events []{Name, Payload}}, flattened into `out`.
void read_event_group(MpReader& r, std::vector<UserEvent>& out) {
  static constexpr std::array<std::string_view, 2> kNames = {"LTime", "Events"};
  const std::size_t first = out.size();
  std::uint64_t ltime = 0;
  r.struct_fields(kNames, [&](int f) {
    if (f == 0) ltime = r.uint(UINT64_MAX);
    if (f != 1) return;
    const std::uint32_t n = r.array_header();
    for (std::uint32_t i = 0; i < n && r.ok(); ++i) {
      if (out.size() >= kPushPullEventsMax) return r.fail(Errc::too_large, "push-pull events");
      out.emplace_back();
      read_event(r, out.back());
    }
  });
  for (std::size_t i = first; i < out.size(); ++i) out[i].ltime = ltime;
}

}  // namespace

Result<UserEvent> decode_user_event(ByteSpan body) {
  MpReader r(body);
  UserEvent m;
  read_event(r, m);
  return finish(r, std::move(m));
}

Result<Query> decode_query(ByteSpan body) {
  static constexpr std::array<std::string_view, 11> kNames = {
      "LTime",       "ID",      "Addr", "Port", "SourceNode", "Filters",
      "Flags", "RelayFactor", "Timeout", "Name", "Payload"};
  MpReader r(body);
  Query m;
  r.struct_fields(kNames, [&](int f) {
    switch (f) {
      case 0: m.ltime = r.uint(UINT64_MAX); break;
      case 1: m.id = std::uint32_t(r.uint(UINT32_MAX)); break;
      case 2: r.small_bytes(m.addr); break;
      case 3: m.port = std::uint16_t(r.uint(UINT16_MAX)); break;
      case 4: m.source_node = name_field(r); break;
      case 5: {
        const std::uint32_t n = r.array_header();
        if (n > kFiltersMax) return r.fail(Errc::too_large, "query filters");
        for (std::uint32_t i = 0; i < n && r.ok(); ++i) m.filters.push_back(r.raw(kFilterBytesMax));
        break;
      }
      case 6: m.flags = std::uint32_t(r.uint(UINT32_MAX)); break;
      case 7: m.relay_factor = std::uint8_t(r.uint(UINT8_MAX)); break;
      case 8: m.timeout_ns = r.sint(INT64_MIN, INT64_MAX); break;
      case 9: m.name = name_field(r); break;
      case 10: m.payload = r.raw(kPayloadBytesMax); break;
      default: r.skip();
    }
  });
  if (r.ok() && m.addr.size != 0 && m.addr.size != 4 && m.addr.size != 16) {
    r.fail(Errc::malformed, "query address not 4 or 16 bytes");
  }
  return finish(r, std::move(m));
}

Result<QueryResponse> decode_query_response(ByteSpan body) {
  static constexpr std::array<std::string_view, 5> kNames = {"LTime", "ID", "From", "Flags",
                                                             "Payload"};
  MpReader r(body);
  QueryResponse m;
  r.struct_fields(kNames, [&](int f) {
    if (f == 0) m.ltime = r.uint(UINT64_MAX);
    if (f == 1) m.id = std::uint32_t(r.uint(UINT32_MAX));
    if (f == 2) m.from = name_field(r);
    if (f == 3) m.flags = std::uint32_t(r.uint(UINT32_MAX));
    if (f == 4) m.payload = r.raw(kPayloadBytesMax);
  });
  return finish(r, std::move(m));
}

Result<PushPull> decode_push_pull(ByteSpan body) {
  static constexpr std::array<std::string_view, 6> kNames = {
      "LTime", "StatusLTimes", "LeftMembers", "EventLTime", "Events", "QueryLTime"};
  MpReader r(body);
  PushPull m;
  r.struct_fields(kNames, [&](int f) {
    switch (f) {
      case 0: m.ltime = r.uint(UINT64_MAX); break;
      case 1: {
        const std::uint32_t n = r.map_header();
        if (n > kPushPullMembersMax) return r.fail(Errc::too_large, "push-pull members");
        for (std::uint32_t i = 0; i < n && r.ok(); ++i) {
          std::string_view name = name_field(r);
          m.status_ltimes.emplace_back(name, r.uint(UINT64_MAX));
        }
        break;
      }
      case 2: {
        const std::uint32_t n = r.array_header();
        if (n > kPushPullMembersMax) return r.fail(Errc::too_large, "push-pull left members");
        for (std::uint32_t i = 0; i < n && r.ok(); ++i) m.left_members.push_back(name_field(r));
        break;
      }
      case 3: m.event_ltime = r.uint(UINT64_MAX); break;
      case 4: {
        const std::uint32_t n = r.array_header();
        for (std::uint32_t i = 0; i < n && r.ok(); ++i) read_event_group(r, m.events);
        break;
      }
      case 5: m.query_ltime = r.uint(UINT64_MAX); break;
      default: r.skip();
    }
  });
  return finish(r, std::move(m));
}

Result<KeyResponse> decode_key_response(ByteSpan body) {
  static constexpr std::array<std::string_view, 4> kNames = {"Result", "Message", "Keys",
                                                             "PrimaryKey"};
  MpReader r(body);
  KeyResponse m;
  r.struct_fields(kNames, [&](int f) {
    if (f == 0) m.result = r.boolean();
    if (f == 1) m.message = std::string(r.str(kNameBytesMax));
    if (f == 3) m.primary_key = std::string(r.str(kNameBytesMax));
    if (f != 2) return;
    const std::uint32_t n = r.array_header();
    if (n > kKeysMax) return r.fail(Errc::too_large, "key response keys");
    for (std::uint32_t i = 0; i < n && r.ok(); ++i) m.keys.emplace_back(r.str(kNameBytesMax));
  });
  return finish(r, std::move(m));
}

Result<ByteSpan> decode_key_request(ByteSpan body) {
  static constexpr std::array<std::string_view, 1> kNames = {"Key"};
  MpReader r(body);
  ByteSpan key;
  r.struct_fields(kNames, [&](int) { key = r.raw(64); });
  return finish(r, std::move(key));
}

Result<ConflictMember> decode_conflict(ByteSpan body) {
  static constexpr std::array<std::string_view, 11> kNames = {
      "Name",        "Addr",        "Port",        "Tags",        "Status",     "ProtocolMin",
      "ProtocolMax", "ProtocolCur", "DelegateMin", "DelegateMax", "DelegateCur"};
  MpReader r(body);
  ConflictMember m;
  r.struct_fields(kNames, [&](int f) {
    if (f == 0) m.name = name_field(r);
    if (f == 1) r.small_bytes(m.addr);
    if (f == 2) m.port = std::uint16_t(r.uint(UINT16_MAX));
    if (f == 3) {
      const std::uint32_t n = r.map_header();
      for (std::uint32_t i = 0; i < n && r.ok(); ++i) {
        std::string key(r.str(kTagsBytesMax));
        m.tags[key] = std::string(r.str(kTagsBytesMax));
      }
    }
    if (f == 4) m.status = std::uint8_t(r.sint(0, 255));
    if (f >= 5) m.vsn[std::size_t(f - 5)] = std::uint8_t(r.uint(UINT8_MAX));
  });
  return finish(r, std::move(m));
}

Result<Filter> decode_filter(ByteSpan filter) {
  if (filter.empty()) return make_error(Errc::malformed, "empty filter");
  const auto type = std::to_integer<std::uint8_t>(filter[0]);
  MpReader r(filter.subspan(1));
  Filter m;
  if (type == 0) {
    const std::uint32_t n = r.array_header();
    if (n > kFilterNodesMax) return make_error(Errc::too_large, "node filter");
    for (std::uint32_t i = 0; i < n && r.ok(); ++i) m.nodes.push_back(name_field(r));
  } else if (type == 1) {
    static constexpr std::array<std::string_view, 2> kNames = {"Tag", "Expr"};
    m.is_tag = true;
    r.struct_fields(kNames, [&](int f) {
      if (f == 0) m.tag = r.str(kTagsBytesMax);
      if (f == 1) m.expr = r.str(kFilterBytesMax);
    });
  } else {
    return make_error(Errc::unknown_type, "unknown filter type");
  }
  return finish(r, std::move(m));
}

Result<Relay> decode_relay(ByteSpan body) {
  static constexpr std::array<std::string_view, 2> kNames = {"DestAddr", "DestName"};
  static constexpr std::array<std::string_view, 3> kAddr = {"IP", "Port", "Zone"};
  MpReader r(body);
  Relay m;
  r.struct_fields(kNames, [&](int f) {
    if (f == 1) {
      m.dest_name = name_field(r);
      return;
    }
    r.struct_fields(kAddr, [&](int g) {
      if (g == 0) r.small_bytes(m.ip);
      if (g == 1) m.port = std::uint16_t(r.sint(0, UINT16_MAX));
      if (g == 2) r.skip();
    });
  });
  if (!r.ok()) return make_error(r.error(), r.error_detail());
  m.inner = body.subspan(r.position());
  return m;
}

}  // namespace grapevine::detail::serf
