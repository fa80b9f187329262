// Fuzz target: serf's messages (core/serf/messages.h) and the serf layer that consumes them.
//
// Input: arbitrary bytes as a serf message (a memberlist user message's payload: type byte,
// then msgpack) and, the same bytes, as a push-pull user state. Properties:
//  - no decoder and no layer call crashes, whatever the bytes;
//  - a message that decodes re-encodes to bytes that decode to the same fields (joins, leaves,
//    user events, queries, responses).
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/serf/serf_layer.h"
#include "fuzz_check.h"

using namespace grapevine;
using namespace grapevine::detail::serf;

namespace {

struct NullHost final : Host {
  void gossip(std::span<const std::byte>) override {}
  void send(const Address&, std::span<const std::byte>, Effects&) override {}
  void members(std::vector<HostMember>& out) const override {
    HostMember m;
    m.name = "gv1";
    m.address = Address::ipv4(127, 0, 0, 1, 7948);
    out.push_back(m);
  }
  Result<void> change_key(KeyOp, std::span<const std::byte>) override { return {}; }
  std::vector<std::vector<std::byte>> keys() const override { return {}; }
};

struct NullEffects final : Effects {
  void send(const Address&, std::span<const std::byte>) override {}
  void emit(const Event&) override {}
};

void round_trips(ByteSpan in) {
  if (in.empty()) return;
  const ByteSpan body = in.subspan(1);
  switch (MessageType(std::to_integer<std::uint8_t>(in[0]))) {
    case MessageType::join:
      if (auto m = decode_join(body)) {
        const Bytes again = encode(*m);
        auto back = decode_join(ByteSpan(again).subspan(1));
        FUZZ_CHECK(back && back->ltime == m->ltime && back->node == m->node);
      }
      break;
    case MessageType::leave:
      if (auto m = decode_leave(body)) {
        const Bytes again = encode(*m);
        auto back = decode_leave(ByteSpan(again).subspan(1));
        FUZZ_CHECK(back && back->ltime == m->ltime && back->node == m->node &&
                   back->prune == m->prune);
      }
      break;
    case MessageType::user_event:
      if (auto m = decode_user_event(body)) {
        const Bytes again = encode(*m);
        auto back = decode_user_event(ByteSpan(again).subspan(1));
        FUZZ_CHECK(back && back->ltime == m->ltime && back->name == m->name &&
                   std::equal(back->payload.begin(), back->payload.end(), m->payload.begin(),
                              m->payload.end()));
      }
      break;
    case MessageType::query:
      if (auto m = decode_query(body)) {
        const Bytes again = encode(*m);
        auto back = decode_query(ByteSpan(again).subspan(1));
        FUZZ_CHECK(back && back->ltime == m->ltime && back->id == m->id &&
                   back->name == m->name && back->filters.size() == m->filters.size() &&
                   back->timeout_ns == m->timeout_ns);
        for (ByteSpan f : m->filters) (void)decode_filter(f);
      }
      break;
    case MessageType::query_response:
      if (auto m = decode_query_response(body)) {
        const Bytes again = encode(*m);
        auto back = decode_query_response(ByteSpan(again).subspan(1));
        FUZZ_CHECK(back && back->ltime == m->ltime && back->from == m->from);
      }
      break;
    default:
      (void)decode_push_pull(body);
      (void)decode_key_response(body);
      (void)decode_key_request(body);
      (void)decode_conflict(body);
      (void)decode_relay(body);
      (void)decode_filter(in);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteSpan in(reinterpret_cast<const std::byte*>(data), size);
  round_trips(in);
  NullHost host;
  NullEffects fx;
  Layer layer(LayerConfig{"gv1", Address::ipv4(127, 0, 0, 1, 7948), {{"", "ok"}}}, host, 1);
  layer.on_message(Time::zero(), in, fx);
  layer.merge_remote_state(Time::zero(), in, false, fx);
  (void)layer.local_state();
  return 0;
}
