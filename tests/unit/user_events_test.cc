// Serf-style user events: the native frame (round trip, limits, malformed input) and the
// Lamport-clocked recent-event log (UserEventLog: stamping, witnessing, de-duplication, age).
#include <gtest/gtest.h>

#include <array>
#include <string>

#include "core/membership/user_events.h"
#include "wire/native.h"
#include "wire/native_membership.h"

namespace grapevine {
namespace {

using detail::UserEventLog;

std::span<const std::byte> bytes_of(std::string_view s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

TEST(UserEventFrame, RoundTrip) {
  std::array<std::byte, 1400> buf;
  wire::Writer w(buf);
  w.u8(wire::kNativeVersion);
  const wire::UserEventFrame f{300, true, "deploy", bytes_of("v1.2.3")};
  ASSERT_TRUE(wire::write_user_event(w, f));
  wire::FrameIterator frames(w.written());
  wire::Frame frame;
  ASSERT_TRUE(frames.next(frame));
  EXPECT_EQ(frame.type, std::uint8_t(wire::MemberFrame::user_event));
  auto d = wire::decode_user_event(frame.body);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->ltime, 300u);
  EXPECT_TRUE(d->coalesce);
  EXPECT_EQ(d->name, "deploy");
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(d->payload.data()), d->payload.size()),
            "v1.2.3");
}

TEST(UserEventFrame, SizeLimitAndMalformed) {
  std::array<std::byte, 1400> buf;
  wire::Writer w(buf);
  const std::string big(wire::kUserEventBytesMax - 3, 'p');
  EXPECT_TRUE(wire::write_user_event(w, {1, false, "abc", bytes_of(big)}));
  EXPECT_FALSE(wire::write_user_event(w, {1, false, "abcd", bytes_of(big)}));
  // body: ltime 1, flags 2 (unknown)
  const std::array<std::byte, 4> bad_flags{std::byte{1}, std::byte{2}, std::byte{0}, std::byte{0}};
  EXPECT_FALSE(wire::decode_user_event(bad_flags).has_value());
  // name of 300 bytes then a payload of 300: over the shared limit
  std::vector<std::byte> body{std::byte{1}, std::byte{0}, std::byte{0xac}, std::byte{0x02}};
  body.resize(body.size() + 300, std::byte{'n'});
  body.push_back(std::byte{0xac});
  body.push_back(std::byte{0x02});
  body.resize(body.size() + 300, std::byte{'p'});
  auto r = wire::decode_user_event(body);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::too_large);
  const std::array<std::byte, 3> truncated{std::byte{1}, std::byte{0}, std::byte{5}};
  EXPECT_FALSE(wire::decode_user_event(truncated).has_value());
}

TEST(UserEventLog, StampsFromOneAndWitnesses) {
  UserEventLog log;
  EXPECT_EQ(log.stamp(), 1u);
  EXPECT_EQ(log.stamp(), 2u);
  EXPECT_EQ(log.record(10, "x", {}), UserEventLog::Verdict::fresh);
  EXPECT_EQ(log.clock(), 11u);
  EXPECT_EQ(log.stamp(), 11u);
  EXPECT_EQ(log.record(5, "y", {}), UserEventLog::Verdict::fresh);  // older but in the window
  EXPECT_EQ(log.clock(), 12u);
}

TEST(UserEventLog, DuplicatesAndSameTimeEvents) {
  UserEventLog log;
  EXPECT_EQ(log.record(7, "deploy", bytes_of("a")), UserEventLog::Verdict::fresh);
  EXPECT_EQ(log.record(7, "deploy", bytes_of("a")), UserEventLog::Verdict::duplicate);
  EXPECT_EQ(log.record(7, "deploy", bytes_of("b")), UserEventLog::Verdict::fresh);
  EXPECT_EQ(log.record(7, "other", bytes_of("a")), UserEventLog::Verdict::fresh);
  EXPECT_EQ(log.record(8, "deploy", bytes_of("a")), UserEventLog::Verdict::fresh);
  // the slot of 7 + 512 reuses 7's: a new time there forgets 7's events
  EXPECT_EQ(log.record(7 + 512, "deploy", bytes_of("a")), UserEventLog::Verdict::fresh);
  EXPECT_EQ(log.record(7, "deploy", bytes_of("a")), UserEventLog::Verdict::too_old);
}

TEST(UserEventLog, TooOldAndSlotBound) {
  UserEventLog log;
  EXPECT_EQ(log.record(2000, "x", {}), UserEventLog::Verdict::fresh);
  EXPECT_EQ(log.record(2001 - 512, "x", {}), UserEventLog::Verdict::fresh);  // clock - 512
  EXPECT_EQ(log.record(2000 - 512, "x", {}), UserEventLog::Verdict::too_old);
  for (std::size_t i = 1; i < UserEventLog::kEventsPerSlotMax; ++i) {
    const std::string p = std::to_string(i);
    ASSERT_EQ(log.record(2000, "x", bytes_of(p)), UserEventLog::Verdict::fresh);
  }
  EXPECT_EQ(log.record(2000, "x", bytes_of("one more")), UserEventLog::Verdict::full);
}

}  // namespace
}  // namespace grapevine
