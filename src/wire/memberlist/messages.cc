// memberlist message codecs: see messages.h for the wire rules and the deviations from Go.
#include "wire/memberlist/messages.h"

namespace grapevine::wire::ml {
namespace {

// Upper bound on everything but the variable-length fields: type byte, map header, the longest
// key set (indirectPingReq's eight keys, 61 bytes) and nine bytes per scalar value.
constexpr std::size_t kFixedBytesMax = 160;

constexpr std::array<std::uint8_t, 12> kV4MappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

// Starts a message: the type byte (unless `type` is nullopt) and the map header.
void begin(Writer& w, MpWriter& mp, std::optional<MessageType> type, std::uint32_t fields) {
  if (type) w.u8(std::uint8_t(*type));
  mp.map_header(fields);
}

// Ends an encode: on failure rolls `w` back to `start` so nothing partial is left.
Result<void> finish(Writer& w, const MpWriter& mp, std::size_t start) noexcept {
  if (mp.ok()) return {};
  w.truncate(start);
  return make_error(Errc::no_space, "memberlist message does not fit the buffer");
}

void read_ip(MpReader& r, IpBytes& ip) noexcept {
  r.small_bytes(ip);
  if (r.ok() && ip.size != 0 && ip.size != 4 && ip.size != 16) {
    r.fail(Errc::malformed, "IP address not 4 or 16 bytes");
  }
}

ByteSpan read_meta(MpReader& r) noexcept {
  return r.raw(kMetaBytesMax);
}

std::uint32_t read_u32(MpReader& r) noexcept {
  return std::uint32_t(r.uint(UINT32_MAX));
}
std::uint16_t read_u16(MpReader& r) noexcept {
  return std::uint16_t(r.uint(UINT16_MAX));
}

// A Go `int` count: negative is malformed, over `max` too_large.
std::uint32_t read_count(MpReader& r, std::size_t max, const char* what) noexcept {
  const std::int64_t v = r.sint(INT64_MIN, INT64_MAX);
  if (!r.ok()) return 0;
  if (v < 0) {
    r.fail(Errc::malformed, "negative count");
    return 0;
  }
  if (std::uint64_t(v) > max) {
    r.fail(Errc::too_large, what);
    return 0;
  }
  return std::uint32_t(v);
}

}  // namespace

IpBytes ip_bytes(const Address& a) noexcept {
  IpBytes ip;
  if (a.family == 4) {
    std::copy(a.ip.begin(), a.ip.begin() + 4, ip.bytes.begin());
    ip.size = 4;
  } else if (a.family == 6) {
    ip.bytes = a.ip;
    ip.size = 16;
  }
  return ip;
}

std::optional<Address> to_address(const IpBytes& ip, std::uint16_t port) noexcept {
  const bool mapped =
      ip.size == 16 && std::equal(kV4MappedPrefix.begin(), kV4MappedPrefix.end(), ip.bytes.begin());
  if (ip.size == 4 || mapped) {
    const std::uint8_t* b = ip.bytes.data() + (mapped ? 12 : 0);
    return Address::ipv4(b[0], b[1], b[2], b[3], port);
  }
  if (ip.size != 16) return std::nullopt;
  Address a;
  a.ip = ip.bytes;
  a.port = port;
  a.family = 6;
  return a;
}

Vsn default_vsn() noexcept {
  Vsn v;
  v.bytes = {1, 5, 2, 0, 0, 0};
  v.size = 6;
  return v;
}

// ---- encoders: keys in Go's sorted order ----

Result<void> encode(Writer& w, const Ping& m) noexcept {
  const std::size_t start = w.size();
  MpWriter mp(w);
  const bool addr = m.source_addr.size > 0, node = !m.source_node.empty(), port = m.source_port;
  begin(w, mp, MessageType::ping, 2 + addr + node + port);
  mp.str("Node"), mp.str(m.node);
  mp.str("SeqNo"), mp.uint(m.seq_no);
  if (addr) mp.str("SourceAddr"), mp.raw(m.source_addr.span());
  if (node) mp.str("SourceNode"), mp.str(m.source_node);
  if (port) mp.str("SourcePort"), mp.uint(m.source_port);
  return finish(w, mp, start);
}

Result<void> encode(Writer& w, const IndirectPingReq& m) noexcept {
  const std::size_t start = w.size();
  MpWriter mp(w);
  const bool addr = m.source_addr.size > 0, node = !m.source_node.empty(), port = m.source_port;
  begin(w, mp, MessageType::indirect_ping, 5 + addr + node + port);
  mp.str("Nack"), mp.boolean(m.nack);
  mp.str("Node"), mp.str(m.node);
  mp.str("Port"), mp.uint(m.port);
  mp.str("SeqNo"), mp.uint(m.seq_no);
  if (addr) mp.str("SourceAddr"), mp.raw(m.source_addr.span());
  if (node) mp.str("SourceNode"), mp.str(m.source_node);
  if (port) mp.str("SourcePort"), mp.uint(m.source_port);
  mp.str("Target"), mp.bytes_or_nil(m.target.span());
  return finish(w, mp, start);
}

Result<void> encode(Writer& w, const AckResp& m) noexcept {
  const std::size_t start = w.size();
  MpWriter mp(w);
  begin(w, mp, MessageType::ack_resp, 2);
  mp.str("Payload"), mp.bytes_or_nil(m.payload);
  mp.str("SeqNo"), mp.uint(m.seq_no);
  return finish(w, mp, start);
}

Result<void> encode(Writer& w, const NackResp& m) noexcept {
  const std::size_t start = w.size();
  MpWriter mp(w);
  begin(w, mp, MessageType::nack_resp, 1);
  mp.str("SeqNo"), mp.uint(m.seq_no);
  return finish(w, mp, start);
}

Result<void> encode(Writer& w, const ErrResp& m) noexcept {
  const std::size_t start = w.size();
  MpWriter mp(w);
  begin(w, mp, MessageType::err, 1);
  mp.str("Error"), mp.str(m.error);
  return finish(w, mp, start);
}

namespace {
Result<void> encode_accusation(Writer& w, MessageType type, std::uint32_t incarnation,
                               std::string_view node, std::string_view from) noexcept {
  const std::size_t start = w.size();
  MpWriter mp(w);
  begin(w, mp, type, 3);
  mp.str("From"), mp.str(from);
  mp.str("Incarnation"), mp.uint(incarnation);
  mp.str("Node"), mp.str(node);
  return finish(w, mp, start);
}
}  // namespace

Result<void> encode(Writer& w, const Suspect& m) noexcept {
  return encode_accusation(w, MessageType::suspect, m.incarnation, m.node, m.from);
}

Result<void> encode(Writer& w, const Dead& m) noexcept {
  return encode_accusation(w, MessageType::dead, m.incarnation, m.node, m.from);
}

Result<void> encode(Writer& w, const Alive& m) noexcept {
  if (m.meta.size() > kMetaBytesMax) return make_error(Errc::too_large, "meta over 512 bytes");
  const std::size_t start = w.size();
  MpWriter mp(w);
  begin(w, mp, MessageType::alive, 6);
  mp.str("Addr"), mp.bytes_or_nil(m.addr.span());
  mp.str("Incarnation"), mp.uint(m.incarnation);
  mp.str("Meta"), mp.bytes_or_nil(m.meta);
  mp.str("Node"), mp.str(m.node);
  mp.str("Port"), mp.uint(m.port);
  mp.str("Vsn"), mp.bytes_or_nil(m.vsn.span());
  return finish(w, mp, start);
}

Result<void> encode(Writer& w, const PushPullHeader& m) noexcept {
  if (m.nodes > kPushPullNodesMax) return make_error(Errc::too_large, "push/pull over 1M nodes");
  if (m.user_state_len > kUserStateBytesMax) {
    return make_error(Errc::too_large, "user state over 20 MB");
  }
  const std::size_t start = w.size();
  MpWriter mp(w);
  begin(w, mp, std::nullopt, 3);
  mp.str("Join"), mp.boolean(m.join);
  mp.str("Nodes"), mp.sint(m.nodes);
  mp.str("UserStateLen"), mp.sint(m.user_state_len);
  return finish(w, mp, start);
}

Result<void> encode(Writer& w, const PushNodeState& m) noexcept {
  if (m.meta.size() > kMetaBytesMax) return make_error(Errc::too_large, "meta over 512 bytes");
  const std::size_t start = w.size();
  MpWriter mp(w);
  begin(w, mp, std::nullopt, 7);
  mp.str("Addr"), mp.bytes_or_nil(m.addr.span());
  mp.str("Incarnation"), mp.uint(m.incarnation);
  mp.str("Meta"), mp.bytes_or_nil(m.meta);
  mp.str("Name"), mp.str(m.name);
  mp.str("Port"), mp.uint(m.port);
  mp.str("State"), mp.sint(m.state);
  mp.str("Vsn"), mp.bytes_or_nil(m.vsn.span());
  return finish(w, mp, start);
}

Result<void> encode(Writer& w, const UserMsgHeader& m) noexcept {
  if (m.user_msg_len > kUserMsgBytesMax) return make_error(Errc::too_large, "user msg over 20 MB");
  const std::size_t start = w.size();
  MpWriter mp(w);
  begin(w, mp, std::nullopt, 1);
  mp.str("UserMsgLen"), mp.sint(m.user_msg_len);
  return finish(w, mp, start);
}

Result<void> encode(Writer& w, const Compress& m) noexcept {
  const std::size_t start = w.size();
  MpWriter mp(w);
  begin(w, mp, std::nullopt, 2);
  mp.str("Algo"), mp.uint(m.algo);
  mp.str("Buf"), mp.bytes_or_nil(m.buf);
  return finish(w, mp, start);
}

// ---- size bounds ----

std::size_t encoded_size_max(const Ping& m) noexcept {
  return kFixedBytesMax + raw_size(m.node.size()) + raw_size(m.source_node.size()) + 17;
}
std::size_t encoded_size_max(const IndirectPingReq& m) noexcept {
  return kFixedBytesMax + raw_size(m.node.size()) + raw_size(m.source_node.size()) + 2 * 17;
}
std::size_t encoded_size_max(const AckResp& m) noexcept {
  return kFixedBytesMax + raw_size(m.payload.size());
}
std::size_t encoded_size_max(const NackResp&) noexcept {
  return kFixedBytesMax;
}
std::size_t encoded_size_max(const ErrResp& m) noexcept {
  return kFixedBytesMax + raw_size(m.error.size());
}
std::size_t encoded_size_max(const Suspect& m) noexcept {
  return kFixedBytesMax + raw_size(m.node.size()) + raw_size(m.from.size());
}
std::size_t encoded_size_max(const Dead& m) noexcept {
  return kFixedBytesMax + raw_size(m.node.size()) + raw_size(m.from.size());
}
std::size_t encoded_size_max(const Alive& m) noexcept {
  return kFixedBytesMax + raw_size(m.node.size()) + raw_size(m.meta.size()) + 17 + 7;
}
std::size_t encoded_size_max(const PushPullHeader&) noexcept {
  return kFixedBytesMax;
}
std::size_t encoded_size_max(const PushNodeState& m) noexcept {
  return kFixedBytesMax + raw_size(m.name.size()) + raw_size(m.meta.size()) + 17 + 7;
}
std::size_t encoded_size_max(const UserMsgHeader&) noexcept {
  return kFixedBytesMax;
}
std::size_t encoded_size_max(const Compress& m) noexcept {
  return kFixedBytesMax + raw_size(m.buf.size());
}

// ---- readers: field lists in Go declaration order (the array form's order) ----

void read(MpReader& r, Ping& m) noexcept {
  static constexpr std::string_view kFields[] = {"SeqNo", "Node", "SourceAddr", "SourcePort",
                                                 "SourceNode"};
  r.struct_fields(kFields, [&](int f) {
    switch (f) {
      case 0:
        m.seq_no = read_u32(r);
        break;
      case 1:
        m.node = r.str();
        break;
      case 2:
        read_ip(r, m.source_addr);
        break;
      case 3:
        m.source_port = read_u16(r);
        break;
      default:
        m.source_node = r.str();
        break;
    }
  });
}

void read(MpReader& r, IndirectPingReq& m) noexcept {
  static constexpr std::string_view kFields[] = {"SeqNo", "Target",     "Port",       "Node",
                                                 "Nack",  "SourceAddr", "SourcePort", "SourceNode"};
  r.struct_fields(kFields, [&](int f) {
    switch (f) {
      case 0:
        m.seq_no = read_u32(r);
        break;
      case 1:
        read_ip(r, m.target);
        break;
      case 2:
        m.port = read_u16(r);
        break;
      case 3:
        m.node = r.str();
        break;
      case 4:
        m.nack = r.boolean();
        break;
      case 5:
        read_ip(r, m.source_addr);
        break;
      case 6:
        m.source_port = read_u16(r);
        break;
      default:
        m.source_node = r.str();
        break;
    }
  });
}

void read(MpReader& r, AckResp& m) noexcept {
  static constexpr std::string_view kFields[] = {"SeqNo", "Payload"};
  r.struct_fields(kFields, [&](int f) {
    if (f == 0) {
      m.seq_no = read_u32(r);
    } else {
      m.payload = r.raw();
    }
  });
}

void read(MpReader& r, NackResp& m) noexcept {
  static constexpr std::string_view kFields[] = {"SeqNo"};
  r.struct_fields(kFields, [&](int) { m.seq_no = read_u32(r); });
}

void read(MpReader& r, ErrResp& m) noexcept {
  static constexpr std::string_view kFields[] = {"Error"};
  r.struct_fields(kFields, [&](int) { m.error = r.str(); });
}

namespace {
template <class T>
void read_accusation(MpReader& r, T& m) noexcept {
  static constexpr std::string_view kFields[] = {"Incarnation", "Node", "From"};
  r.struct_fields(kFields, [&](int f) {
    switch (f) {
      case 0:
        m.incarnation = read_u32(r);
        break;
      case 1:
        m.node = r.str();
        break;
      default:
        m.from = r.str();
        break;
    }
  });
}
}  // namespace

void read(MpReader& r, Suspect& m) noexcept {
  read_accusation(r, m);
}
void read(MpReader& r, Dead& m) noexcept {
  read_accusation(r, m);
}

void read(MpReader& r, Alive& m) noexcept {
  static constexpr std::string_view kFields[] = {"Incarnation", "Node", "Addr",
                                                 "Port",        "Meta", "Vsn"};
  r.struct_fields(kFields, [&](int f) {
    switch (f) {
      case 0:
        m.incarnation = read_u32(r);
        break;
      case 1:
        m.node = r.str();
        break;
      case 2:
        read_ip(r, m.addr);
        break;
      case 3:
        m.port = read_u16(r);
        break;
      case 4:
        m.meta = read_meta(r);
        break;
      default:
        r.small_bytes(m.vsn);
        break;
    }
  });
}

void read(MpReader& r, PushPullHeader& m) noexcept {
  static constexpr std::string_view kFields[] = {"Nodes", "UserStateLen", "Join"};
  r.struct_fields(kFields, [&](int f) {
    switch (f) {
      case 0:
        m.nodes = read_count(r, kPushPullNodesMax, "push/pull over 1M nodes");
        break;
      case 1:
        m.user_state_len = read_count(r, kUserStateBytesMax, "user state over 20 MB");
        break;
      default:
        m.join = r.boolean();
        break;
    }
  });
}

void read(MpReader& r, PushNodeState& m) noexcept {
  static constexpr std::string_view kFields[] = {"Name",        "Addr",  "Port", "Meta",
                                                 "Incarnation", "State", "Vsn"};
  r.struct_fields(kFields, [&](int f) {
    switch (f) {
      case 0:
        m.name = r.str();
        break;
      case 1:
        read_ip(r, m.addr);
        break;
      case 2:
        m.port = read_u16(r);
        break;
      case 3:
        m.meta = read_meta(r);
        break;
      case 4:
        m.incarnation = read_u32(r);
        break;
      case 5:
        m.state = std::int32_t(r.sint(INT32_MIN, INT32_MAX));
        break;
      default:
        r.small_bytes(m.vsn);
        break;
    }
  });
}

void read(MpReader& r, UserMsgHeader& m) noexcept {
  static constexpr std::string_view kFields[] = {"UserMsgLen"};
  r.struct_fields(kFields, [&](int) {
    m.user_msg_len = read_count(r, kUserMsgBytesMax, "user msg over 20 MB");
  });
}

void read(MpReader& r, Compress& m) noexcept {
  static constexpr std::string_view kFields[] = {"Algo", "Buf"};
  r.struct_fields(kFields, [&](int f) {
    if (f == 0) {
      m.algo = std::uint8_t(r.uint(0xff));
    } else {
      m.buf = r.raw();
    }
  });
}

}  // namespace grapevine::wire::ml
