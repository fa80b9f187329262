// Fuzz target: the query frame decoders (wire/native_query.h) and the keyring answer
// (grapevine/query.h), on every frame body of the input read as a native datagram and on the raw
// input. What is accepted stays within its limits and re-encodes to the same fields, never
// longer than the input, byte-identical when the input was canonical.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fuzz_check.h"
#include "fuzz_frames.h"
#include "grapevine/query.h"
#include "wire/native.h"
#include "wire/native_membership.h"
#include "wire/native_query.h"

namespace {

using namespace grapevine;
using namespace grapevine::wire;
using Bytes = std::span<const std::byte>;

bool same_bytes(Bytes a, Bytes b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

// The body of the single frame `w` holds.
Bytes body_of(const Writer& w, MemberFrame type) {
  Reader r(w.written());
  FUZZ_CHECK(r.u8() == std::uint8_t(type));
  const std::uint64_t length = r.varint();
  Bytes body = r.rest();
  FUZZ_CHECK(r.ok() && length == body.size());
  return body;
}

void check_query(Bytes body) {
  auto f = decode_query(body);
  if (!f) return;
  FUZZ_CHECK(body.size() <= kQueryBytesMax && f->relay_factor <= kQueryRelayFactorMax);
  QueryFilterReader filters(*f);
  QueryFilter q;
  std::uint32_t n = 0;
  while (filters.next(q)) {
    ++n;
    FUZZ_CHECK(q.first.size() <= kNameBytesMax && q.second.size() <= kQueryRegexBytesMax);
  }
  FUZZ_CHECK(filters.ok() && n == f->filter_count);
  std::array<std::byte, kPacketBudgetBytesMax> buf;
  Writer w(buf);
  FUZZ_CHECK(write_query(w, *f));
  Bytes again = body_of(w, MemberFrame::query);
  auto back = decode_query(again);
  FUZZ_CHECK(back && back->ltime == f->ltime && back->id == f->id &&
             back->querier == f->querier && back->querier_address == f->querier_address &&
             back->querier_name == f->querier_name && back->ack == f->ack &&
             back->relay_factor == f->relay_factor && back->timeout_ms == f->timeout_ms &&
             back->filter_count == f->filter_count && same_bytes(back->filters, f->filters) &&
             back->name == f->name && same_bytes(back->payload, f->payload));
  FUZZ_CHECK(again.size() <= body.size());
  if (again.size() == body.size()) FUZZ_CHECK(same_bytes(again, body));
}

void check_response(Bytes body) {
  auto f = decode_query_response(body);
  if (!f) return;
  FUZZ_CHECK(query_response_body_size(*f) <= kQueryResponseBytesMax);
  std::array<std::byte, kPacketBudgetBytesMax> buf;
  Writer w(buf);
  FUZZ_CHECK(write_query_response(w, *f));
  Bytes again = body_of(w, MemberFrame::query_response);
  auto back = decode_query_response(again);
  FUZZ_CHECK(back && back->ltime == f->ltime && back->id == f->id && back->ack == f->ack &&
             back->relay == f->relay && (!f->relay || back->relay_to == f->relay_to) &&
             back->from == f->from && back->from_name == f->from_name &&
             same_bytes(back->payload, f->payload));
  FUZZ_CHECK(again.size() <= body.size());
  if (again.size() == body.size()) FUZZ_CHECK(same_bytes(again, body));
}

void check_keyring_answer(Bytes in) {
  auto a = decode_keyring_answer(in);
  if (!a) return;
  const auto again = encode_keyring_answer(*a);
  auto back = decode_keyring_answer(again);
  FUZZ_CHECK(back.has_value() && back->ok == a->ok);
  FUZZ_CHECK(back->keys.size() <= a->keys.size());
  for (std::size_t i = 0; i < back->keys.size(); ++i) FUZZ_CHECK(back->keys[i] == a->keys[i]);
  if (back->keys.size() == a->keys.size()) {
    FUZZ_CHECK(back->message == a->message && again.size() <= in.size());
    if (again.size() == in.size()) FUZZ_CHECK(same_bytes(again, in));
  }
}

void decode_everything(Bytes body) {
  check_query(body);
  check_response(body);
  check_keyring_answer(body);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Bytes in = std::as_bytes(std::span(data, size));
  fuzz::decode_frame_bodies_then_whole(in, [](Bytes b) { decode_everything(b); });
  return 0;
}
