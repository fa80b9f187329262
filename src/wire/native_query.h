// Native wire format of serf-style queries (grapevine/query.h), two frames of the membership
// family (wire/native_membership.h):
//
//   query          := ltime id:varint(u32) querier_id querier_address querier_name_len
//                     querier_name flags:u8 (1 = ack requested) relay_factor:u8
//                     timeout_ms:varint filter_count:varint filter* name_len name
//                     payload_len payload                     (body <= kQueryBytesMax)
//   filter         := kind:u8 (1 = node: name_len name | 2 = tag: key_len key re_len regex)
//   query_response := ltime id flags:u8 (1 = ack, 2 = relay: relay_to follows) [relay_to]
//                     from_id from_name_len from_name payload_len payload
//                     (body without relay_to <= kQueryResponseBytesMax)
//
// A query travels like a user event (piggybacked, re-broadcast on first sight); its timeout is
// relative (each member's deadline is its receipt time plus the timeout, as serf's). A response
// goes to the querier's address; one flagged `relay` goes to a relay member, which forwards it
// without the flag and without relay_to to that address (serf's messageRelayType).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "grapevine/address.h"
#include "grapevine/query.h"
#include "grapevine/result.h"
#include "wire/reader.h"
#include "wire/writer.h"

namespace grapevine::wire {

enum class QueryFilterKind : std::uint8_t { node = 1, tag = 2 };

struct QueryFrame {
  std::uint64_t ltime = 0;
  std::uint32_t id = 0;
  std::uint64_t querier = 0;
  Address querier_address;
  std::string_view querier_name;
  bool ack = false;
  std::uint8_t relay_factor = 0;
  std::uint32_t timeout_ms = 0;
  std::uint32_t filter_count = 0;
  std::span<const std::byte> filters;  // filter_count filters; walk with QueryFilterReader
  std::string_view name;
  std::span<const std::byte> payload;
};

struct QueryFilter {
  QueryFilterKind kind = QueryFilterKind::node;
  std::string_view first;   // node: its name; tag: the key
  std::string_view second;  // tag: the regex
};

struct QueryResponseFrame {
  std::uint64_t ltime = 0;
  std::uint32_t id = 0;
  bool ack = false;
  bool relay = false;
  Address relay_to;  // relay only: where the relay member forwards it
  std::uint64_t from = 0;
  std::string_view from_name;
  std::span<const std::byte> payload;
};

/// Writes the filters section (count, then each filter) for `params`' nodes and tags into `w`.
/// False when there are over kQueryFiltersMax, a name/key over 255 bytes or a regex over
/// kQueryRegexBytesMax, or it does not fit.
bool write_query_filters(Writer& w, const QueryParams& params, std::uint32_t& count) noexcept;
/// False when the body would be over kQueryBytesMax or the frame does not fit.
bool write_query(Writer& w, const QueryFrame& f) noexcept;
/// False when the body (without relay_to) is over kQueryResponseBytesMax or it does not fit.
bool write_query_response(Writer& w, const QueryResponseFrame& f) noexcept;
/// Bytes of a response body without relay_to (the size limited by kQueryResponseBytesMax).
std::size_t query_response_body_size(const QueryResponseFrame& f) noexcept;

/// Errors: too_large (over kQueryBytesMax, a count or length over its limit), malformed (bad
/// flags, relay factor over kQueryRelayFactorMax, a bad filter), truncated.
Result<QueryFrame> decode_query(std::span<const std::byte> body) noexcept;
/// Errors: too_large (over the limit), malformed (bad flags or address), truncated.
Result<QueryResponseFrame> decode_query_response(std::span<const std::byte> body) noexcept;

/// Walks a decoded query's filters (decode_query checked them all once already).
class QueryFilterReader {
 public:
  explicit QueryFilterReader(const QueryFrame& f) noexcept : r_(f.filters), left_(f.filter_count) {}
  bool next(QueryFilter& out) noexcept;
  [[nodiscard]] bool ok() const noexcept { return r_.ok(); }

 private:
  Reader r_;
  std::uint32_t left_;
};

}  // namespace grapevine::wire
