#include "wire/native.h"

namespace grapevine::wire {
namespace {

void write_id(Writer& w, const MessageId& id) noexcept {
  w.varint(id.origin);
  w.varint(id.seq);
}

MessageId read_id(Reader& r) noexcept {
  MessageId id;
  id.origin = r.varint();
  id.seq = std::uint32_t(r.varint_max(UINT32_MAX, "sequence number over 32 bits"));
  return id;
}

std::size_t id_size(const MessageId& id) noexcept {
  return varint_size(id.origin) + varint_size(id.seq);
}

// Writes type and body length; the body follows. Rolls back if the whole frame cannot fit.
bool frame_header(Writer& w, FrameType type, std::size_t body_bytes) noexcept {
  if (w.remaining() < 1 + varint_size(body_bytes) + body_bytes) return false;
  w.u8(std::uint8_t(type));
  w.varint(body_bytes);
  return w.ok();
}

template <class T>
Result<T> finish(Reader& r, T value) noexcept {
  if (!r.ok()) return make_error(r.error(), r.error_detail());
  return value;
}

}  // namespace

std::size_t data_frame_size(const DataFrame& f) noexcept {
  std::size_t body = id_size(f.id) + varint_size(f.hops) + 1 + f.payload.size();
  return 1 + varint_size(body) + body;
}

bool write_data(Writer& w, const DataFrame& f) noexcept {
  std::size_t body = id_size(f.id) + varint_size(f.hops) + 1 + f.payload.size();
  if (!frame_header(w, FrameType::data, body)) return false;
  write_id(w, f.id);
  w.varint(f.hops);
  w.u8(f.flags);
  w.bytes(f.payload);
  return w.ok();
}

bool write_pull_request(Writer& w, std::span<const MessageId> ids) noexcept {
  if (ids.size() > kPullDigestIdsMax) ids = ids.first(kPullDigestIdsMax);
  std::size_t body = varint_size(ids.size());
  for (const auto& id : ids) body += id_size(id);
  if (!frame_header(w, FrameType::pull_request, body)) return false;
  w.varint(ids.size());
  for (const auto& id : ids) write_id(w, id);
  return w.ok();
}

bool write_feedback(Writer& w, const FeedbackFrame& f) noexcept {
  if (!frame_header(w, FrameType::feedback, id_size(f.id) + 1)) return false;
  write_id(w, f.id);
  w.u8(f.was_new ? 1 : 0);
  return w.ok();
}

bool write_ack(Writer& w, const AckFrame& f) noexcept {
  if (!frame_header(w, FrameType::ack, id_size(f.id))) return false;
  write_id(w, f.id);
  return w.ok();
}

bool write_nack(Writer& w, const NackFrame& f) noexcept {
  if (!frame_header(w, FrameType::nack, id_size(f.id) + varint_size(f.requester_hops))) {
    return false;
  }
  write_id(w, f.id);
  w.varint(f.requester_hops);
  return w.ok();
}

bool write_session(Writer& w, const SessionFrame& f) noexcept {
  if (!frame_header(w, FrameType::session,
                    varint_size(f.origin) + varint_size(f.highest_seq))) {
    return false;
  }
  w.varint(f.origin);
  w.varint(f.highest_seq);
  return w.ok();
}

Result<DataFrame> decode_data(std::span<const std::byte> body) noexcept {
  Reader r(body);
  DataFrame f;
  f.id = read_id(r);
  f.hops = std::uint32_t(r.varint_max(UINT32_MAX, "hop count over 32 bits"));
  f.flags = r.u8();
  if (r.remaining() > kMulticastPayloadBytesMax) r.fail(Errc::too_large, "payload over limit");
  f.payload = r.rest();
  return finish(r, f);
}

namespace {
void read_pull_request(Reader& r, PullRequestFrame& f) noexcept {
  f.count = std::uint32_t(r.varint_max(kPullDigestIdsMax, "pull digest over limit"));
  for (std::uint32_t i = 0; i < f.count && r.ok(); ++i) f.ids[i] = read_id(r);
  if (r.ok() && !r.at_end()) r.fail(Errc::malformed, "trailing bytes in pull request");
}
}  // namespace

Result<PullRequestFrame> decode_pull_request(std::span<const std::byte> body) noexcept {
  Reader r(body);
  PullRequestFrame f;
  read_pull_request(r, f);
  return finish(r, f);
}

bool decode_pull_request_into(std::span<const std::byte> body, PullRequestFrame& out) noexcept {
  Reader r(body);
  read_pull_request(r, out);
  return r.ok();
}

Result<FeedbackFrame> decode_feedback(std::span<const std::byte> body) noexcept {
  Reader r(body);
  FeedbackFrame f;
  f.id = read_id(r);
  std::uint8_t b = r.u8();
  if (r.ok() && b > 1) r.fail(Errc::malformed, "feedback flag not 0 or 1");
  f.was_new = b == 1;
  return finish(r, f);
}

Result<AckFrame> decode_ack(std::span<const std::byte> body) noexcept {
  Reader r(body);
  AckFrame f;
  f.id = read_id(r);
  return finish(r, f);
}

Result<NackFrame> decode_nack(std::span<const std::byte> body) noexcept {
  Reader r(body);
  NackFrame f;
  f.id = read_id(r);
  f.requester_hops = std::uint32_t(r.varint_max(UINT32_MAX, "hop count over 32 bits"));
  return finish(r, f);
}

Result<SessionFrame> decode_session(std::span<const std::byte> body) noexcept {
  Reader r(body);
  SessionFrame f;
  f.origin = r.varint();
  f.highest_seq = std::uint32_t(r.varint_max(UINT32_MAX, "sequence number over 32 bits"));
  return finish(r, f);
}

FrameIterator::FrameIterator(std::span<const std::byte> datagram) noexcept : reader_(datagram) {
  if (datagram.size() > kDatagramBytesMax) {
    reader_.fail(Errc::too_large, "datagram over 65507 bytes");
    return;
  }
  std::uint8_t version = reader_.u8();
  if (reader_.ok() && version != kNativeVersion) {
    reader_.fail(Errc::unsupported_version, "unknown native wire version");
  }
}

bool FrameIterator::next(Frame& out) noexcept {
  if (!reader_.ok() || reader_.at_end()) return false;
  if (++frames_ > kFramesPerDatagramMax) {
    reader_.fail(Errc::too_large, "too many frames in one datagram");
    return false;
  }
  out.type = reader_.u8();
  std::uint64_t len = reader_.varint();
  if (!reader_.ok()) return false;
  if (len > reader_.remaining()) {
    reader_.fail(Errc::truncated, "frame longer than datagram");
    return false;
  }
  out.body = reader_.bytes(std::size_t(len));
  return reader_.ok();
}

}  // namespace grapevine::wire
