// memberlist's UDP packet pipeline: see packet.h.
#include "wire/memberlist/packet.h"

#include "wire/memberlist/compound.h"
#include "wire/memberlist/compress.h"
#include "wire/memberlist/crc32.h"
#include "wire/memberlist/label.h"

namespace grapevine::wire::ml {
namespace {

using Bytes = std::vector<std::byte>;

class Dispatcher {
 public:
  Dispatcher(PacketHandler& h, std::size_t decompressed_max) : h_(h), max_(decompressed_max) {}

  void message(ByteSpan msg, int depth) {
    if (msg.empty()) return error(0, make_error(Errc::malformed, "empty message"));
    const std::uint8_t type = std::to_integer<std::uint8_t>(msg[0]);
    const ByteSpan body = msg.subspan(1);
    switch (MessageType(type)) {
      case MessageType::compound:
        return compound(body, depth);
      case MessageType::compress:
        return compressed(body, depth);
      case MessageType::ping:
        return deliver<Ping>(type, body, &PacketHandler::on_ping);
      case MessageType::indirect_ping:
        return deliver<IndirectPingReq>(type, body, &PacketHandler::on_indirect_ping);
      case MessageType::ack_resp:
        return deliver<AckResp>(type, body, &PacketHandler::on_ack);
      case MessageType::nack_resp:
        return deliver<NackResp>(type, body, &PacketHandler::on_nack);
      case MessageType::suspect:
        return deliver<Suspect>(type, body, &PacketHandler::on_suspect);
      case MessageType::alive:
        return deliver<Alive>(type, body, &PacketHandler::on_alive);
      case MessageType::dead:
        return deliver<Dead>(type, body, &PacketHandler::on_dead);
      case MessageType::user:
        ++stats_.messages;
        return h_.on_user(body);
      default:
        return error(type, make_error(Errc::unknown_type, "message type not used on UDP"));
    }
  }

  [[nodiscard]] const DispatchStats& stats() const noexcept { return stats_; }

 private:
  template <class T>
  void deliver(std::uint8_t type, ByteSpan body, void (PacketHandler::*fn)(const T&)) {
    auto m = decode<T>(body);
    if (!m) return error(type, m.error());
    ++stats_.messages;
    (h_.*fn)(*m);
  }

  void compound(ByteSpan body, int depth) {
    if (depth >= kNestingMax)
      return error(7, make_error(Errc::malformed, "wrappers nested too deep"));
    auto parts = decode_compound(body);
    if (!parts) return error(7, parts.error());
    stats_.truncated_parts += parts->truncated;
    for (std::size_t i = 0; i < parts->count; ++i) message(parts->parts[i], depth + 1);
  }

  void compressed(ByteSpan body, int depth) {
    if (depth >= kNestingMax)
      return error(9, make_error(Errc::malformed, "wrappers nested too deep"));
    Bytes inner;
    if (auto r = decompress_message(body, inner, max_); !r) return error(9, r.error());
    message(inner, depth + 1);
  }

  void error(std::uint8_t type, const Error& e) {
    ++stats_.errors;
    h_.on_error(type, e);
  }

  PacketHandler& h_;
  std::size_t max_;
  DispatchStats stats_;
};

}  // namespace

Result<Bytes> seal_packet(ByteSpan msg, const SendConfig& cfg) {
  if (msg.empty()) return make_error(Errc::invalid_argument, "empty message");
  Bytes buf(msg.begin(), msg.end());
  if (cfg.compress) {
    Bytes c = compress_message(buf);
    if (c.size() < buf.size()) buf.swap(c);  // memberlist keeps the smaller form
  }
  if (cfg.crc) buf = add_crc(buf);
  Bytes out;
  if (cfg.label.size() > kLabelBytesMax) return make_error(Errc::too_large, "label over 255 bytes");
  out.reserve(label_header_size(cfg.label) + buf.size() + encrypt_overhead(cfg.version));
  if (!cfg.label.empty()) {
    out.push_back(std::byte(MessageType::has_label));
    out.push_back(std::byte(cfg.label.size()));
    out.insert(out.end(), as_bytes(cfg.label).begin(), as_bytes(cfg.label).end());
  }
  if (cfg.keyring == nullptr) {
    out.insert(out.end(), buf.begin(), buf.end());
    if (out.size() > kPacketBytesMax) return make_error(Errc::too_large, "packet over 64 KiB");
    return out;
  }
  NonceSource& nonces = cfg.nonces ? *cfg.nonces : os_nonce_source();
  auto r =
      encrypt_payload(cfg.version, cfg.keyring->primary(), buf, as_bytes(cfg.label), nonces, out);
  if (!r) return r.error();
  if (out.size() > kPacketBytesMax) return make_error(Errc::too_large, "packet over 64 KiB");
  return out;
}

std::size_t packet_budget(const SendConfig& cfg, std::size_t udp_buffer_bytes) noexcept {
  std::size_t overhead = kCompoundHeaderOverhead + label_header_size(cfg.label);
  if (cfg.keyring != nullptr) overhead += encrypt_overhead(cfg.version);
  return udp_buffer_bytes > overhead ? udp_buffer_bytes - overhead : 0;
}

Result<ByteSpan> open_packet(ByteSpan packet, const ReceiveConfig& cfg, Bytes& scratch) {
  if (packet.size() > kPacketBytesMax) return make_error(Errc::too_large, "packet over 64 KiB");
  auto rest = check_label(packet, cfg.label, cfg.skip_inbound_label_check);
  if (!rest) return rest.error();
  ByteSpan msg = *rest;
  if (cfg.keyring != nullptr) {
    auto r = decrypt_payload(*cfg.keyring, msg, as_bytes(cfg.label), scratch);
    if (r) {
      msg = scratch;
    } else if (cfg.verify_incoming) {  // whatever the cause, a policy rejection to count
      return make_error(Errc::rejected, r.error().detail);
    }  // else: memberlist treats it as plaintext
  }
  auto inner = strip_crc(msg);
  if (!inner) return inner.error();
  if (inner->empty()) return make_error(Errc::malformed, "empty message");
  return *inner;
}

DispatchStats dispatch_packet(ByteSpan msg, PacketHandler& handler,
                              std::size_t decompressed_bytes_max) {
  Dispatcher d(handler, decompressed_bytes_max);
  d.message(msg, 0);
  return d.stats();
}

DispatchStats receive_packet(ByteSpan packet, const ReceiveConfig& cfg, PacketHandler& handler) {
  Bytes scratch;
  auto msg = open_packet(packet, cfg, scratch);
  if (!msg) {
    handler.on_error(packet.empty() ? 0 : std::to_integer<std::uint8_t>(packet[0]), msg.error());
    DispatchStats s;
    s.errors = 1;
    return s;
  }
  return dispatch_packet(*msg, handler, cfg.decompressed_bytes_max);
}

}  // namespace grapevine::wire::ml
