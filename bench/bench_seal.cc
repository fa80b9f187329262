// The native seal's cost per datagram (wire/seal.h): sealing and opening a 64-byte and a
// 1,400-byte native datagram with a cached-context keyring (what Node does), and memberlist's
// per-call AES-GCM (a fresh OpenSSL context and key schedule per message) for comparison.
#include <benchmark/benchmark.h>

#include <vector>

#include "wire/seal.h"

namespace grapevine::wire::seal {
namespace {

using Bytes = std::vector<std::byte>;

void BM_SealOpen(benchmark::State& state) {
  const Bytes key(32, std::byte(1));
  auto ring = *ml::Keyring::create(key);
  ml::GcmKeyring gcm(ring);
  NonceGenerator nonces(Bytes(kSeedBytes, std::byte(2)));
  const Bytes plain(std::size_t(state.range(0)), std::byte(3));
  Bytes wire, scratch;
  std::int64_t ts = 0;
  for (auto _ : state) {
    wire.clear();
    if (!seal(gcm, "", ++ts, plain, nonces, wire)) state.SkipWithError("seal failed");
    Opened o;
    if (open(&gcm, "", wire, scratch, o)) state.SkipWithError("open failed");
    benchmark::DoNotOptimize(o.plain.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_SealOpen)->Arg(64)->Arg(1400);

void BM_MemberlistEncryptDecrypt(benchmark::State& state) {
  const Bytes key(32, std::byte(1));
  auto ring = *ml::Keyring::create(key);
  NonceGenerator nonces(Bytes(kSeedBytes, std::byte(2)));
  const Bytes plain(std::size_t(state.range(0)), std::byte(3));
  Bytes wire, back;
  for (auto _ : state) {
    wire.clear();
    if (!ml::encrypt_payload(ml::EncryptionVersion::v1, key, plain, {}, nonces, wire)) {
      state.SkipWithError("encrypt failed");
    }
    if (!ml::decrypt_payload(ring, wire, {}, back)) state.SkipWithError("decrypt failed");
    benchmark::DoNotOptimize(back.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MemberlistEncryptDecrypt)->Arg(64)->Arg(1400);

}  // namespace
}  // namespace grapevine::wire::seal
