// Fuzz target: the native datagram framing and every multicast frame decoder.
//
// Input: a datagram. Properties checked (a failure aborts, so libFuzzer keeps the input):
//  - FrameIterator stays inside the input, yields at most kFramesPerDatagramMax frames, and a
//    datagram it accepts whole is exactly version + its frames;
//  - every decode_* runs on every frame body (and on the raw input), whatever the frame type;
//  - what a decoder accepts re-encodes, decodes back to the same fields, and is never longer
//    than the input; where the input was canonical (minimal varints, no trailing bytes: then the
//    re-encoding has the same length) the bytes are identical.
// ASan and UBSan catch any out-of-bounds read or undefined arithmetic on the way.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fuzz_check.h"
#include "wire/native.h"

namespace {

using namespace grapevine;
using namespace grapevine::wire;

using Bytes = std::span<const std::byte>;

bool same_bytes(Bytes a, Bytes b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

// Writes one frame with `write`, checks the header the writer produced, and returns its body.
template <class Write>
Bytes encode_frame(std::span<std::byte> buf, std::uint8_t type, Write&& write) {
  Writer w(buf);
  FUZZ_CHECK(write(w));
  FUZZ_CHECK(w.ok());
  Reader r(w.written());
  FUZZ_CHECK(r.u8() == type);
  const std::uint64_t length = r.varint();
  Bytes body = r.rest();
  FUZZ_CHECK(r.ok() && length == body.size());
  return body;
}

// The canonical re-encoding of an accepted body: same fields, never longer, identical if the
// input was itself canonical.
template <class T, class Write, class Decode, class Equal>
void check_round_trip(Bytes body, const T& decoded, FrameType type, Write&& write, Decode&& decode,
                      Equal&& equal) {
  std::array<std::byte, kPacketBudgetBytesMax> buf;
  Bytes again = encode_frame(buf, std::uint8_t(type), [&](Writer& w) { return write(w, decoded); });
  auto redecoded = decode(again);
  FUZZ_CHECK(redecoded.has_value());
  FUZZ_CHECK(equal(*redecoded, decoded));
  FUZZ_CHECK(again.size() <= body.size());
  if (again.size() == body.size()) FUZZ_CHECK(same_bytes(again, body));
}

bool equal_data(const DataFrame& a, const DataFrame& b) {
  return a.id == b.id && a.hops == b.hops && a.flags == b.flags && same_bytes(a.payload, b.payload);
}

void decode_everything(Bytes body) {
  if (auto f = decode_data(body)) {
    FUZZ_CHECK(f->payload.size() <= kMulticastPayloadBytesMax);
    FUZZ_CHECK(f->payload.empty() ||
               (f->payload.data() >= body.data() &&
                f->payload.data() + f->payload.size() == body.data() + body.size()));
    check_round_trip(body, *f, FrameType::data, write_data, decode_data, equal_data);
  }
  {
    // The in-place decoder (the gossip hot path) accepts exactly what the Result one accepts,
    // with the same ids.
    PullRequestFrame in_place;
    const bool ok = decode_pull_request_into(body, in_place);
    auto via_result = decode_pull_request(body);
    FUZZ_CHECK(ok == via_result.has_value());
    if (ok) {
      FUZZ_CHECK(in_place.count == via_result->count);
      FUZZ_CHECK(std::equal(in_place.ids, in_place.ids + in_place.count, via_result->ids));
    }
  }
  if (auto f = decode_pull_request(body)) {
    FUZZ_CHECK(f->count <= kPullDigestIdsMax);
    check_round_trip(
        body, *f, FrameType::pull_request,
        [](Writer& w, const PullRequestFrame& p) {
          return write_pull_request(w, std::span(p.ids, p.count));
        },
        decode_pull_request,
        [](const PullRequestFrame& a, const PullRequestFrame& b) {
          return a.count == b.count && std::equal(a.ids, a.ids + a.count, b.ids);
        });
  }
  if (auto f = decode_feedback(body)) {
    check_round_trip(body, *f, FrameType::feedback, write_feedback, decode_feedback,
                     [](const FeedbackFrame& a, const FeedbackFrame& b) {
                       return a.id == b.id && a.was_new == b.was_new;
                     });
  }
  if (auto f = decode_ack(body)) {
    check_round_trip(body, *f, FrameType::ack, write_ack, decode_ack,
                     [](const AckFrame& a, const AckFrame& b) { return a.id == b.id; });
  }
  if (auto f = decode_nack(body)) {
    check_round_trip(body, *f, FrameType::nack, write_nack, decode_nack,
                     [](const NackFrame& a, const NackFrame& b) {
                       return a.id == b.id && a.requester_hops == b.requester_hops;
                     });
  }
  if (auto f = decode_session(body)) {
    check_round_trip(body, *f, FrameType::session, write_session, decode_session,
                     [](const SessionFrame& a, const SessionFrame& b) {
                       return a.origin == b.origin && a.highest_seq == b.highest_seq;
                     });
  }
}

void check_framing(Bytes in) {
  FrameIterator it(in);
  Frame frame;
  std::size_t frames = 0;
  std::size_t canonical_bytes = 1;  // the version byte
  std::vector<std::byte> rebuilt{std::byte{kNativeVersion}};
  while (it.next(frame)) {
    ++frames;
    FUZZ_CHECK(frames <= kFramesPerDatagramMax);
    FUZZ_CHECK(frame.body.empty() ||
               (frame.body.data() > in.data() &&
                frame.body.data() + frame.body.size() <= in.data() + in.size()));
    canonical_bytes += 1 + varint_size(frame.body.size()) + frame.body.size();
    rebuilt.push_back(std::byte{frame.type});
    std::array<std::byte, 10> len;
    Writer w(len);
    w.varint(frame.body.size());
    rebuilt.insert(rebuilt.end(), w.written().begin(), w.written().end());
    rebuilt.insert(rebuilt.end(), frame.body.begin(), frame.body.end());
    decode_everything(frame.body);
  }
  FUZZ_CHECK(!it.next(frame));  // a finished iterator stays finished
  if (it.ok()) {
    // Accepted whole: every byte belongs to a frame, and with minimal length varints the
    // datagram is exactly the frames laid end to end.
    FUZZ_CHECK(in.size() <= kDatagramBytesMax);
    FUZZ_CHECK(canonical_bytes <= in.size());
    if (canonical_bytes == in.size()) FUZZ_CHECK(same_bytes(rebuilt, in));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Bytes in = std::as_bytes(std::span(data, size));
  check_framing(in);
  decode_everything(in);  // the decoders straight on raw bytes, framing or not
  return 0;
}
