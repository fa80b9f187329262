// Native frames of the replicated node state (scuttlebutt; src/core/state/), family 0x50.
//
//   summary  0x50 := count:varint hash:u64be
//        "my digest has `count` entries hashing to `hash`": a peer with the same answers nothing.
//   buckets  0x53 := hash:u32be{32}
//        the order-free hash of the digest entries in each of 32 buckets (state_bucket(id)):
//        the answer to a summary that differs, so the digest covers only differing buckets.
//   digest   0x51 := mask:varint lo:varint hi:varint n:varint entry{n}
//        the sender's (node, generation, max_version) for the nodes in the buckets of `mask`
//        with lo <= id < hi (hi 0 = no upper end), in id order; ids are delta-coded (each
//        entry's id minus the previous).
//        entry := id_delta:varint generation:varint max_version:varint
//   delta    0x52 := nreq:varint entry{nreq} block*
//        `entry`s are requests ("send me this node above this version"), the blocks are state:
//        block := node:varint generation:varint last_gc:varint from:varint up_to:varint
//                 n:varint key_op{n}
//        key_op := key_len:varint key value_len:varint value version:varint flags:u8
//        A block holds every key of `node` whose version is in (from, up_to], ascending by
//        version: a receiver holding `from` may apply it and then holds `up_to`. from = 0 with
//        last_gc > 0 is a reset: the full state, after tombstones were collected.
//
// Streams (state too big for datagrams) carry one delta frame:
//   stream := length:u32be version:u8 0x52 body_length:varint body
#pragma once

#include "grapevine/limits.h"
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "grapevine/result.h"
#include "wire/native.h"
#include "wire/reader.h"
#include "wire/writer.h"

namespace grapevine::wire {

enum class StateFrame : std::uint8_t { summary = 0x50, digest = 0x51, delta = 0x52, buckets = 0x53 };
inline constexpr std::uint8_t kStateFamily = std::uint8_t(FrameFamily::state);
constexpr bool is_state_frame(std::uint8_t type) noexcept { return (type & 0xf0) == kStateFamily; }

/// Hard wire caps (the configured limits are checked by the machine, and are lower).
using grapevine::kStateKeyBytesWireMax;  // limits.h
using grapevine::kStateValueBytesWireMax;  // limits.h
using grapevine::kStateEntriesMax;  // limits.h; digest entries or requests
inline constexpr std::size_t kStateKeysPerBlockMax = 1u << 20;
/// Largest stream message we send or accept (as membership's push-pull cap).
using grapevine::kStateStreamBytesMax;  // limits.h

/// Digest buckets: a node id's bucket is fixed (a hash of the id).
inline constexpr std::size_t kStateBuckets = 32;
constexpr std::uint32_t state_bucket(std::uint64_t node) noexcept {
  std::uint64_t z = node * 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 31)) * 0xbf58476d1ce4e5b9ULL;
  return std::uint32_t(z >> 59);  // the top 5 bits: 0..31
}
inline constexpr std::uint32_t kAllBuckets = 0xffffffffu;

struct StateBuckets {
  std::uint32_t hash[kStateBuckets] = {};
};

struct StateDigestEntry {
  std::uint64_t node = 0;
  std::uint64_t generation = 0;
  std::uint64_t max_version = 0;
  friend bool operator==(const StateDigestEntry&, const StateDigestEntry&) = default;
};

struct StateSummary {
  std::uint64_t count = 0;
  std::uint64_t hash = 0;
};

struct StateDigest {
  std::uint32_t mask = kAllBuckets;  // buckets covered
  std::uint64_t lo = 0, hi = 0;      // hi 0 = no upper end
  std::vector<StateDigestEntry> entries;
};

struct StateBlockHeader {
  std::uint64_t node = 0, generation = 0, last_gc = 0, from = 0, up_to = 0;
  std::uint64_t keys = 0;
};

struct StateKeyOp {
  std::string_view key;  // points into the input
  std::span<const std::byte> value;
  std::uint64_t version = 0;
  bool tombstone = false;
};

bool write_state_summary(Writer& w, const StateSummary& s) noexcept;
Result<StateSummary> decode_state_summary(std::span<const std::byte> body) noexcept;

bool write_state_buckets(Writer& w, const StateBuckets& b) noexcept;
Result<StateBuckets> decode_state_buckets(std::span<const std::byte> body) noexcept;

/// Bytes an entry adds to a digest (or a request list) after `prev_id`.
std::size_t state_entry_size(const StateDigestEntry& e, std::uint64_t prev_id) noexcept;
void write_state_entries(Writer& w, std::span<const StateDigestEntry> entries) noexcept;
bool write_state_digest(Writer& w, const StateDigest& d) noexcept;
Result<StateDigest> decode_state_digest(std::span<const std::byte> body) noexcept;

std::size_t state_block_header_size(const StateBlockHeader& h) noexcept;
std::size_t state_key_op_size(std::size_t key_bytes, std::size_t value_bytes,
                              std::uint64_t version) noexcept;
void write_state_block_header(Writer& w, const StateBlockHeader& h) noexcept;
void write_state_key_op(Writer& w, const StateKeyOp& op) noexcept;

/// Reads a delta body: the requests first, then blocks and their keys. Usage:
///   StateDeltaReader r(body); for (auto& e : r.requests()) ...;
///   StateBlockHeader h; while (r.next_block(h)) { StateKeyOp op; while (r.next_key(op)) ... }
///   if (!r.ok()) count malformed
/// The key ops of a block must be read before the next block.
class StateDeltaReader {
 public:
  explicit StateDeltaReader(std::span<const std::byte> body) noexcept;
  [[nodiscard]] const std::vector<StateDigestEntry>& requests() const noexcept { return req_; }
  bool next_block(StateBlockHeader& out) noexcept;
  bool next_key(StateKeyOp& out) noexcept;
  [[nodiscard]] bool ok() const noexcept { return r_.ok(); }
  [[nodiscard]] Errc error() const noexcept { return r_.error(); }

 private:
  Reader r_;
  std::vector<StateDigestEntry> req_;
  std::uint64_t keys_left_ = 0;
  std::uint64_t last_version_ = 0;
  std::uint64_t up_to_ = 0;
};

/// Wraps a delta body into a stream message (see the grammar above).
std::vector<std::byte> make_state_stream(std::span<const std::byte> delta_body);
/// The delta body of a state stream message; errors for anything else or malformed framing.
Result<std::span<const std::byte>> decode_state_stream(std::span<const std::byte> msg) noexcept;
/// Whether a stream message is a state stream (routing only; decode_state_stream checks it).
bool is_state_stream(std::span<const std::byte> msg) noexcept;

}  // namespace grapevine::wire
