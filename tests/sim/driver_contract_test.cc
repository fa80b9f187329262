// The driver contract (util/driver_contract.h) fires in the simulator: a call into a machine from
// inside another machine call, a stream reply outside the call handling that stream, and (on
// the helper itself, as the runtime uses it per node) time going backwards.
#include <gtest/gtest.h>

#include <memory>

#include "sim/simulator.h"
#include "util/driver_contract.h"

namespace grapevine::sim {
namespace {

// Wants one timeout at t = 0; then does what the test asks of it.
class Probe final : public Machine {
 public:
  enum class Act { emit, reply_outside_stream };
  explicit Probe(Act act) : act_(act) {}
  void on_datagram(Time, const Address&, std::span<const std::byte>, Effects&) override {}
  void on_timeout(Time, Effects& fx) override {
    fired_ = true;
    if (act_ == Act::emit) {
      Event e;
      e.kind = EventKind::joined;
      fx.emit(e);
    } else {
      const std::byte b{1};
      fx.reply_stream(1, std::span(&b, 1));
    }
  }
  [[nodiscard]] Time next_deadline() const noexcept override {
    return fired_ ? Time::max() : Time::zero();
  }

 private:
  Act act_;
  bool fired_ = false;
};

TEST(DriverContractDeathTest, ACallFromInsideAMachineCallAborts) {
  EXPECT_DEATH(
      {
        Simulator sim(NetworkConfig{}, 1);
        sim.add_node(std::make_unique<Probe>(Probe::Act::emit));
        sim.add_node(std::make_unique<Probe>(Probe::Act::emit));
        // The observer runs inside the machine's emit(): calling a node from there re-enters.
        sim.set_observer([&](Time, NodeIndex, const Event&) {
          sim.with_node(1, [](Machine&, Effects&) {});
        });
        sim.run_for(Duration::seconds(1));
      },
      "in_call");
}

TEST(DriverContractDeathTest, AStreamReplyOutsideItsCallAborts) {
  EXPECT_DEATH(
      {
        Simulator sim(NetworkConfig{}, 1);
        sim.add_node(std::make_unique<Probe>(Probe::Act::reply_outside_stream));
        sim.add_node(std::make_unique<Probe>(Probe::Act::emit));
        sim.run_for(Duration::seconds(1));
      },
      "stream");
}

TEST(DriverContractDeathTest, TimeGoingBackwardsAborts) {
  detail::DriverContract c;
  { detail::DriverContract::Call call(c, Time::from_ns(2000)); }
  { detail::DriverContract::Call call(c, Time::from_ns(2000)); }  // equal is fine
  EXPECT_DEATH({ detail::DriverContract::Call call(c, Time::from_ns(1000)); }, "last_now");
}

TEST(DriverContract, ObserversThatScheduleInsteadOfCallingAreFine) {
  Simulator sim(NetworkConfig{}, 1);
  sim.add_node(std::make_unique<Probe>(Probe::Act::emit));
  sim.add_node(std::make_unique<Probe>(Probe::Act::emit));
  int calls = 0;
  sim.set_observer([&](Time now, NodeIndex, const Event&) {
    sim.at(now, [&] { sim.with_node(1, [&](Machine&, Effects&) { ++calls; }); });
  });
  sim.run_for(Duration::seconds(1));
  EXPECT_EQ(calls, 2);
}

}  // namespace
}  // namespace grapevine::sim
