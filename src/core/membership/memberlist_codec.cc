// MemberlistCodec: the membership messages in HashiCorp memberlist's dialect (wire/memberlist/
// does the bytes; this file maps them to the node's messages). Members are named: a member's
// id is memberlist_id(name), and names come from the member list when we send.
//
// Packets: one message, or a compound of several; then compression (if smaller), CRC for peers
// whose Vsn says protocol >= 5, AES-GCM with the primary key, the label. Streams: push/pull,
// TCP ping (answered with an ack on the same stream; sent by SWIM's fallback probe), user
// messages.
// Nonces come from the node's own seeded PRNG, not the OS: GCM needs nonces that never repeat
// under one key, not secret ones, and this keeps a node's output a function of its inputs (the
// machine contract). 96 bits from each node's xoshiro256** stream make a repeat negligible.
#include "core/membership/memberlist_codec.h"

#include <array>
#include <optional>

#include "util/rng.h"
#include "wire/memberlist/compound.h"
#include "wire/memberlist/messages.h"
#include "wire/memberlist/packet.h"
#include "wire/memberlist/stream.h"

namespace grapevine::detail {
namespace {

namespace ml = wire::ml;

ml::Vsn to_ml(const wire::Vsn& v) {
  ml::Vsn out;
  if (v[1] == 0) return ml::default_vsn();  // unknown: what plain memberlist sends
  for (std::size_t i = 0; i < 6; ++i) out.bytes[i] = v[i];
  out.size = 6;
  return out;
}

wire::Vsn from_ml(const ml::Vsn& v) {
  wire::Vsn out{};
  for (std::size_t i = 0; i < v.size && i < 6; ++i) out[i] = v.bytes[i];
  return out;
}

// memberlist's aliveNode drops messages with an impossible Vsn.
bool vsn_ok(const ml::Vsn& v) {
  if (v.size == 0) return true;  // v0.2.2 tolerates an empty Vsn
  if (v.size < 3) return false;
  return v.bytes[0] != 0 && v.bytes[1] != 0 && v.bytes[0] <= v.bytes[1];
}

class RngNonces final : public ml::NonceSource {
 public:
  explicit RngNonces(Rng& rng) : rng_(rng) {}
  bool fill(std::span<std::byte> out) noexcept override {
    for (std::size_t i = 0; i < out.size(); i += 8) {
      std::uint64_t v = rng_.next();
      for (std::size_t k = 0; k < 8 && i + k < out.size(); ++k) {
        out[i + k] = std::byte(v >> (8 * k));
      }
    }
    return true;
  }

 private:
  Rng& rng_;
};

template <class T>
bool append(Bytes& out, const T& m) {
  auto r = ml::encode_to_vector(m);
  if (!r) return false;
  out.insert(out.end(), r->begin(), r->end());
  return true;
}

class MemberlistCodec final : public Codec {
 public:
  MemberlistCodec(const MembershipConfig& config, const Address& self, const MemberList& list,
                  Rng& rng)
      : options_(config.memberlist), self_name_(config.name), self_(self), list_(list),
        nonces_(rng) {
    if (!options_.keys.empty()) {
      std::vector<std::span<const std::byte>> extra;
      for (std::size_t i = 1; i < options_.keys.size(); ++i) extra.emplace_back(options_.keys[i]);
      if (auto k = ml::Keyring::create(options_.keys.front(), extra)) keyring_.emplace(*k);
    }
    receive_.label = options_.label;
    receive_.keyring = keyring_ ? &*keyring_ : nullptr;
    receive_.verify_incoming = options_.gossip_verify_incoming;
    send_.label = options_.label;
    send_.keyring = keyring_ && options_.gossip_verify_outgoing ? &*keyring_ : nullptr;
    send_.nonces = &nonces_;
    send_.compress = options_.compression;
  }

