// memberlist's TCP stream framing: see stream.h.
#include "wire/memberlist/stream.h"

#include "wire/memberlist/compress.h"
#include "wire/memberlist/label.h"

namespace grapevine::wire::ml {
namespace {

using Bytes = std::vector<std::byte>;

std::uint32_t read_u32be(ByteSpan b) noexcept {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v = v << 8 | std::to_integer<std::uint32_t>(b[i]);
  return v;
}

template <class T>
Result<void> append(Bytes& out, std::size_t& used, const T& m) {
  Writer w(std::span<std::byte>(out).subspan(used));
  auto r = encode(w, m);
  if (r) used += w.size();
  return r;
}

}  // namespace

Result<Bytes> encode_push_pull(std::span<const PushNodeState> nodes, ByteSpan user_state,
                               bool join) {
  if (nodes.size() > kPushPullNodesMax) return make_error(Errc::too_large, "over 1M nodes");
  if (user_state.size() > kUserStateBytesMax)
    return make_error(Errc::too_large, "user state over 20 MB");
  const PushPullHeader header{std::uint32_t(nodes.size()), std::uint32_t(user_state.size()), join};
  std::size_t size = 1 + encoded_size_max(header) + user_state.size();
  for (const PushNodeState& n : nodes) size += encoded_size_max(n);
  Bytes out(size);
  out[0] = std::byte(MessageType::push_pull);
  std::size_t used = 1;
  if (auto r = append(out, used, header); !r) return r.error();
  for (const PushNodeState& n : nodes) {
    if (auto r = append(out, used, n); !r) return r.error();
  }
  std::copy(user_state.begin(), user_state.end(), out.begin() + std::ptrdiff_t(used));
  out.resize(used + user_state.size());
  return out;
}

Result<Bytes> encode_user_msg(ByteSpan payload) {
  if (payload.size() > kUserMsgBytesMax) return make_error(Errc::too_large, "user msg over 20 MB");
  const UserMsgHeader header{std::uint32_t(payload.size())};
  Bytes out(1 + encoded_size_max(header) + payload.size());
  out[0] = std::byte(MessageType::user);
  std::size_t used = 1;
  if (auto r = append(out, used, header); !r) return r.error();
  std::copy(payload.begin(), payload.end(), out.begin() + std::ptrdiff_t(used));
  out.resize(used + payload.size());
  return out;
}

Result<Bytes> seal_stream(ByteSpan body, const SendConfig& cfg) {
  if (body.empty()) return make_error(Errc::invalid_argument, "empty stream body");
  if (cfg.label.size() > kLabelBytesMax) return make_error(Errc::too_large, "label over 255 bytes");
  Bytes compressed;
  if (cfg.compress) {
    compressed = compress_message(body);
    body = compressed;
  }
  Bytes out;
  if (!cfg.label.empty()) {
    out.push_back(std::byte(MessageType::has_label));
    out.push_back(std::byte(cfg.label.size()));
    out.insert(out.end(), as_bytes(cfg.label).begin(), as_bytes(cfg.label).end());
  }
  if (cfg.keyring == nullptr) {
    out.insert(out.end(), body.begin(), body.end());
    return out;
  }
  const std::size_t length = encrypted_size(cfg.version, body.size());
  if (length > kEncryptedStreamBytesMax) return make_error(Errc::too_large, "stream over 20 MB");
  const std::size_t header_at = out.size();
  out.push_back(std::byte(MessageType::encrypt));
  for (int s = 24; s >= 0; s -= 8) out.push_back(std::byte((length >> s) & 0xff));
  Bytes aad(out.begin() + std::ptrdiff_t(header_at), out.end());  // [10][len] + label
  aad.insert(aad.end(), as_bytes(cfg.label).begin(), as_bytes(cfg.label).end());
  NonceSource& nonces = cfg.nonces ? *cfg.nonces : os_nonce_source();
  auto r = encrypt_payload(cfg.version, cfg.keyring->primary(), body, aad, nonces, out);
  if (!r) return r.error();
  return out;
}

// ---- StreamReader ----

Result<StreamEvent> StreamReader::next(ByteSpan in) {
  StreamEvent ev;
  for (;;) {
    if (phase_ == Phase::failed) return error_;
    if (phase_ == Phase::done) {
      ev.kind = StreamEventKind::done;
      return ev;
    }
    auto r = step(in, ev);
    if (!r) {
      phase_ = Phase::failed;
      error_ = r.error();
      return error_;
    }
    if (*r) return ev;
  }
}

Result<bool> StreamReader::step(ByteSpan in, StreamEvent& ev) {
  const ByteSpan src = source(in, ev);
  switch (phase_) {
    case Phase::label:
      return step_label(src, ev);
    case Phase::envelope:
      return step_envelope(src, ev);
    case Phase::header:
      return step_header(src, ev);
    case Phase::nodes:
      return step_nodes(src, ev);
    default:
      return step_tail(src, ev);
  }
}

ByteSpan StreamReader::source(ByteSpan in, const StreamEvent& ev) const noexcept {
  if (internal_) return ByteSpan(body_).subspan(body_pos_);
  return in.subspan(ev.consumed);
}

void StreamReader::advance(std::size_t n, StreamEvent& ev) noexcept {
  if (internal_) {
    body_pos_ += n;
  } else {
    ev.consumed += n;
  }
}

Result<bool> StreamReader::short_input(std::size_t src_bytes_wanted, StreamEvent& ev) {
  if (internal_) return make_error(Errc::truncated, "stream body ended inside a field");
  ev.kind = StreamEventKind::need_more;
  ev.wanted = ev.consumed + src_bytes_wanted;
  return true;
}

Result<bool> StreamReader::step_label(ByteSpan src, StreamEvent& ev) {
  if (src.empty()) return short_input(1, ev);
  auto rest = check_label(src, cfg_.label, cfg_.skip_inbound_label_check);
  if (!rest && rest.error().code == Errc::truncated) {
    return short_input(src.size() < 2 ? 2 : 2 + std::to_integer<std::size_t>(src[1]), ev);
  }
  if (!rest) return rest.error();
  advance(src.size() - rest->size(), ev);
  phase_ = Phase::envelope;
  return false;
}

Result<bool> StreamReader::step_envelope(ByteSpan src, StreamEvent& ev) {
  if (src.empty()) return short_input(1, ev);
  const auto t = MessageType(std::to_integer<std::uint8_t>(src[0]));
  if (t == MessageType::encrypt) {
    if (cfg_.keyring == nullptr) {
      return make_error(Errc::rejected, "stream is encrypted and encryption is not configured");
    }
    return step_encrypted(src, ev);
  }
  if (cfg_.keyring != nullptr && cfg_.verify_incoming) {
    return make_error(Errc::rejected, "encryption is configured but the stream is not encrypted");
  }
  if (t == MessageType::compress) return step_compressed(src, ev);
  type_ = std::uint8_t(t);
  advance(1, ev);
  phase_ = Phase::header;
  return false;
}

Result<bool> StreamReader::step_encrypted(ByteSpan src, StreamEvent& ev) {
  if (src.size() < 5) return short_input(5, ev);
  const std::uint32_t length = read_u32be(src.subspan(1));
  if (length > kEncryptedStreamBytesMax) return make_error(Errc::too_large, "stream over 20 MB");
  if (src.size() < 5 + std::size_t(length)) return short_input(5 + std::size_t(length), ev);
  Bytes aad(src.begin(), src.begin() + 5);
  aad.insert(aad.end(), as_bytes(cfg_.label).begin(), as_bytes(cfg_.label).end());
  Bytes plain;
  if (auto r = decrypt_payload(*cfg_.keyring, src.subspan(5, length), aad, plain); !r) {
    return r.error();
  }
  advance(5 + std::size_t(length), ev);
  if (!plain.empty() && plain[0] == std::byte(MessageType::compress)) {
    Bytes body;
    if (auto r = decompress_message(ByteSpan(plain).subspan(1), body, cfg_.decompressed_bytes_max);
        !r) {
      return r.error();
    }
    plain.swap(body);
  }
  if (auto r = adopt_body(std::move(plain)); !r) return r.error();
  return false;
}

Result<bool> StreamReader::step_compressed(ByteSpan src, StreamEvent& ev) {
  MpReader r(src.subspan(1));
  Compress c;
  read(r, c);
  if (!r.ok() && r.error() == Errc::truncated) {
    if (src.size() > kCompressedStreamBytesMax) {
      return make_error(Errc::too_large, "compressed stream over its limit");
    }
    return short_input(src.size() + 1, ev);
  }
  if (!r.ok()) return make_error(r.error(), r.error_detail());
  Bytes body;
  if (auto d = decompress_message(src.subspan(1, r.position()), body, cfg_.decompressed_bytes_max);
      !d) {
    return d.error();
  }
  advance(1 + r.position(), ev);
  if (auto a = adopt_body(std::move(body)); !a) return a.error();
  return false;
}

Result<void> StreamReader::adopt_body(Bytes body) {
  if (body.empty()) return make_error(Errc::malformed, "empty stream body");
  type_ = std::to_integer<std::uint8_t>(body[0]);
  body_ = std::move(body);
  body_pos_ = 1;
  internal_ = true;
  phase_ = Phase::header;
  return {};
}

// Reads one msgpack value: true when read, false when more input is needed (`ev` is then a
// need_more event ready to hand out).
template <class T>
Result<bool> StreamReader::read_value(ByteSpan src, T& out, StreamEvent& ev) {
  MpReader r(src);
  read(r, out);
  if (r.ok()) {
    advance(r.position(), ev);
    return true;
  }
  if (r.error() != Errc::truncated) return make_error(r.error(), r.error_detail());
  if (src.size() >= kStreamValueBytesMax) {
    return make_error(Errc::too_large, "stream value over its limit");
  }
  if (auto s = short_input(src.size() + 1, ev); !s) return s.error();
  return false;
}

Result<bool> StreamReader::emit(Result<bool> got, StreamEventKind kind, Phase next,
                                StreamEvent& ev) {
  if (!got) return got.error();
  if (*got) {
    ev.kind = kind;
    phase_ = next;
  }
  return true;
}

Result<bool> StreamReader::step_header(ByteSpan src, StreamEvent& ev) {
  switch (MessageType(type_)) {
    case MessageType::ping:
      return emit(read_value(src, ev.ping, ev), StreamEventKind::ping, Phase::done, ev);
    case MessageType::ack_resp:
      return emit(read_value(src, ev.ack, ev), StreamEventKind::ack, Phase::done, ev);
    case MessageType::err:
      return emit(read_value(src, ev.err, ev), StreamEventKind::err, Phase::done, ev);
    case MessageType::push_pull: {
      auto got = read_value(src, ev.header, ev);
      nodes_left_ = ev.header.nodes;
      tail_bytes_ = ev.header.user_state_len;
      return emit(got, StreamEventKind::push_pull_header, Phase::nodes, ev);
    }
    case MessageType::user: {
      UserMsgHeader h;
      auto got = read_value(src, h, ev);
      if (!got) return got.error();
      if (!*got) return true;
      tail_bytes_ = h.user_msg_len;
      phase_ = Phase::tail;
      return false;
    }
    default:
      return make_error(Errc::unknown_type, "message type not used on streams");
  }
}

Result<bool> StreamReader::step_nodes(ByteSpan src, StreamEvent& ev) {
  if (nodes_left_ == 0) {
    phase_ = Phase::tail;
    return false;
  }
  auto got = read_value(src, ev.node, ev);
  if (got && *got) --nodes_left_;
  return emit(got, StreamEventKind::node, Phase::nodes, ev);
}

Result<bool> StreamReader::step_tail(ByteSpan src, StreamEvent& ev) {
  if (src.size() < tail_bytes_) return short_input(tail_bytes_, ev);
  ev.bytes = src.first(tail_bytes_);
  advance(tail_bytes_, ev);
  ev.kind = MessageType(type_) == MessageType::push_pull ? StreamEventKind::user_state
                                                         : StreamEventKind::user_msg;
  phase_ = Phase::done;
  return true;
}

}  // namespace grapevine::wire::ml
