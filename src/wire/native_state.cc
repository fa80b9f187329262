// Codec of the replicated node state's frames (grammar in native_state.h).
#include "wire/native_state.h"

#include <cstring>

#include "wire/framing.h"

namespace grapevine::wire {

bool write_state_summary(Writer& w, const StateSummary& s) noexcept {
  return framing::write(w, std::uint8_t(StateFrame::summary), [&](Writer& b) {
    b.varint(s.count);
    b.u64be(s.hash);
  });
}

Result<StateSummary> decode_state_summary(std::span<const std::byte> body) noexcept {
  Reader r(body);
  StateSummary s;
  s.count = r.varint_max(kStateEntriesMax, "summary count over limit");
  s.hash = r.u64be();
  return framing::finish(r, s);
}

bool write_state_buckets(Writer& w, const StateBuckets& b) noexcept {
  return framing::write(w, std::uint8_t(StateFrame::buckets), [&](Writer& body) {
    for (std::uint32_t h : b.hash) body.u32be(h);
  });
}

Result<StateBuckets> decode_state_buckets(std::span<const std::byte> body) noexcept {
  Reader r(body);
  StateBuckets b;
  for (std::uint32_t& h : b.hash) h = r.u32be();
  return framing::finish(r, b);
}

std::size_t state_entry_size(const StateDigestEntry& e, std::uint64_t prev_id) noexcept {
  return varint_size(e.node - prev_id) + varint_size(e.generation) + varint_size(e.max_version);
}

void write_state_entries(Writer& w, std::span<const StateDigestEntry> entries) noexcept {
  w.varint(entries.size());
  std::uint64_t prev = 0;
  for (const auto& e : entries) {
    w.varint(e.node - prev);
    w.varint(e.generation);
    w.varint(e.max_version);
    prev = e.node;
  }
}

// Entries must be in strictly increasing node order (delta coding); anything else is malformed.
static void read_entries(Reader& r, std::vector<StateDigestEntry>& out) noexcept {
  const std::uint64_t n = r.varint_max(kStateEntriesMax, "state entries over limit");
  // Each entry takes at least 3 bytes: a count beyond that is a lie, refuse before reserving.
  if (!r.ok() || n > r.remaining() / 3) {
    r.fail(Errc::truncated, "state entries longer than the input");
    return;
  }
  out.reserve(std::size_t(n));
  std::uint64_t prev = 0;
  for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
    StateDigestEntry e;
    const std::uint64_t delta = r.varint();
    if (i > 0 && delta == 0) {
      r.fail(Errc::malformed, "state entries out of order");
      return;
    }
    e.node = prev + delta;
    if (e.node < prev) {
      r.fail(Errc::malformed, "state entry id overflows");
      return;
    }
    e.generation = r.varint();
    e.max_version = r.varint();
    prev = e.node;
    if (r.ok()) out.push_back(e);
  }
}

bool write_state_digest(Writer& w, const StateDigest& d) noexcept {
  std::size_t body = varint_size(d.mask) + varint_size(d.lo) + varint_size(d.hi) +
                     varint_size(d.entries.size());
  std::uint64_t prev = 0;
  for (const auto& e : d.entries) {
    body += state_entry_size(e, prev);
    prev = e.node;
  }
  if (w.remaining() < 1 + varint_size(body) + body) return false;
  w.u8(std::uint8_t(StateFrame::digest));
  w.varint(body);
  w.varint(d.mask);
  w.varint(d.lo);
  w.varint(d.hi);
  write_state_entries(w, d.entries);
  return w.ok();
}

Result<StateDigest> decode_state_digest(std::span<const std::byte> body) noexcept {
  Reader r(body);
  StateDigest d;
  d.mask = std::uint32_t(r.varint_max(kAllBuckets, "digest bucket mask"));
  d.lo = r.varint();
  d.hi = r.varint();
  if (r.ok() && d.hi != 0 && d.hi <= d.lo) r.fail(Errc::malformed, "digest window empty");
  read_entries(r, d.entries);
  for (const auto& e : d.entries) {
    if (e.node < d.lo || (d.hi != 0 && e.node >= d.hi) ||
        (d.mask & (1u << state_bucket(e.node))) == 0) {
      r.fail(Errc::malformed, "digest entry outside its window");
      break;
    }
  }
  return framing::finish(r, std::move(d));
}

std::size_t state_block_header_size(const StateBlockHeader& h) noexcept {
  return varint_size(h.node) + varint_size(h.generation) + varint_size(h.last_gc) +
         varint_size(h.from) + varint_size(h.up_to) + varint_size(h.keys);
}