  bool ping(const wire::PingFrame& f, const Address&, Bytes& out) override {
    ml::Ping m;
    m.seq_no = f.seq;
    m.node = f.target != 0 ? list_.name_of(f.target) : std::string_view{};
    m.source_addr = ml::ip_bytes(self_);
    m.source_port = self_.port;
    m.source_node = self_name_;
    return append(out, m);
  }
  bool ping_req(const wire::PingReqFrame& f, Bytes& out) override {
    ml::IndirectPingReq m;
    m.seq_no = f.seq;
    m.target = ml::ip_bytes(f.target_address);
    m.port = f.target_address.port;
    m.node = list_.name_of(f.target);
    m.nack = f.want_nack;
    m.source_addr = ml::ip_bytes(self_);
    m.source_port = self_.port;
    m.source_node = self_name_;
    return append(out, m);
  }
  bool ack(std::uint32_t seq, Bytes& out) override { return append(out, ml::AckResp{seq, {}}); }
  bool nack(std::uint32_t seq, Bytes& out) override { return append(out, ml::NackResp{seq}); }
  bool alive(const wire::AliveFrame& f, Bytes& out) override {
    ml::Alive m;
    m.incarnation = f.incarnation;
    m.node = f.name;
    m.addr = ml::ip_bytes(f.address);
    m.port = f.address.port;
    m.meta = f.meta;
    m.vsn = to_ml(f.vsn);
    return !m.node.empty() && append(out, m);
  }
  bool suspect(const wire::AccuseFrame& f, Bytes& out) override {
    ml::Suspect m{f.incarnation, list_.name_of(f.id), list_.name_of(f.from)};
    return !m.node.empty() && append(out, m);
  }
  bool dead(const wire::AccuseFrame& f, Bytes& out) override {
    ml::Dead m{f.incarnation, list_.name_of(f.id), list_.name_of(f.from)};
    return !m.node.empty() && append(out, m);
  }
  bool heartbeat(const wire::HeartbeatFrame&, Bytes&) override { return false; }
  bool hb_list(std::span<const wire::HeartbeatEntry>, Bytes&) override { return false; }
  bool user(std::span<const std::byte> payload, Bytes& out) override {
    out.push_back(std::byte(ml::MessageType::user));
    out.insert(out.end(), payload.begin(), payload.end());
    return true;
  }

  [[nodiscard]] std::size_t packet_overhead() const override {
    // memberlist's budget: compound header, label header, encryption.
    std::size_t n = 2;
    if (!options_.label.empty()) n += 2 + options_.label.size();
    if (send_.keyring != nullptr) n += ml::encrypt_overhead(send_.version);
    return n;
  }
  [[nodiscard]] std::size_t message_overhead() const override { return 2; }

  void pack(std::span<const Bytes> messages, const Peer& peer, Bytes& datagram) override {
    datagram.clear();
    if (messages.empty()) return;
    Bytes compound;
    ml::ByteSpan body = messages.front();
    if (messages.size() > 1) {
      std::vector<ml::ByteSpan> parts(messages.begin(), messages.end());
      compound.resize(ml::compound_size(parts));
      wire::Writer w(compound);
      if (!ml::write_compound(w, parts)) return;
      body = compound;
    }
    ml::SendConfig cfg = send_;
    cfg.crc = peer.pmax >= 5;
    if (auto sealed = ml::seal_packet(body, cfg)) datagram = std::move(*sealed);
  }

  void unpack(std::span<const std::byte> datagram, const Address& from,
              MessageSink& sink) override {
    std::vector<std::byte> scratch;
    auto opened = ml::open_packet(datagram, receive_, scratch);
    if (!opened) {
      if (opened.error().code == Errc::rejected) {
        sink.on_rejected();
      } else {
        sink.on_malformed();
      }
      return;
    }
    Handler h(from, sink);
    auto stats = ml::dispatch_packet(*opened, h, receive_.decompressed_bytes_max);
    // Compound parts cut off by the packet's end are dropped (as memberlist does); a packet
    // that had any is counted once as malformed.
    if (stats.truncated_parts > 0) sink.on_malformed();
  }

  Bytes push_pull(const wire::PushPullHeader& h,
                  std::span<const wire::MemberEntry> members) override {
    std::vector<ml::PushNodeState> nodes;
    nodes.reserve(members.size());
    for (const auto& m : members) {
      if (m.name.empty()) continue;  // memberlist cannot name it
      ml::PushNodeState n;
      n.name = m.name;
      n.addr = ml::ip_bytes(m.address);
      n.port = m.address.port;
      n.meta = m.meta;
      n.incarnation = m.incarnation;
      n.state = std::int32_t(m.state);
      n.vsn = to_ml(m.vsn);
      nodes.push_back(n);
    }
    auto body = ml::encode_push_pull(nodes, h.user_state, h.join);
    if (!body) return {};
    auto sealed = ml::seal_stream(*body, send_);
    return sealed ? std::move(*sealed) : Bytes{};
  }

