// Shared pieces of the memberlist codec fuzz targets: the keyring the Go golden vectors use
// (so seeds made from them decrypt), configurations picked by a mode byte, and a PacketHandler
// that checks every delivered message re-encodes canonically and logs it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fuzz_check.h"
#include "wire/memberlist/crypto.h"
#include "wire/memberlist/messages.h"
#include "wire/memberlist/packet.h"

namespace ml_fuzz {

using namespace grapevine;
using namespace grapevine::wire::ml;
using Bytes = std::vector<std::byte>;

/// Decompression cap for fuzzing: 1 MiB keeps runs fast; the cap logic is the same.
inline constexpr std::size_t kFuzzDecompressedMax = 1 << 20;

/// Primary 32-byte key 00..1f plus 16-byte key 00..0f, as tests/interop/golden/golden_test.go.
inline const Keyring& go_keyring() {
  static const Keyring k = [] {
    Bytes k32(32), k16(16);
    for (std::size_t i = 0; i < 32; ++i) k32[i] = std::byte(i);
    for (std::size_t i = 0; i < 16; ++i) k16[i] = std::byte(i);
    const std::span<const std::byte> extra[] = {k16};
    return *Keyring::create(k32, extra);
  }();
  return k;
}

class CountingNonces final : public NonceSource {
 public:
  bool fill(std::span<std::byte> out) noexcept override {
    for (std::byte& b : out) b = std::byte(counter_++);
    return true;
  }

 private:
  std::uint8_t counter_ = 0x10;
};

/// Mode byte bits: 1 keyring, 2 label "prod", 4 verify_incoming off, 8 skip label check.
inline ReceiveConfig receive_config(std::uint8_t mode) {
  ReceiveConfig cfg;
  if (mode & 1) cfg.keyring = &go_keyring();
  if (mode & 2) cfg.label = "prod";
  cfg.verify_incoming = (mode & 4) == 0;
  cfg.skip_inbound_label_check = (mode & 8) != 0;
  cfg.decompressed_bytes_max = kFuzzDecompressedMax;
  return cfg;
}

/// decode(encode(m)) == m, checked as: encode, decode, encode again gives the same bytes.
template <class T>
std::string canonical(const T& m) {
  auto once = encode_to_vector(m);
  if (!once) {  // only over-limit fields can fail, and decoders never accept those
    FUZZ_CHECK(false);
  }
  auto start = std::span<const std::byte>(*once);
  const bool typed = !std::is_same_v<T, PushPullHeader> && !std::is_same_v<T, PushNodeState>;
  auto back = decode<T>(typed ? start.subspan(1) : start);
  FUZZ_CHECK(back.has_value());
  auto twice = encode_to_vector(*back);
  FUZZ_CHECK(twice.has_value() && *twice == *once);
  return std::string(reinterpret_cast<const char*>(once->data()), once->size());
}

/// Logs what a packet delivered, each message in canonical form.
struct Recorder : PacketHandler {
  std::vector<std::string> log;
  void on_ping(const Ping& m) override { log.push_back(canonical(m)); }
  void on_indirect_ping(const IndirectPingReq& m) override { log.push_back(canonical(m)); }
  void on_ack(const AckResp& m) override { log.push_back(canonical(m)); }
  void on_nack(const NackResp& m) override { log.push_back(canonical(m)); }
  void on_suspect(const Suspect& m) override { log.push_back(canonical(m)); }
  void on_alive(const Alive& m) override { log.push_back(canonical(m)); }
  void on_dead(const Dead& m) override { log.push_back(canonical(m)); }
  void on_user(ByteSpan b) override {
    log.push_back("user:" + std::string(reinterpret_cast<const char*>(b.data()), b.size()));
  }
  void on_error(std::uint8_t, const Error& e) override {
    log.push_back(std::string("error:") + errc_name(e.code));
  }
};

}  // namespace ml_fuzz
