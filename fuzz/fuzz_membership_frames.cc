// Fuzz target: the membership frame decoders (wire/native_membership.h) and the push-pull stream
// reader (and its mutual-TLS sender claim, wire/stream_sender.h) and the stream ping / ack, with the same properties as fuzz_native_frames: every decoder on every frame body and
// on the raw input; what is accepted re-encodes to the same fields, never longer than the input,
// and byte-identical when the input was canonical.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fuzz_check.h"
#include "core/membership/member_list.h"
#include "fuzz_frames.h"
#include "wire/native.h"
#include "wire/native_membership.h"
#include "wire/stream_sender.h"

namespace {

using namespace grapevine;
using namespace grapevine::wire;

using Bytes = std::span<const std::byte>;

bool same_bytes(Bytes a, Bytes b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

bool same_address(const Address& a, const Address& b) {
  return a.family == b.family && a.port == b.port && a.ip == b.ip;
}

// Re-encodes an accepted body with `write` (false = does not fit: nothing to compare) and checks
// the canonical-form properties against the original body.
template <class T, class Write, class Decode, class Equal>
void check_round_trip(Bytes body, const T& decoded, MemberFrame type, Write&& write,
                      Decode&& decode, Equal&& equal) {
  std::array<std::byte, kPacketBudgetBytesMax + 16> buf;
  Writer w(buf);
  if (!write(w, decoded)) return;
  Reader r(w.written());
  FUZZ_CHECK(r.u8() == std::uint8_t(type));
  const std::uint64_t length = r.varint();
  Bytes again = r.rest();
  FUZZ_CHECK(r.ok() && length == again.size());
  auto redecoded = decode(again);
  FUZZ_CHECK(redecoded.has_value());
  FUZZ_CHECK(equal(*redecoded, decoded));
  FUZZ_CHECK(again.size() <= body.size());
  if (again.size() == body.size()) FUZZ_CHECK(same_bytes(again, body));
}

void check_heartbeat_list(Bytes body) {
  HeartbeatListReader reader(body);
  std::vector<HeartbeatEntry> entries;
  HeartbeatEntry e;
  while (reader.next(e)) {
    FUZZ_CHECK(entries.size() < kHeartbeatListMax);
    entries.push_back(e);
  }
  if (!reader.ok()) return;
  std::array<std::byte, kPacketBudgetBytesMax + 16> buf;
  Writer w(buf);
  if (!write_hb_list(w, entries)) return;  // a long list may not fit one datagram
  Reader r(w.written());
  r.u8();
  r.varint();
  Bytes again = r.rest();
  HeartbeatListReader back(again);
  for (const HeartbeatEntry& want : entries) {
    FUZZ_CHECK(back.next(e));
    FUZZ_CHECK(e.id == want.id && e.counter == want.counter && e.left == want.left &&
               same_address(e.address, want.address));
  }
  FUZZ_CHECK(!back.next(e) && back.ok());
  FUZZ_CHECK(again.size() <= body.size());
  if (again.size() == body.size()) FUZZ_CHECK(same_bytes(again, body));
}

void check_push_pull(Bytes message) {
  // The mutual-TLS sender claim (wire/stream_sender.h): a name it returns lies inside the
  // message and is at most a member name long; a push-pull it accepts also reads back whole.
  if (auto claim = stream_sender_name(message); claim && claim->has_value()) {
    const std::string_view name = **claim;
    FUZZ_CHECK(name.size() <= kNameBytesMax);
    FUZZ_CHECK(name.empty() || (reinterpret_cast<const std::byte*>(name.data()) >= message.data() &&
                                reinterpret_cast<const std::byte*>(name.data()) + name.size() <=
                                    message.data() + message.size()));
  }
  PushPullReader reader(message);
  std::vector<MemberEntry> members;
  MemberEntry m;
  while (reader.next(m)) members.push_back(m);
  // Flag 8: the sender's event clock and recent user events follow (a join's reply).
  PushPullHeader h = reader.header();
  std::vector<UserEventFrame> events;
  if (reader.ok() && h.events) {
    h.event_clock = reader.event_clock();
    UserEventFrame ev;
    while (reader.next_event(ev)) events.push_back(ev);
    FUZZ_CHECK(events.size() <= kPushPullEventsMax);
    for (const UserEventFrame& e : events) {
      FUZZ_CHECK(e.name.size() + e.payload.size() <= kUserEventBytesMax);
    }
    h.recent = events;
  }
  if (!reader.ok()) return;
  FUZZ_CHECK(members.size() == reader.header().count);
  std::vector<std::byte> buf(message.size() + 64);
  Writer w(buf);
  write_push_pull_header(w, h);
  for (const MemberEntry& e : members) {
    FUZZ_CHECK(e.meta.size() <= kMetaBytesMax && e.name.size() <= kNameBytesMax);
    FUZZ_CHECK(e.zone.size() <= kZoneBytesMax && (reader.header().zones || e.zone.empty()));
    write_member(w, e, reader.header().zones);
  }
  if (h.events) write_push_pull_events(w, h);
  FUZZ_CHECK(w.ok());  // canonical is never longer than what was read
  finish_stream(w);
  PushPullReader back(w.written());
  FUZZ_CHECK(back.header().join == reader.header().join &&
             back.header().reply == reader.header().reply &&
             back.header().zones == reader.header().zones &&
             back.header().sender == reader.header().sender &&
             same_address(back.header().sender_address, reader.header().sender_address));
  for (const MemberEntry& want : members) {
    FUZZ_CHECK(back.next(m));
    FUZZ_CHECK(m.id == want.id && m.incarnation == want.incarnation && m.state == want.state &&
               same_bytes(m.meta, want.meta) && m.name == want.name && m.zone == want.zone &&
               same_address(m.address, want.address));
  }
  FUZZ_CHECK(!back.next(m) && back.ok());
  FUZZ_CHECK(back.header().events == h.events && back.event_clock() == h.event_clock);
  UserEventFrame ev;
  for (const UserEventFrame& want : events) {
    FUZZ_CHECK(back.next_event(ev));
    FUZZ_CHECK(ev.ltime == want.ltime && ev.coalesce == want.coalesce && ev.name == want.name &&
               same_bytes(ev.payload, want.payload));
  }
  FUZZ_CHECK(!back.next_event(ev) && back.ok());
  if (w.size() == message.size()) FUZZ_CHECK(same_bytes(w.written(), message));
}

// The TCP fallback ping and its ack (whole stream messages): accepted ones re-encode to the same
// fields, never longer, byte-identical when the input was canonical; the type agrees.
void check_stream_ping(Bytes message) {
  auto type = stream_type(message);
  std::array<std::byte, kStreamPingBytesMax> buf;
  Writer w(buf);
  if (auto p = decode_stream_ping(message)) {
    FUZZ_CHECK(type.has_value() && *type == StreamType::ping);
    FUZZ_CHECK(write_stream_ping(w, *p));
    auto back = decode_stream_ping(w.written());
    FUZZ_CHECK(back && back->seq == p->seq && back->target == p->target &&
               back->sender == p->sender);
  } else if (auto a = decode_stream_ack(message)) {
    FUZZ_CHECK(type.has_value() && *type == StreamType::ack);
    FUZZ_CHECK(write_stream_ack(w, *a));
    auto back = decode_stream_ack(w.written());
    FUZZ_CHECK(back && back->seq == a->seq);
  } else {
    return;
  }
  FUZZ_CHECK(w.size() <= message.size());
  if (w.size() == message.size()) FUZZ_CHECK(same_bytes(w.written(), message));
}

void decode_everything(Bytes body) {
  if (auto f = decode_ping(body)) {
    check_round_trip(body, *f, MemberFrame::ping, write_ping, decode_ping,
                     [](const PingFrame& a, const PingFrame& b) {
                       return a.seq == b.seq && a.target == b.target && a.sender == b.sender;
                     });
  }
  if (auto f = decode_ping_req(body)) {
    check_round_trip(body, *f, MemberFrame::ping_req, write_ping_req, decode_ping_req,
                     [](const PingReqFrame& a, const PingReqFrame& b) {
                       return a.seq == b.seq && a.target == b.target &&
                              a.want_nack == b.want_nack &&
                              same_address(a.target_address, b.target_address);
                     });
  }
  if (auto f = decode_seq(body)) {
    auto write = [](Writer& w, const SeqFrame& s) { return wire::write_ack(w, s); };
    check_round_trip(body, *f, MemberFrame::ack, write, decode_seq,
                     [](const SeqFrame& a, const SeqFrame& b) { return a.seq == b.seq; });
  }
  if (auto f = decode_alive(body)) {
    FUZZ_CHECK(f->meta.size() <= kMetaBytesMax && f->name.size() <= kNameBytesMax &&
               f->zone.size() <= kZoneBytesMax);
    check_round_trip(body, *f, MemberFrame::alive, write_alive, decode_alive,
                     [](const AliveFrame& a, const AliveFrame& b) {
                       return a.id == b.id && a.incarnation == b.incarnation &&
                              same_address(a.address, b.address) && same_bytes(a.meta, b.meta) &&
                              a.name == b.name && a.zone == b.zone;
                     });
  }
  if (auto f = decode_user_event(body)) {
    FUZZ_CHECK(f->name.size() + f->payload.size() <= kUserEventBytesMax);
    check_round_trip(body, *f, MemberFrame::user_event, write_user_event, decode_user_event,
                     [](const UserEventFrame& a, const UserEventFrame& b) {
                       return a.ltime == b.ltime && a.coalesce == b.coalesce && a.name == b.name &&
                              same_bytes(a.payload, b.payload);
                     });
  }
  if (auto f = decode_accuse(body)) {
    check_round_trip(body, *f, MemberFrame::suspect, write_suspect, decode_accuse,
                     [](const AccuseFrame& a, const AccuseFrame& b) {
                       return a.id == b.id && a.incarnation == b.incarnation && a.from == b.from;
                     });
  }
  if (auto f = decode_heartbeat(body)) {
    check_round_trip(body, *f, MemberFrame::heartbeat, write_heartbeat, decode_heartbeat,
                     [](const HeartbeatFrame& a, const HeartbeatFrame& b) {
                       return a.sender == b.sender && a.counter == b.counter;
                     });
  }
  check_heartbeat_list(body);
}

}  // namespace

// The cache warming that reads a datagram's member ids before the merge rules apply its frames
// (core/membership/member_warm.cc) on the same bytes as a datagram: it never fails and changes
// nothing (every member still found at its slot).
void check_warm_members(Bytes in) {
  using grapevine::detail::MemberList;
  static MemberList list = [] {
    MemberList l(1, Address::ipv4_u32(0x0a000001, 7946), Time::zero());
    for (NodeId id = 2; id <= grapevine::detail::kWarmListMin + 8; ++id) {
      l.add(id, Address::ipv4_u32(std::uint32_t(0x0a000000 + id), 7946), 0, MemberState::alive,
            Time::zero());
    }
    return l;
  }();
  grapevine::detail::warm_members(list, in);
  for (NodeId id = 1; id <= grapevine::detail::kWarmListMin + 8; id += 37) {
    FUZZ_CHECK(list.find(id) == std::uint32_t(id - 1));
  }
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Bytes in = std::as_bytes(std::span(data, size));
  fuzz::decode_frame_bodies_then_whole(in, [](Bytes b) { decode_everything(b); });
  check_push_pull(in);  // the same bytes as a stream message
  check_stream_ping(in);
  check_warm_members(in);
  return 0;
}
