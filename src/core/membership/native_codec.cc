// NativeCodec: the membership messages in grapevine's native framing (wire/native.h,
// wire/native_membership.h). A packet is the version byte and the frames back to back.
#include <array>

#include "core/membership/codec.h"
#include "util/hash.h"
#include "wire/native.h"

namespace grapevine::detail {
namespace {

template <class Write>
bool append_frame(Bytes& out, Write&& write) {
  std::array<std::byte, wire::kPacketBudgetBytesMax> buf;
  wire::Writer w(buf);
  if (!write(w)) return false;
  out.insert(out.end(), w.written().begin(), w.written().end());
  return true;
}

class NativeCodec final : public Codec {
 public:
  explicit NativeCodec(NodeId self) : self_(self) {}
  bool ping(const wire::PingFrame& f, const Address&, Bytes& out) override {
    return append_frame(out, [&](wire::Writer& w) { return wire::write_ping(w, f); });
  }
  bool ping_req(const wire::PingReqFrame& f, Bytes& out) override {
    return append_frame(out, [&](wire::Writer& w) { return wire::write_ping_req(w, f); });
  }
  bool ack(std::uint32_t seq, Bytes& out) override {
    return append_frame(out, [&](wire::Writer& w) { return wire::write_ack(w, wire::SeqFrame{seq}); });
  }
  bool nack(std::uint32_t seq, Bytes& out) override {
    return append_frame(out, [&](wire::Writer& w) { return wire::write_nack(w, wire::SeqFrame{seq}); });
  }
  bool alive(const wire::AliveFrame& f, Bytes& out) override {
    return append_frame(out, [&](wire::Writer& w) { return wire::write_alive(w, f); });
  }
  bool suspect(const wire::AccuseFrame& f, Bytes& out) override {
    return append_frame(out, [&](wire::Writer& w) { return wire::write_suspect(w, f); });
  }
  bool dead(const wire::AccuseFrame& f, Bytes& out) override {
    return append_frame(out, [&](wire::Writer& w) { return wire::write_dead(w, f); });
  }
  bool heartbeat(const wire::HeartbeatFrame& f, Bytes& out) override {
    return append_frame(out, [&](wire::Writer& w) { return wire::write_heartbeat(w, f); });
  }
  bool hb_list(std::span<const wire::HeartbeatEntry> rows, Bytes& out) override {
    return append_frame(out, [&](wire::Writer& w) { return wire::write_hb_list(w, rows); });
  }
  bool state_digest(const wire::ListDigestFrame& f, Bytes& out) override {
    return append_frame(out, [&](wire::Writer& w) { return wire::write_list_digest(w, f); });
  }
  bool user_event(const wire::UserEventFrame& f, Bytes& out) override {
    return append_frame(out, [&](wire::Writer& w) { return wire::write_user_event(w, f); });
  }
  bool query(const wire::QueryFrame& f, Bytes& out) override {
    return append_frame(out, [&](wire::Writer& w) { return wire::write_query(w, f); });
  }
  bool query_response(const wire::QueryResponseFrame& f, Bytes& out) override {
    return append_frame(out, [&](wire::Writer& w) { return wire::write_query_response(w, f); });
  }
  bool user(std::span<const std::byte>, Bytes&) override {
    return false;  // native multicast travels in its own frames (core/multicast)
  }

  [[nodiscard]] std::size_t packet_overhead() const override { return 1; }
  [[nodiscard]] std::size_t message_overhead() const override { return 0; }

  void pack(std::span<const Bytes> messages, const Peer&, Bytes& datagram) override {
    datagram.clear();
    datagram.push_back(std::byte{wire::kNativeVersion});
    for (const Bytes& m : messages) datagram.insert(datagram.end(), m.begin(), m.end());
  }

  void unpack(std::span<const std::byte> datagram, const Address& from,
              MessageSink& sink) override {
    wire::FrameIterator frames(datagram);
    wire::Frame frame;
    while (frames.next(frame)) dispatch(frame, from, sink);
    if (!frames.ok()) sink.on_malformed();
  }

  Bytes push_pull(const wire::PushPullHeader& h,
                  std::span<const wire::MemberEntry> members) override {
    std::size_t bytes = 64;
    for (const auto& m : members) bytes += wire::member_size(m, h.zones);
    if (h.events) bytes += wire::push_pull_events_size(h);
    Bytes out(bytes);
    wire::Writer w(out);
    wire::write_push_pull_header(w, h);
    for (const auto& m : members) wire::write_member(w, m, h.zones);
    if (h.events) wire::write_push_pull_events(w, h);
    wire::finish_stream(w);
    out.resize(w.ok() ? w.size() : 0);
    return out;
  }

  Bytes stream_ping(const wire::PingFrame& f) override {
    Bytes out(wire::kStreamPingBytesMax);
    wire::Writer w(out);
    if (!wire::write_stream_ping(w, f)) return {};
    out.resize(w.size());
    return out;
  }