std::size_t state_key_op_size(std::size_t key_bytes, std::size_t value_bytes,
                              std::uint64_t version) noexcept {
  return varint_size(key_bytes) + key_bytes + varint_size(value_bytes) + value_bytes +
         varint_size(version) + 1;
}

void write_state_block_header(Writer& w, const StateBlockHeader& h) noexcept {
  w.varint(h.node);
  w.varint(h.generation);
  w.varint(h.last_gc);
  w.varint(h.from);
  w.varint(h.up_to);
  w.varint(h.keys);
}

void write_state_key_op(Writer& w, const StateKeyOp& op) noexcept {
  w.varint(op.key.size());
  w.bytes(std::as_bytes(std::span(op.key.data(), op.key.size())));
  w.varint(op.value.size());
  w.bytes(op.value);
  w.varint(op.version);
  w.u8(op.tombstone ? 1 : 0);
}

StateDeltaReader::StateDeltaReader(std::span<const std::byte> body) noexcept : r_(body) {
  read_entries(r_, req_);
}

bool StateDeltaReader::next_block(StateBlockHeader& out) noexcept {
  while (keys_left_ > 0 && r_.ok()) {  // skip what the caller did not read
    StateKeyOp skip;
    next_key(skip);
  }
  if (!r_.ok() || r_.at_end()) return false;
  out.node = r_.varint();
  out.generation = r_.varint();
  out.last_gc = r_.varint();
  out.from = r_.varint();
  out.up_to = r_.varint();
  out.keys = r_.varint_max(kStateKeysPerBlockMax, "keys per block over limit");
  if (r_.ok() && (out.up_to < out.from || out.keys > out.up_to - out.from)) {
    r_.fail(Errc::malformed, "block versions");
  }
  if (r_.ok() && out.keys > r_.remaining() / 4) r_.fail(Errc::truncated, "block keys");
  keys_left_ = r_.ok() ? out.keys : 0;
  last_version_ = out.from;
  up_to_ = out.up_to;
  return r_.ok();
}

bool StateDeltaReader::next_key(StateKeyOp& out) noexcept {
  if (keys_left_ == 0 || !r_.ok()) return false;
  --keys_left_;
  auto klen = std::size_t(r_.varint_max(kStateKeyBytesWireMax, "key over wire limit"));
  auto key = r_.bytes(klen);
  auto vlen = std::size_t(r_.varint_max(kStateValueBytesWireMax, "value over wire limit"));
  out.value = r_.bytes(vlen);
  out.version = r_.varint();
  const std::uint8_t flags = r_.u8();
  if (r_.ok() && flags > 1) r_.fail(Errc::malformed, "key flags");
  if (r_.ok() && (out.version <= last_version_ || out.version > up_to_)) r_.fail(Errc::malformed, "key versions not ascending");
  if (!r_.ok()) {
    keys_left_ = 0;
    return false;
  }
  out.key = std::string_view(reinterpret_cast<const char*>(key.data()), key.size());
  out.tombstone = flags == 1;
  last_version_ = out.version;
  return true;
}

std::vector<std::byte> make_state_stream(std::span<const std::byte> delta_body) {
  const std::size_t n = 1 + 1 + varint_size(delta_body.size()) + delta_body.size();
  std::vector<std::byte> out(4 + n);
  Writer w(out);
  w.u32be(std::uint32_t(n));
  w.u8(kNativeVersion);
  w.u8(std::uint8_t(StateFrame::delta));
  w.varint(delta_body.size());
  w.bytes(delta_body);
  return out;
}

bool is_state_stream(std::span<const std::byte> msg) noexcept {
  return msg.size() >= 6 && std::to_integer<std::uint8_t>(msg[4]) == kNativeVersion &&
         is_state_frame(std::to_integer<std::uint8_t>(msg[5]));
}

Result<std::span<const std::byte>> decode_state_stream(std::span<const std::byte> msg) noexcept {
  if (msg.size() > kStateStreamBytesMax + 4) return make_error(Errc::too_large, "state stream");
  Reader r(msg);
  const std::uint32_t n = r.u32be();
  if (r.ok() && n != r.remaining()) r.fail(Errc::malformed, "stream length mismatch");
  if (r.u8() != kNativeVersion && r.ok()) r.fail(Errc::unsupported_version, "stream version");
  if (r.u8() != std::uint8_t(StateFrame::delta) && r.ok()) {
    r.fail(Errc::unknown_type, "not a state stream");
  }
  const std::uint64_t len = r.varint();
  if (r.ok() && len != r.remaining()) r.fail(Errc::malformed, "delta length mismatch");
  auto body = r.bytes(std::size_t(len));
  if (!r.ok()) return make_error(r.error(), r.error_detail());
  return body;
}

}  // namespace grapevine::wire
