// A program on grapevine::core alone (no grapevine::crypto): two keyless nodes run in memory,
// datagrams handed between them by this loop (no sockets, no simulator); keys are refused with
// the documented error. Prints "core-only ok: <datagrams> datagrams, <members> members".
#include <grapevine/crypto.h>
#include <grapevine/node.h>

#include <cstdio>
#include <cstring>
#include <deque>
#include <vector>

namespace {
using namespace grapevine;

struct Packet {
  Address to, from;
  std::vector<std::byte> bytes;
};

class Wire final : public Effects {
 public:
  void send(const Address& to, std::span<const std::byte> d) override {
    queue.push_back({to, from, {d.begin(), d.end()}});
  }
  void emit(const Event&) override {}
  Address from;
  std::deque<Packet> queue;
};

int fail(const char* what) {
  std::printf("core-only FAILED: %s\n", what);
  return 1;
}
}  // namespace

int main() {
  if (crypto_available()) return fail("a crypto provider is linked in");
  NodeConfig keyed;
  keyed.membership.memberlist.keys.push_back(std::vector<std::byte>(32, std::byte{1}));
  auto r = validate(keyed);
  if (r || r.error().code != Errc::invalid_argument ||
      std::strstr(r.error().detail, "grapevine::crypto") == nullptr) {
    return fail("keys were not refused with \"encryption needs grapevine::crypto\"");
  }
  const Address a = *Address::parse("127.0.0.1:7000"), b = *Address::parse("127.0.0.1:7001");
  Node na(NodeConfig{}, a, 1), nb(NodeConfig{}, b, 2);
  Time now = Time::from_ns(1'000'000'000);
  na.preload(now, std::span(&b, 1));
  nb.preload(now, std::span(&a, 1));
  Wire fx;
  int delivered = 0;
  for (int step = 0; step < 100; ++step) {  // 5 s of driver time in 50 ms steps
    now = now + Duration::milliseconds(50);
    fx.from = a;
    na.on_timeout(now, fx);
    fx.from = b;
    nb.on_timeout(now, fx);
    while (!fx.queue.empty()) {
      Packet p = std::move(fx.queue.front());
      fx.queue.pop_front();
      fx.from = p.to;
      (p.to == a ? na : nb).on_datagram(now, p.from, p.bytes, fx);
      ++delivered;
    }
  }
  const auto members = nb.membership().member_count(MemberState::alive);
  if (delivered == 0 || members != 2) return fail("the nodes did not talk");
  std::printf("core-only ok: %d datagrams, %zu members\n", delivered, members);
  return 0;
}