  Bytes stream_ping(const wire::PingFrame& f) override {
    // memberlist's sendPingAndWaitForAck: the probe's ping struct, [0][msgpack ping], through
    // rawSendMsgStream (compressed if enabled, encrypted with the primary key, labelled).
    Bytes body;
    if (!ping(f, self_, body)) return {};
    auto sealed = ml::seal_stream(body, send_);
    return sealed ? std::move(*sealed) : Bytes{};
  }

  Bytes unpack_stream(std::span<const std::byte> message, const Address& from,
                      StreamSink& sink) override;

  [[nodiscard]] Result<std::size_t> stream_message_length(
      std::span<const std::byte> received) const override {
    // An encrypted stream states its length: frame it without decrypting, so a wrong key is
    // refused (and counted) by unpack_stream rather than dropped here unseen.
    std::size_t at = 0;
    if (!received.empty() && received[0] == std::byte(ml::MessageType::has_label)) {
      if (received.size() < 2) return std::size_t(0);
      at = 2 + std::to_integer<std::size_t>(received[1]);
      if (received.size() < at) return std::size_t(0);
    }
    if (received.size() > at && received[at] == std::byte(ml::MessageType::encrypt)) {
      if (received.size() < at + 5) return std::size_t(0);
      std::size_t len = 0;
      for (std::size_t i = 1; i <= 4; ++i) {
        len = len << 8 | std::to_integer<std::size_t>(received[at + i]);
      }
      if (len > ml::kEncryptedStreamBytesMax) return make_error(Errc::too_large, "over 20 MB");
      return received.size() >= at + 5 + len ? at + 5 + len : std::size_t(0);
    }
    // Plain streams: find the end with the policy checks off (label, encryption required);
    // unpack_stream applies them and counts what it refuses.
    ml::ReceiveConfig framing = receive_;
    framing.label = {};  // the label header, if any, is skipped above
    framing.skip_inbound_label_check = false;
    framing.keyring = nullptr;
    framing.verify_incoming = false;
    ml::StreamReader reader(framing);
    std::size_t consumed = at;
    for (;;) {
      auto ev = reader.next(received.subspan(consumed));
      if (!ev) return ev.error();
      consumed += ev->consumed;
      if (ev->kind == ml::StreamEventKind::need_more) return std::size_t(0);
      if (ev->kind == ml::StreamEventKind::done) return consumed;
      if (consumed > received.size()) return make_error(Errc::malformed, "stream overrun");
    }
  }

  [[nodiscard]] NodeId id_for_name(std::string_view name) const override {
    return memberlist_id(name);
  }

  Result<void> change_key(KeyChange op, std::span<const std::byte> key) override {
    if (!keyring_) return make_error(Errc::not_ready, "encryption is not enabled");
    switch (op) {
      case KeyChange::install: return keyring_->add_key(key);
      case KeyChange::use: return keyring_->use_key(key);
      case KeyChange::remove: return keyring_->remove_key(key);
    }
    return make_error(Errc::invalid_argument, "unknown key operation");
  }
  [[nodiscard]] std::vector<std::vector<std::byte>> keys() const override {
    std::vector<std::vector<std::byte>> out;
    if (!keyring_) return out;
    for (std::size_t i = 0; i < keyring_->size(); ++i) {
      auto k = keyring_->key(i);
      out.emplace_back(k.begin(), k.end());
    }
    return out;
  }

