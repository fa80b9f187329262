#include "wire/native_query.h"

#include <algorithm>
#include <array>

#include "wire/framing.h"
#include "wire/native.h"
#include "wire/native_membership.h"

namespace grapevine::wire {
namespace {

constexpr std::size_t kRelayAddressBytesMax = 19;  // an IPv6 address_size()

void write_text(Writer& w, std::string_view s) noexcept {
  w.varint(s.size());
  w.bytes(std::as_bytes(std::span(s.data(), s.size())));
}

std::string_view read_text(Reader& r, std::size_t max, const char* what) noexcept {
  auto len = std::size_t(r.varint_max(max, what));
  auto b = r.bytes(len);
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

bool read_filter(Reader& r, QueryFilter& out) noexcept {
  const std::uint8_t kind = r.u8();
  if (r.ok() && kind != std::uint8_t(QueryFilterKind::node) &&
      kind != std::uint8_t(QueryFilterKind::tag)) {
    r.fail(Errc::malformed, "unknown query filter kind");
  }
  out.kind = QueryFilterKind(kind);
  out.first = read_text(r, kNameBytesMax, "query filter name over kNameBytesMax");
  out.second = out.kind == QueryFilterKind::tag
                   ? read_text(r, kQueryRegexBytesMax, "query regex over kQueryRegexBytesMax")
                   : std::string_view{};
  return r.ok();
}

}  // namespace

bool write_query_filters(Writer& w, const QueryParams& params, std::uint32_t& count) noexcept {
  const std::size_t n = params.nodes.size() + params.tags.size();
  if (n > kQueryFiltersMax) return false;
  for (const auto& name : params.nodes) {
    if (name.size() > kNameBytesMax) return false;
    w.u8(std::uint8_t(QueryFilterKind::node));
    write_text(w, name);
  }
  for (const auto& t : params.tags) {
    if (t.key.size() > kNameBytesMax || t.regex.size() > kQueryRegexBytesMax) return false;
    w.u8(std::uint8_t(QueryFilterKind::tag));
    write_text(w, t.key);
    write_text(w, t.regex);
  }
  count = std::uint32_t(n);
  return w.ok();
}

bool write_query(Writer& w, const QueryFrame& f) noexcept {
  if (f.relay_factor > kQueryRelayFactorMax || f.querier_name.size() > kNameBytesMax ||
      f.name.size() > kNameBytesMax) {
    return false;
  }
  return framing::write(w, std::uint8_t(MemberFrame::query), [&](Writer& b) {
    b.varint(f.ltime);
    b.varint(f.id);
    b.varint(f.querier);
    write_address(b, f.querier_address);
    write_text(b, f.querier_name);
    b.u8(f.ack ? 1 : 0);
    b.u8(f.relay_factor);
    b.varint(f.timeout_ms);
    b.varint(f.filter_count);
    b.bytes(f.filters);
    write_text(b, f.name);
    b.varint(f.payload.size());
    b.bytes(f.payload);
    return b.ok() && b.size() <= kQueryBytesMax;
  });
}

std::size_t query_response_body_size(const QueryResponseFrame& f) noexcept {
  return varint_size(f.ltime) + varint_size(f.id) + 1 + varint_size(f.from) +
         varint_size(f.from_name.size()) + f.from_name.size() + varint_size(f.payload.size()) +
         f.payload.size();
}

bool write_query_response(Writer& w, const QueryResponseFrame& f) noexcept {
  if (query_response_body_size(f) > kQueryResponseBytesMax ||
      f.from_name.size() > kNameBytesMax) {
    return false;
  }
  return framing::write(w, std::uint8_t(MemberFrame::query_response), [&](Writer& b) {
    b.varint(f.ltime);
    b.varint(f.id);
    b.u8(std::uint8_t((f.ack ? 1 : 0) | (f.relay ? 2 : 0)));
    if (f.relay) write_address(b, f.relay_to);
    b.varint(f.from);
    write_text(b, f.from_name);
    b.varint(f.payload.size());
    b.bytes(f.payload);
  });
}

Result<QueryFrame> decode_query(std::span<const std::byte> body) noexcept {
  if (body.size() > kQueryBytesMax) return make_error(Errc::too_large, "query over kQueryBytesMax");
  Reader r(body);
  QueryFrame f;
  f.ltime = r.varint();
  f.id = std::uint32_t(r.varint_max(UINT32_MAX, "query id over 32 bits"));
  f.querier = r.varint();
  f.querier_address = read_address(r);
  f.querier_name = read_text(r, kNameBytesMax, "querier name over kNameBytesMax");
  const std::uint8_t flags = r.u8();
  if (r.ok() && flags > 1) r.fail(Errc::malformed, "unknown query flags");
  f.ack = flags == 1;
  f.relay_factor = r.u8();
  if (r.ok() && f.relay_factor > kQueryRelayFactorMax) {
    r.fail(Errc::malformed, "relay factor over kQueryRelayFactorMax");
  }
  f.timeout_ms = std::uint32_t(r.varint_max(UINT32_MAX, "query timeout over 32 bits"));
  f.filter_count = std::uint32_t(r.varint_max(kQueryFiltersMax, "over kQueryFiltersMax filters"));
  const std::size_t filters_at = body.size() - r.remaining();
  QueryFilter skip;
  for (std::uint32_t i = 0; i < f.filter_count && r.ok(); ++i) read_filter(r, skip);
  if (r.ok()) f.filters = body.subspan(filters_at, body.size() - r.remaining() - filters_at);
  f.name = read_text(r, kNameBytesMax, "query name over kNameBytesMax");
  f.payload = r.bytes(std::size_t(r.varint_max(kQueryBytesMax, "query payload over limit")));
  return framing::finish(r, f);
}

Result<QueryResponseFrame> decode_query_response(std::span<const std::byte> body) noexcept {
  if (body.size() > kQueryResponseBytesMax + kRelayAddressBytesMax) {
    return make_error(Errc::too_large, "query response over kQueryResponseBytesMax");
  }
  Reader r(body);
  QueryResponseFrame f;
  f.ltime = r.varint();
  f.id = std::uint32_t(r.varint_max(UINT32_MAX, "query id over 32 bits"));
  const std::uint8_t flags = r.u8();
  if (r.ok() && flags > 3) r.fail(Errc::malformed, "unknown query response flags");
  f.ack = (flags & 1) != 0;
  f.relay = (flags & 2) != 0;
  if (f.relay) f.relay_to = read_address(r);
  f.from = r.varint();
  f.from_name = read_text(r, kNameBytesMax, "member name over kNameBytesMax");
  f.payload = r.bytes(std::size_t(r.varint_max(kQueryResponseBytesMax, "response over limit")));
  if (r.ok() && query_response_body_size(f) > kQueryResponseBytesMax) {
    r.fail(Errc::too_large, "query response over kQueryResponseBytesMax");
  }
  return framing::finish(r, f);
}

bool QueryFilterReader::next(QueryFilter& out) noexcept {
  if (left_ == 0 || !r_.ok()) return false;
  --left_;
  return read_filter(r_, out);
}

}  // namespace grapevine::wire
