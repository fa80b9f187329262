#include "wire/native_views.h"

#include <array>

#include "wire/framing.h"
#include "wire/native_membership.h"

namespace grapevine::wire {
namespace {

template <class Body>
bool frame(Writer& w, ViewFrame type, Body&& body) noexcept {
  return framing::write(w, std::uint8_t(type), body);
}

using framing::finish;

std::uint32_t read_hops(Reader& r) noexcept {
  return std::uint32_t(r.varint_max(kViewHopsMax, "hops over kViewHopsMax"));
}

// Flags outside `max` are malformed, so every accepted frame has one canonical encoding.
std::uint8_t read_flag(Reader& r, std::uint8_t max) noexcept {
  std::uint8_t v = r.u8();
  if (v > max) r.fail(Errc::malformed, "unknown flag value");
  return v;
}

bool write_entries(Writer& b, std::uint8_t kind, std::uint8_t kind_max,
                   std::span<const ViewEntry> entries, bool ages) noexcept {
  if (kind > kind_max || entries.size() > kViewEntriesMax) return false;
  b.u8(kind);
  b.varint(entries.size());
  for (const ViewEntry& e : entries) {
    if (!e.address.valid() || e.age > kViewAgeMax) return false;
    write_address(b, e.address);
    if (ages) b.varint(e.age);
  }
  return true;
}

Result<EntriesFrame> read_entries(std::span<const std::byte> body, std::uint8_t kind_max,
                                  bool ages) noexcept {
  Reader r(body);
  EntriesFrame f;
  f.kind = read_flag(r, kind_max);
  f.count = std::uint32_t(r.varint_max(kViewEntriesMax, "entries over kViewEntriesMax"));
  for (std::uint32_t i = 0; i < f.count && r.ok(); ++i) {
    f.entries[i].address = read_address(r);
    if (ages) f.entries[i].age = std::uint32_t(r.varint_max(kViewAgeMax, "age over kViewAgeMax"));
  }
  return finish(r, f);
}

}  // namespace

bool write_subscribe(Writer& w, const SubscribeFrame& f) noexcept {
  return frame(w, ViewFrame::subscribe, [&](Writer& b) {
    if (!f.subscriber.valid() || f.hops > kViewHopsMax) return false;
    b.u8(f.is_new ? kSubscribeNew : 0);
    b.varint(f.hops);
    write_address(b, f.subscriber);
    return true;
  });
}

bool write_inview(Writer& w, const InviewFrame& f) noexcept {
  return frame(w, ViewFrame::inview, [&](Writer& b) {
    b.u8(f.add ? 1 : 0);
    return true;
  });
}

bool write_unsubscribe(Writer& w, const UnsubscribeFrame& f) noexcept {
  return frame(w, ViewFrame::unsubscribe, [&](Writer& b) {
    if (!f.leaving.valid()) return false;
    write_address(b, f.leaving);
    const bool has = f.replacement.valid();
    b.u8(has ? 1 : 0);
    if (has) write_address(b, f.replacement);
    return true;
  });
}

bool write_walk(Writer& w, const WalkFrame& f) noexcept {
  return frame(w, ViewFrame::walk, [&](Writer& b) {
    if (!f.joiner.valid() || f.ttl > kViewHopsMax) return false;
    b.varint(f.ttl);
    write_address(b, f.joiner);
    return true;
  });
}

bool write_shuffle(Writer& w, std::uint8_t kind, std::span<const ViewEntry> entries) noexcept {
  return frame(w, ViewFrame::shuffle,
               [&](Writer& b) { return write_entries(b, kind, kShuffleJoinReply, entries, true); });
}

bool write_tman(Writer& w, std::uint8_t kind, std::span<const Address> peers) noexcept {
  if (peers.size() > kViewEntriesMax) return false;
  std::array<ViewEntry, kViewEntriesMax> entries;
  for (std::size_t i = 0; i < peers.size(); ++i) entries[i] = ViewEntry{peers[i], 0};
  return frame(w, ViewFrame::tman, [&](Writer& b) {
    return write_entries(b, kind, kTmanReply, std::span(entries.data(), peers.size()), false);
  });
}

bool write_view_gossip(Writer& w, const ViewGossipFrame& f) noexcept {
  if (f.payload.size() > kMulticastPayloadBytesMax || f.hops > kViewHopsMax) return false;
  return frame(w, ViewFrame::view_gossip, [&](Writer& b) {
    b.varint(f.msg_id);
    b.varint(f.hops);
    b.bytes(f.payload);
    return true;
  });
}

Result<SubscribeFrame> decode_subscribe(std::span<const std::byte> body) noexcept {
  Reader r(body);
  SubscribeFrame f;
  f.is_new = read_flag(r, kSubscribeNew) == kSubscribeNew;
  f.hops = read_hops(r);
  f.subscriber = read_address(r);
  return finish(r, f);
}

Result<InviewFrame> decode_inview(std::span<const std::byte> body) noexcept {
  Reader r(body);
  InviewFrame f;
  f.add = read_flag(r, 1) == 1;
  return finish(r, f);
}

Result<UnsubscribeFrame> decode_unsubscribe(std::span<const std::byte> body) noexcept {
  Reader r(body);
  UnsubscribeFrame f;
  f.leaving = read_address(r);
  if (read_flag(r, 1) == 1) f.replacement = read_address(r);
  return finish(r, f);
}

Result<WalkFrame> decode_walk(std::span<const std::byte> body) noexcept {
  Reader r(body);
  WalkFrame f;
  f.ttl = read_hops(r);
  f.joiner = read_address(r);
  return finish(r, f);
}

Result<EntriesFrame> decode_shuffle(std::span<const std::byte> body) noexcept {
  return read_entries(body, kShuffleJoinReply, true);
}

Result<EntriesFrame> decode_tman(std::span<const std::byte> body) noexcept {
  return read_entries(body, kTmanReply, false);
}

Result<ViewGossipFrame> decode_view_gossip(std::span<const std::byte> body) noexcept {
  Reader r(body);
  ViewGossipFrame f;
  f.msg_id = r.varint();
  f.hops = read_hops(r);
  if (r.remaining() > kMulticastPayloadBytesMax) {
    r.fail(Errc::too_large, "payload over kMulticastPayloadBytesMax");
  }
  f.payload = r.rest();
  return finish(r, f);
}

}  // namespace grapevine::wire