 private:
  // memberlist's messages -> the node's.
  class Handler final : public ml::PacketHandler {
   public:
    Handler(const Address& from, MessageSink& sink) : from_(from), sink_(sink) {}
    void on_ping(const ml::Ping& m) override {
      wire::PingFrame f{m.seq_no, m.node.empty() ? 0 : memberlist_id(m.node),
                        m.source_node.empty() ? 0 : memberlist_id(m.source_node)};
      sink_.on_ping(f, source(m.source_addr, m.source_port));
    }
    void on_indirect_ping(const ml::IndirectPingReq& m) override {
      auto target = ml::to_address(m.target, m.port);
      if (!target) return sink_.on_malformed();
      wire::PingReqFrame f{m.seq_no, memberlist_id(m.node), *target, m.nack};
      sink_.on_ping_req(f, source(m.source_addr, m.source_port));
    }
    void on_ack(const ml::AckResp& m) override { sink_.on_ack(m.seq_no); }
    void on_nack(const ml::NackResp& m) override { sink_.on_nack(m.seq_no); }
    void on_suspect(const ml::Suspect& m) override {
      sink_.on_suspect(wire::AccuseFrame{memberlist_id(m.node), m.incarnation,
                                         memberlist_id(m.from)});
    }
    void on_alive(const ml::Alive& m) override {
      auto address = ml::to_address(m.addr, m.port);
      if (!address || m.node.empty() || !vsn_ok(m.vsn)) return sink_.on_malformed();
      wire::AliveFrame f{memberlist_id(m.node), m.incarnation, *address, m.meta, m.node,
                         from_ml(m.vsn)};
      sink_.on_alive(f, f.vsn[1]);
    }
    void on_dead(const ml::Dead& m) override {
      sink_.on_dead(wire::AccuseFrame{memberlist_id(m.node), m.incarnation,
                                      memberlist_id(m.from)});
    }
    void on_user(ml::ByteSpan payload) override { sink_.on_user(payload); }
    void on_error(std::uint8_t, const Error& e) override {
      if (e.code == Errc::rejected) {
        sink_.on_rejected();
      } else if (e.code == Errc::unknown_type) {
        sink_.on_unknown();
      } else {
        sink_.on_malformed();
      }
    }

   private:
    // Acks go to SourceAddr:SourcePort when both are given, else to the sender.
    Address source(const ml::IpBytes& ip, std::uint16_t port) const {
      auto a = port != 0 ? ml::to_address(ip, port) : std::nullopt;
      return a ? *a : from_;
    }
    Address from_;
    MessageSink& sink_;
  };

  MemberlistOptions options_;
  std::string self_name_;
  Address self_;
  const MemberList& list_;
  RngNonces nonces_;
  std::optional<ml::Keyring> keyring_;
  ml::ReceiveConfig receive_;
  ml::SendConfig send_;
};

Bytes MemberlistCodec::unpack_stream(std::span<const std::byte> message, const Address&,
                                     StreamSink& sink) {
  ml::StreamReader reader(receive_);
  std::size_t consumed = 0;
  Bytes reply;
  for (;;) {
    auto ev = reader.next(message.subspan(consumed));
    if (!ev) {
      if (ev.error().code == Errc::rejected) {
        sink.on_rejected();
      } else {
        sink.on_malformed();
      }
      return reply;
    }
    switch (ev->kind) {
      case ml::StreamEventKind::need_more:
        sink.on_malformed();  // the driver hands us whole messages
        return reply;
      case ml::StreamEventKind::done:
        return reply;
      case ml::StreamEventKind::ping: {
        // A TCP fallback ping (memberlist >= protocol 3): answer on the same stream.
        if (!ev->ping.node.empty() && ev->ping.node != self_name_) return reply;
        Bytes body;
        append(body, ml::AckResp{ev->ping.seq_no, {}});
        if (auto sealed = ml::seal_stream(body, send_)) reply = std::move(*sealed);
        break;
      }
      case ml::StreamEventKind::push_pull_header: {
        wire::PushPullHeader h;
        h.join = ev->header.join;
        h.count = ev->header.nodes;
        sink.on_push_pull(h);
        break;
      }
      case ml::StreamEventKind::node: {
        const ml::PushNodeState& n = ev->node;
        auto address = ml::to_address(n.addr, n.port);
        if (!address || n.name.empty() || n.state < 0 || n.state > 3) {
          sink.on_malformed();
          break;
        }
        wire::MemberEntry m{memberlist_id(n.name), *address, n.incarnation,
                            wire::WireState(n.state), n.meta, n.name, from_ml(n.vsn)};
        sink.on_member(m, m.vsn[1]);
        break;
      }
      case ml::StreamEventKind::user_msg:
        sink.on_user(ev->bytes);
        break;
      case ml::StreamEventKind::ack:
        sink.on_stream_ack(ev->ack.seq_no);
        break;
      case ml::StreamEventKind::user_state:
        if (!ev->bytes.empty()) sink.on_user_state(ev->bytes);
        break;
      case ml::StreamEventKind::err:
        break;
    }
    consumed += ev->consumed;
  }
}

}  // namespace

std::unique_ptr<Codec> make_memberlist_codec(const MembershipConfig& config, const Address& self,
                                             const MemberList& list, Rng& rng) {
  return std::make_unique<MemberlistCodec>(config, self, list, rng);
}

}  // namespace grapevine::detail
