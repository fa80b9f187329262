// Embedding grapevine in a C++ program: start two nodes in this process on loopback, let the
// second join the first, multicast a message, print what arrives and who is in the group, then
// leave. Run: ./build/release/examples/embed_node
//
// In a real service you would start one node per process (bind to the host's address), join
// a few seed addresses, and call multicast() from your code through Runtime::post().
#include <grapevine/runtime.h>

#include <cstdio>
#include <string>
#include <thread>

int main() {
  using namespace grapevine;
  Runtime runtime;

  NodeConfig config;
  config.membership = MembershipConfig::local();  // memberlist's Local timings
  config.membership.detector = Detector::lifeguard;
  config.multicast.protocol = MulticastProtocolKind::pushpull;
  config.multicast.period = Duration::milliseconds(200);

  auto callbacks = [](const char* who) {
    NodeCallbacks cb;
    cb.on_delivery = [who](const MessageId&, std::span<const std::byte> payload, std::uint32_t) {
      std::printf("%s delivered: %.*s\n", who, int(payload.size()),
                  reinterpret_cast<const char*>(payload.data()));
    };
    cb.on_member_event = [who](const Event& e) {
      std::printf("%s sees %s %s\n", who, std::string(e.subject_name).c_str(),
                  event_kind_name(e.kind));
    };
    return cb;
  };

  config.membership.name = "alpha";
  auto alpha = runtime.add_node(config, *Address::parse("127.0.0.1:0"), callbacks("alpha"));
  config.membership.name = "beta";
  auto beta = runtime.add_node(config, *Address::parse("127.0.0.1:0"), callbacks("beta"));
  if (!alpha || !beta) {
    std::fprintf(stderr, "cannot bind: %s\n", (!alpha ? alpha : beta).error().detail);
    return 1;
  }

  // The loop runs on its own thread; everything touching a node goes through post().
  std::thread loop([&] { runtime.run(); });
  const Address seed = (*alpha)->address();
  runtime.post([&] { (void)(*beta)->join(std::span(&seed, 1)); });
  std::this_thread::sleep_for(std::chrono::seconds(2));

  runtime.post([&] {
    const std::string text = "hello, group";
    auto id = (*alpha)->multicast(std::as_bytes(std::span(text.data(), text.size())));
    if (!id) std::fprintf(stderr, "multicast failed: %s\n", id.error().detail);
  });
  std::this_thread::sleep_for(std::chrono::seconds(1));

  runtime.post([&] {
    for (const MemberInfo& m : (*beta)->members()) {
      std::printf("beta's list: %s %s %s\n", m.name.c_str(), m.address.to_string().c_str(),
                  member_state_name(m.state));
    }
    (*beta)->leave();
  });
  std::this_thread::sleep_for(std::chrono::seconds(1));
  runtime.stop();
  loop.join();
  return 0;
}