  Bytes unpack_stream(std::span<const std::byte> message, const Address&,
                      StreamSink& sink) override {
    auto type = wire::stream_type(message);
    if (!type) {
      sink.on_malformed();
      return {};
    }
    if (*type == wire::StreamType::ping) return answer_ping(message, sink);
    if (*type == wire::StreamType::ack) {
      if (auto a = wire::decode_stream_ack(message)) sink.on_stream_ack(a->seq);
      else sink.on_malformed();
      return {};
    }
    wire::PushPullReader reader(message);
    if (!reader.ok()) {
      sink.on_malformed();
      return {};
    }
    sink.on_push_pull(reader.header());
    wire::MemberEntry m;
    while (reader.next(m)) sink.on_member(m, 0);
    if (reader.ok() && reader.header().events) {
      sink.on_push_pull_events(reader.event_clock());
      wire::UserEventFrame e;
      while (reader.next_event(e)) sink.on_push_pull_event(e);
    }
    if (!reader.ok()) sink.on_malformed();
    return {};
  }

  [[nodiscard]] Result<std::size_t> stream_message_length(
      std::span<const std::byte> received) const override {
    if (received.size() < 4) return std::size_t(0);
    const std::size_t len = std::size_t(std::to_integer<std::uint8_t>(received[0])) << 24 |
                            std::size_t(std::to_integer<std::uint8_t>(received[1])) << 16 |
                            std::size_t(std::to_integer<std::uint8_t>(received[2])) << 8 |
                            std::size_t(std::to_integer<std::uint8_t>(received[3]));
    if (len > wire::kStreamBytesMax) return make_error(Errc::too_large, "stream over 20 MB");
    return received.size() >= len + 4 ? len + 4 : std::size_t(0);
  }

  [[nodiscard]] NodeId id_for_name(std::string_view) const override { return 0; }

 private:
  // A TCP fallback ping: acked on the same stream if it is meant for us.
  Bytes answer_ping(std::span<const std::byte> message, StreamSink& sink) const {
    auto ping = wire::decode_stream_ping(message);
    if (!ping) {
      sink.on_malformed();
      return {};
    }
    if (ping->target != 0 && ping->target != self_) return {};
    Bytes out(wire::kStreamPingBytesMax);
    wire::Writer w(out);
    if (!wire::write_stream_ack(w, wire::SeqFrame{ping->seq})) return {};
    out.resize(w.size());
    return out;
  }

  static void dispatch(const wire::Frame& frame, const Address& from, MessageSink& sink) {
    if (!wire::in_family(frame.type, wire::FrameFamily::membership)) {
      // Another component's frame (a node composes several protocols): theirs to count.
      if (!wire::other_component(frame.type, wire::FrameFamily::membership)) sink.on_unknown();
      return;
    }
    bool ok = true;
    switch (wire::MemberFrame(frame.type)) {
      case wire::MemberFrame::ping:
        if (auto f = wire::decode_ping(frame.body)) sink.on_ping(*f, from); else ok = false;
        break;
      case wire::MemberFrame::ping_req:
        if (auto f = wire::decode_ping_req(frame.body); f && f->target_address.valid()) {
          sink.on_ping_req(*f, from);
        } else {
          ok = false;
        }
        break;
      case wire::MemberFrame::ack:
        if (auto f = wire::decode_seq(frame.body)) sink.on_ack(f->seq); else ok = false;
        break;
      case wire::MemberFrame::nack:
        if (auto f = wire::decode_seq(frame.body)) sink.on_nack(f->seq); else ok = false;
        break;
      case wire::MemberFrame::alive:
        if (auto f = wire::decode_alive(frame.body)) sink.on_alive(*f, 0); else ok = false;
        break;
      case wire::MemberFrame::suspect:
        if (auto f = wire::decode_accuse(frame.body)) sink.on_suspect(*f); else ok = false;
        break;
      case wire::MemberFrame::dead:
        if (auto f = wire::decode_accuse(frame.body)) sink.on_dead(*f); else ok = false;
        break;
      case wire::MemberFrame::heartbeat:
        if (auto f = wire::decode_heartbeat(frame.body)) sink.on_heartbeat(*f, from);
        else ok = false;
        break;
      case wire::MemberFrame::state_digest:
        if (auto f = wire::decode_list_digest(frame.body)) sink.on_state_digest(*f, from);
        else ok = false;
        break;
      case wire::MemberFrame::user_event:
        if (auto f = wire::decode_user_event(frame.body)) sink.on_user_event(*f); else ok = false;
        break;
      case wire::MemberFrame::query:
        if (auto f = wire::decode_query(frame.body)) sink.on_query(*f); else ok = false;
        break;
      case wire::MemberFrame::query_response:
        if (auto f = wire::decode_query_response(frame.body)) sink.on_query_response(*f);
        else ok = false;
        break;
      case wire::MemberFrame::hb_list: {
        wire::HeartbeatListReader reader(frame.body);
        wire::HeartbeatEntry e;
        while (reader.next(e)) sink.on_hb_entry(e);
        ok = reader.ok();
        break;
      }
      default:
        sink.on_unknown();
    }
    if (!ok) sink.on_malformed();
  }

  NodeId self_;
};

}  // namespace

std::unique_ptr<Codec> make_native_codec(NodeId self) {
  return std::make_unique<NativeCodec>(self);
}

NodeId memberlist_id(std::string_view name) noexcept {
  const NodeId h = hash_bytes(std::as_bytes(std::span(name.data(), name.size())), 0x6d6c);
  return (h & ~(NodeId(3) << 62)) | (NodeId(1) << 62);
}

}  // namespace grapevine::detail
