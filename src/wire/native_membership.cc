#include "wire/native_membership.h"

#include <algorithm>
#include <array>

#include "wire/framing.h"
#include "wire/native.h"

namespace grapevine::wire {
namespace {

template <class Body>
bool frame(Writer& w, MemberFrame type, Body&& body) noexcept {
  return framing::write(w, std::uint8_t(type), body);
}

using framing::finish;

std::uint32_t read_u32_varint(Reader& r, const char* what) noexcept {
  return std::uint32_t(r.varint_max(UINT32_MAX, what));
}

std::span<const std::byte> read_blob(Reader& r, std::size_t max, const char* what) noexcept {
  auto len = std::size_t(r.varint_max(max, what));
  return r.bytes(len);
}

std::string_view read_name(Reader& r) noexcept {
  auto b = read_blob(r, kNameBytesMax, "name over kNameBytesMax");
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

std::string_view read_zone(Reader& r) noexcept {
  auto b = read_blob(r, kZoneBytesMax, "zone over kZoneBytesMax");
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

void write_blob(Writer& w, std::span<const std::byte> b) noexcept {
  w.varint(b.size());
  w.bytes(b);
}

void write_name(Writer& w, std::string_view name) noexcept {
  write_blob(w, std::as_bytes(std::span(name.data(), name.size())));
}

}  // namespace

std::size_t address_size(const Address& a) noexcept {
  return a.family == 6 ? 19 : 7;
}

void write_address(Writer& w, const Address& a) noexcept {
  const bool v6 = a.family == 6;
  w.u8(v6 ? 6 : 4);
  w.bytes(std::as_bytes(std::span(a.ip.data(), v6 ? 16 : 4)));
  w.u16be(a.port);
}

Address read_address(Reader& r) noexcept {
  Address a;
  std::uint8_t family = r.u8();
  if (r.ok() && family != 4 && family != 6) {
    r.fail(Errc::malformed, "address family not 4 or 6");
    return a;
  }
  auto ip = r.bytes(family == 6 ? 16 : 4);
  for (std::size_t i = 0; i < ip.size(); ++i) a.ip[i] = std::to_integer<std::uint8_t>(ip[i]);
  a.port = r.u16be();
  if (r.ok()) a.family = family;
  return a;
}

bool write_ping(Writer& w, const PingFrame& f) noexcept {
  return frame(w, MemberFrame::ping, [&](Writer& b) {
    b.varint(f.seq);
    b.varint(f.target);
    b.varint(f.sender);
  });
}

bool write_ping_req(Writer& w, const PingReqFrame& f) noexcept {
  return frame(w, MemberFrame::ping_req, [&](Writer& b) {
    b.varint(f.seq);
    b.varint(f.target);
    write_address(b, f.target_address);
    b.u8(f.want_nack ? 1 : 0);
  });
}

bool write_ack(Writer& w, const SeqFrame& f) noexcept {
  return frame(w, MemberFrame::ack, [&](Writer& b) { b.varint(f.seq); });
}

bool write_nack(Writer& w, const SeqFrame& f) noexcept {
  return frame(w, MemberFrame::nack, [&](Writer& b) { b.varint(f.seq); });
}

bool write_alive(Writer& w, const AliveFrame& f) noexcept {
  if (f.meta.size() > kMetaBytesMax || f.name.size() > kNameBytesMax ||
      f.zone.size() > kZoneBytesMax) {
    return false;
  }
  return frame(w, MemberFrame::alive, [&](Writer& b) {
    b.varint(f.id);
    b.varint(f.incarnation);
    write_address(b, f.address);
    write_blob(b, f.meta);
    write_name(b, f.name);
    if (!f.zone.empty()) write_name(b, f.zone);  // optional trailing field
  });
}

static bool write_accuse(Writer& w, MemberFrame type, const AccuseFrame& f) noexcept {
  return frame(w, type, [&](Writer& b) {
    b.varint(f.id);
    b.varint(f.incarnation);
    b.varint(f.from);
  });
}

bool write_suspect(Writer& w, const AccuseFrame& f) noexcept {
  return write_accuse(w, MemberFrame::suspect, f);
}

bool write_dead(Writer& w, const AccuseFrame& f) noexcept {
  return write_accuse(w, MemberFrame::dead, f);
}

bool write_heartbeat(Writer& w, const HeartbeatFrame& f) noexcept {
  return frame(w, MemberFrame::heartbeat, [&](Writer& b) {
    b.varint(f.sender);
    b.varint(f.counter);
  });
}

bool write_list_digest(Writer& w, const ListDigestFrame& f) noexcept {
  return frame(w, MemberFrame::state_digest, [&](Writer& b) {
    b.varint(f.count);
    b.varint(f.digest);
  });
}

std::size_t hb_entry_size(const HeartbeatEntry& e) noexcept {
  return varint_size(e.id) + address_size(e.address) + varint_size(e.counter) + 1;
}

bool write_hb_list(Writer& w, std::span<const HeartbeatEntry> entries) noexcept {
  if (entries.size() > kHeartbeatListMax) return false;
  return frame(w, MemberFrame::hb_list, [&](Writer& b) {
    b.varint(entries.size());
    for (const auto& e : entries) {
      b.varint(e.id);
      write_address(b, e.address);
      b.varint(e.counter);
      b.u8(e.left ? 1 : 0);
    }
  });
}

Result<PingFrame> decode_ping(std::span<const std::byte> body) noexcept {
  Reader r(body);
  PingFrame f;
  f.seq = read_u32_varint(r, "sequence over 32 bits");
  f.target = r.varint();
  f.sender = r.varint();
  return finish(r, f);
}

Result<PingReqFrame> decode_ping_req(std::span<const std::byte> body) noexcept {
  Reader r(body);
  PingReqFrame f;
  f.seq = read_u32_varint(r, "sequence over 32 bits");
  f.target = r.varint();
  f.target_address = read_address(r);
  std::uint8_t nack = r.u8();
  if (r.ok() && nack > 1) r.fail(Errc::malformed, "want_nack not 0 or 1");
  f.want_nack = nack == 1;
  return finish(r, f);
}

Result<SeqFrame> decode_seq(std::span<const std::byte> body) noexcept {
  Reader r(body);
  SeqFrame f;
  f.seq = read_u32_varint(r, "sequence over 32 bits");
  return finish(r, f);
}

Result<AliveFrame> decode_alive(std::span<const std::byte> body) noexcept {
  Reader r(body);
  AliveFrame f;
  f.id = r.varint();
  f.incarnation = read_u32_varint(r, "incarnation over 32 bits");
  f.address = read_address(r);
  f.meta = read_blob(r, kMetaBytesMax, "metadata over kMetaBytesMax");
  f.name = read_name(r);
  if (r.ok() && !r.at_end()) {
    f.zone = read_zone(r);
    if (r.ok() && f.zone.empty()) r.fail(Errc::malformed, "empty zone field");
  }
  return finish(r, f);
}

bool write_user_event(Writer& w, const UserEventFrame& f) noexcept {
  if (f.name.size() + f.payload.size() > kUserEventBytesMax) return false;
  return frame(w, MemberFrame::user_event, [&](Writer& b) {
    b.varint(f.ltime);
    b.u8(f.coalesce ? 1 : 0);
    write_blob(b, std::as_bytes(std::span(f.name.data(), f.name.size())));
    write_blob(b, f.payload);
  });
}

Result<UserEventFrame> decode_user_event(std::span<const std::byte> body) noexcept {
  Reader r(body);
  UserEventFrame f;
  f.ltime = r.varint();
  const std::uint8_t flags = r.u8();
  if (r.ok() && flags > 1) r.fail(Errc::malformed, "unknown user event flags");
  f.coalesce = flags == 1;
  auto name = read_blob(r, kUserEventBytesMax, "user event over kUserEventBytesMax");
  f.name = std::string_view(reinterpret_cast<const char*>(name.data()), name.size());
  f.payload = read_blob(r, kUserEventBytesMax - name.size(), "user event over kUserEventBytesMax");
  return finish(r, f);
}

Result<AccuseFrame> decode_accuse(std::span<const std::byte> body) noexcept {
  Reader r(body);
  AccuseFrame f;
  f.id = r.varint();
  f.incarnation = read_u32_varint(r, "incarnation over 32 bits");
  f.from = r.varint();
  return finish(r, f);
}

Result<HeartbeatFrame> decode_heartbeat(std::span<const std::byte> body) noexcept {
  Reader r(body);
  HeartbeatFrame f;
  f.sender = r.varint();
  f.counter = r.varint();
  return finish(r, f);
}

Result<ListDigestFrame> decode_list_digest(std::span<const std::byte> body) noexcept {
  Reader r(body);
  ListDigestFrame f;
  f.count = read_u32_varint(r, "member count over 32 bits");
  f.digest = r.varint();
  return finish(r, f);
}

HeartbeatListReader::HeartbeatListReader(std::span<const std::byte> body) noexcept : r_(body) {
  left_ = r_.varint_max(kHeartbeatListMax, "heartbeat list over kHeartbeatListMax");
}

bool HeartbeatListReader::next(HeartbeatEntry& out) noexcept {
  if (!r_.ok()) return false;
  if (left_ == 0) {
    if (!r_.at_end()) r_.fail(Errc::malformed, "trailing bytes in heartbeat list");
    return false;
  }
  --left_;
  out.id = r_.varint();
  out.address = read_address(r_);
  out.counter = r_.varint();
  std::uint8_t flags = r_.u8();
  if (r_.ok() && flags > 1) r_.fail(Errc::malformed, "heartbeat flags not 0 or 1");
  out.left = flags == 1;
  return r_.ok();
}

// ---- streams --------------------------------------------------------------------------------

void write_push_pull_header(Writer& w, const PushPullHeader& h) noexcept {
  w.u32be(0);  // length, filled in by finish_stream
  w.u8(kNativeVersion);
  w.u8(std::uint8_t(StreamType::push_pull));
  w.u8(std::uint8_t((h.join ? 1 : 0) | (h.reply ? 2 : 0) | (h.zones ? 4 : 0) |
                    (h.events ? 8 : 0)));
  w.varint(h.sender);
  write_address(w, h.sender_address);
  w.varint(h.count);
}

void write_push_pull_events(Writer& w, const PushPullHeader& h) noexcept {
  const std::size_t n = std::min(h.recent.size(), kPushPullEventsMax);
  w.varint(h.event_clock);
  w.varint(n);
  for (const UserEventFrame& e : h.recent.last(n)) {  // the newest
    w.varint(e.ltime);
    w.u8(e.coalesce ? 1 : 0);
    write_blob(w, std::as_bytes(std::span(e.name.data(), e.name.size())));
    write_blob(w, e.payload);
  }
}

std::size_t push_pull_events_size(const PushPullHeader& h) noexcept {
  std::size_t n = 20;
  for (const UserEventFrame& e : h.recent) n += 10 + 1 + 10 + e.name.size() + e.payload.size();
  return n;
}

void finish_stream(Writer& w) noexcept {
  if (!w.ok() || w.size() < 4) return;
  const auto n = std::uint32_t(w.size() - 4);
  std::byte* p = w.at(0);
  p[0] = std::byte(n >> 24);
  p[1] = std::byte(n >> 16);
  p[2] = std::byte(n >> 8);
  p[3] = std::byte(n);
}

std::size_t member_size(const MemberEntry& m, bool zones) noexcept {
  std::size_t zone = zones ? varint_size(m.zone.size()) + m.zone.size() : 0;
  return varint_size(m.id) + address_size(m.address) + varint_size(m.incarnation) + 1 +
         varint_size(m.meta.size()) + m.meta.size() + varint_size(m.name.size()) + m.name.size() +
         zone;
}

void write_member(Writer& w, const MemberEntry& m, bool zones) noexcept {
  w.varint(m.id);
  write_address(w, m.address);
  w.varint(m.incarnation);
  w.u8(std::uint8_t(m.state));
  write_blob(w, m.meta.size() <= kMetaBytesMax ? m.meta : m.meta.first(0));
  write_name(w, m.name.size() <= kNameBytesMax ? m.name : std::string_view{});
  if (zones) write_name(w, m.zone.size() <= kZoneBytesMax ? m.zone : std::string_view{});
}

namespace {

// Reads a stream message's length header, version and type byte; fails `r` unless the type is
// `want` (any known type when `want` is 0).
std::uint8_t read_stream_head(Reader& r, std::size_t total, std::uint8_t want) noexcept {
  if (total > kStreamBytesMax) {
    r.fail(Errc::too_large, "stream message over kStreamBytesMax");
    return 0;
  }
  const std::uint32_t length = r.u32be();
  if (r.ok() && length != r.remaining()) r.fail(Errc::malformed, "stream length mismatch");
  if (r.u8() != kNativeVersion && r.ok()) r.fail(Errc::unsupported_version, "stream version");
  const std::uint8_t type = r.u8();
  if (!r.ok()) return 0;
  const bool known = type >= std::uint8_t(StreamType::push_pull) &&
                     type <= std::uint8_t(StreamType::ack);
  if (want != 0 ? type != want : !known) r.fail(Errc::unknown_type, "unexpected stream type");
  return type;
}

// Writes a small stream message: header, then `body(Writer&)`; rolls back if it does not fit.
template <class Body>
bool write_small_stream(Writer& w, StreamType type, Body&& body) noexcept {
  std::array<std::byte, kStreamPingBytesMax> scratch;
  Writer b(scratch);
  b.u32be(0);
  b.u8(kNativeVersion);
  b.u8(std::uint8_t(type));
  body(b);
  finish_stream(b);
  if (!b.ok() || w.remaining() < b.size()) return false;
  w.bytes(b.written());
  return w.ok();
}

}  // namespace

Result<StreamType> stream_type(std::span<const std::byte> message) noexcept {
  Reader r(message);
  const std::uint8_t type = read_stream_head(r, message.size(), 0);
  if (!r.ok()) return make_error(r.error(), r.error_detail());
  return StreamType(type);
}

bool write_stream_ping(Writer& w, const PingFrame& f) noexcept {
  return write_small_stream(w, StreamType::ping, [&](Writer& b) {
    b.varint(f.seq);
    b.varint(f.target);
    b.varint(f.sender);
  });
}

bool write_stream_ack(Writer& w, const SeqFrame& f) noexcept {
  return write_small_stream(w, StreamType::ack, [&](Writer& b) { b.varint(f.seq); });
}

Result<PingFrame> decode_stream_ping(std::span<const std::byte> message) noexcept {
  Reader r(message);
  read_stream_head(r, message.size(), std::uint8_t(StreamType::ping));
  if (!r.ok()) return make_error(r.error(), r.error_detail());
  return decode_ping(r.rest());
}

Result<SeqFrame> decode_stream_ack(std::span<const std::byte> message) noexcept {
  Reader r(message);
  read_stream_head(r, message.size(), std::uint8_t(StreamType::ack));
  if (!r.ok()) return make_error(r.error(), r.error_detail());
  return decode_seq(r.rest());
}

PushPullReader::PushPullReader(std::span<const std::byte> message) noexcept : r_(message) {
  read_stream_head(r_, message.size(), std::uint8_t(StreamType::push_pull));
  std::uint8_t flags = r_.u8();
  if (r_.ok() && flags > 15) r_.fail(Errc::malformed, "push-pull flags");
  header_.join = (flags & 1) != 0;
  header_.reply = (flags & 2) != 0;
  header_.zones = (flags & 4) != 0;
  header_.events = (flags & 8) != 0;
  header_.sender = r_.varint();
  header_.sender_address = read_address(r_);
  header_.count = std::uint32_t(r_.varint_max(kPushPullMembersMax, "members over limit"));
  left_ = header_.count;
}

bool PushPullReader::next(MemberEntry& out) noexcept {
  if (!r_.ok()) return false;
  if (left_ == 0) {
    if (!header_.events && !r_.at_end()) r_.fail(Errc::malformed, "trailing bytes in push-pull");
    return false;
  }
  --left_;
  out.id = r_.varint();
  out.address = read_address(r_);
  out.incarnation = read_u32_varint(r_, "incarnation over 32 bits");
  std::uint8_t state = r_.u8();
  if (r_.ok() && state > 3) r_.fail(Errc::malformed, "member state over 3");
  out.state = WireState(state);
  out.meta = read_blob(r_, kMetaBytesMax, "metadata over kMetaBytesMax");
  out.name = read_name(r_);
  out.zone = header_.zones ? read_zone(r_) : std::string_view{};
  return r_.ok();
}

std::uint64_t PushPullReader::event_clock() noexcept {
  if (!header_.events || left_ != 0 || !r_.ok()) return 0;
  if (!events_read_) {
    events_read_ = true;
    event_clock_ = r_.varint();
    events_left_ = std::uint32_t(r_.varint_max(kPushPullEventsMax, "push-pull events over limit"));
  }
  return event_clock_;
}

bool PushPullReader::next_event(UserEventFrame& out) noexcept {
  (void)event_clock();
  if (!header_.events || left_ != 0 || !r_.ok()) return false;
  if (events_left_ == 0) {
    if (!r_.at_end()) r_.fail(Errc::malformed, "trailing bytes in push-pull");
    return false;
  }
  --events_left_;
  out.ltime = r_.varint();
  const std::uint8_t flags = r_.u8();
  if (r_.ok() && flags > 1) r_.fail(Errc::malformed, "unknown user event flags");
  out.coalesce = flags == 1;
  auto name = read_blob(r_, kUserEventBytesMax, "user event over kUserEventBytesMax");
  out.name = std::string_view(reinterpret_cast<const char*>(name.data()), name.size());
  out.payload = read_blob(r_, kUserEventBytesMax - name.size(), "user event over kUserEventBytesMax");
  return r_.ok();
}

}  // namespace grapevine::wire
