// Native codec rates: one datagram holding a data frame with a 64-byte payload, and one holding a
// pull request with 8 ids. Encode = begin_datagram + write_*; decode = FrameIterator + decode_*.
// items/s counts datagrams, bytes/s their wire bytes.
#include <benchmark/benchmark.h>

#include <array>
#include <vector>

#include "grapevine/group.h"
#include "sim/simulator.h"
#include "wire/native.h"

namespace grapevine::wire {
namespace {

// Realistic ids: simulator origins (7-byte varints) and small sequence numbers.
MessageId id(std::uint32_t node, std::uint32_t seq) {
  return MessageId{node_id_of(sim::sim_address(node)), seq};
}

std::array<std::byte, 64> payload64() {
  std::array<std::byte, 64> p;
  for (std::size_t i = 0; i < p.size(); ++i) p[i] = std::byte(i);
  return p;
}

std::array<MessageId, 8> ids8() {
  std::array<MessageId, 8> ids;
  for (std::uint32_t i = 0; i < ids.size(); ++i) ids[i] = id(1000 + i * 7919, i + 1);
  return ids;
}

void BM_EncodeData64(benchmark::State& state) {
  const auto payload = payload64();
  std::array<std::byte, kPacketBudgetBytes> buf;
  std::uint32_t seq = 0;
  std::size_t bytes = 0;
  for (auto _ : state) {
    Writer w(buf);
    begin_datagram(w);
    bool ok = write_data(w, DataFrame{id(12345, ++seq), 3, kDataPush, payload});
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(buf.data());
    bytes += w.size();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(std::int64_t(bytes));
}

void BM_DecodeData64(benchmark::State& state) {
  const auto payload = payload64();
  std::array<std::byte, kPacketBudgetBytes> buf;
  Writer w(buf);
  begin_datagram(w);
  write_data(w, DataFrame{id(12345, 17), 3, kDataPush, payload});
  const auto datagram = w.written();
  for (auto _ : state) {
    benchmark::DoNotOptimize(datagram.data());
    FrameIterator it(datagram);
    Frame f;
    while (it.next(f)) {
      auto d = decode_data(f.body);
      benchmark::DoNotOptimize(d);
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(std::int64_t(state.iterations() * datagram.size()));
}

void BM_EncodePullRequest8(benchmark::State& state) {
  const auto ids = ids8();
  std::array<std::byte, kPacketBudgetBytes> buf;
  std::size_t bytes = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ids.data());
    Writer w(buf);
    begin_datagram(w);
    bool ok = write_pull_request(w, ids);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(buf.data());
    bytes += w.size();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(std::int64_t(bytes));
}

void BM_DecodePullRequest8(benchmark::State& state) {
  const auto ids = ids8();
  std::array<std::byte, kPacketBudgetBytes> buf;
  Writer w(buf);
  begin_datagram(w);
  write_pull_request(w, ids);
  const auto datagram = w.written();
  for (auto _ : state) {
    benchmark::DoNotOptimize(datagram.data());
    FrameIterator it(datagram);
    Frame f;
    while (it.next(f)) {
      auto d = decode_pull_request(f.body);
      benchmark::DoNotOptimize(d);
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(std::int64_t(state.iterations() * datagram.size()));
}

BENCHMARK(BM_EncodeData64);
BENCHMARK(BM_DecodeData64);
BENCHMARK(BM_EncodePullRequest8);
BENCHMARK(BM_DecodePullRequest8);

}  // namespace
}  // namespace grapevine::wire
