// LZW as Go's compress/lzw (LSB, width 8): streams made by Go decode to their inputs and our
// compressor reproduces them bit for bit; round trips; the decompression cap; broken streams.
#include <gtest/gtest.h>

#include <random>

#include "memberlist_test_util.h"
#include "wire/memberlist/compress.h"
#include "wire/memberlist/lzw.h"

namespace grapevine::wire::ml {
namespace {

using test::Bytes;
using test::golden;
using test::to_hex;

// The inputs golden_test.go compressed (math/rand with seed 42 is not reproducible here, so the
// "random" input is checked through its Go stream only: decode then re-encode).
Bytes go_input(const std::string& name) {
  if (name == "empty") return {};
  if (name == "one") return test::bytes_of("a");
  if (name == "text") return test::bytes_of("TOBEORNOTTOBEORTOBEORNOT#");
  if (name == "zeros") return Bytes(100000);
  Bytes rep;
  for (int i = 0; i < 3000; ++i) {
    const Bytes part = test::bytes_of("memberlist gossip ");
    rep.insert(rep.end(), part.begin(), part.end());
  }
  return rep;
}

TEST(MemberlistLzw, GoStreamsDecodeAndOurCompressorMatchesThem) {
  for (const std::string name : {"empty", "one", "text", "repetitive", "zeros", "random"}) {
    SCOPED_TRACE(name);
    const Bytes go = golden("lzw_" + name);
    Bytes plain;
    ASSERT_TRUE(lzw_decompress(go, plain).has_value());
    if (name == "random") {
      EXPECT_EQ(plain.size(), 20000u);
    } else {
      EXPECT_EQ(to_hex(plain), to_hex(go_input(name)));
    }
    EXPECT_EQ(to_hex(lzw_compress(plain)), to_hex(go)) << "compressor differs from Go's";
  }
}

TEST(MemberlistLzw, CompressMessageMatchesGo) {
  EXPECT_EQ(to_hex(compress_message(go_input("text"))), to_hex(golden("compress_msg_text")));
  EXPECT_EQ(to_hex(compress_message({})), to_hex(golden("compress_msg_empty")));
  Bytes inner;
  const Bytes go = golden("compress_msg_text");
  ASSERT_TRUE(decompress_message(ByteSpan(go).subspan(1), inner).has_value());
  EXPECT_EQ(to_hex(inner), to_hex(go_input("text")));
  // An empty result would make memberlist v0.2.2 index past the end: malformed.
  const Bytes empty = golden("compress_msg_empty");
  EXPECT_EQ(decompress_message(ByteSpan(empty).subspan(1), inner).error().code, Errc::malformed);
}

TEST(MemberlistLzw, RoundTrips) {
  std::mt19937 rng(7);  // test data only; protocol code never uses std:: engines
  for (std::size_t n : {1u, 2u, 255u, 4096u, 5000u, 70000u, 300000u}) {
    Bytes random(n), repetitive(n), runs(n);
    for (std::size_t i = 0; i < n; ++i) {
      random[i] = std::byte(rng());
      repetitive[i] = std::byte("abcabcabd"[i % 9]);
      runs[i] = std::byte((i / 1000) & 1);
    }
    for (const Bytes* in : {&random, &repetitive, &runs}) {
      const Bytes c = lzw_compress(*in);
      Bytes back;
      ASSERT_TRUE(lzw_decompress(c, back).has_value()) << n;
      ASSERT_EQ(back.size(), in->size());
      EXPECT_TRUE(back == *in) << n;
    }
    if (n >= 4096) {
      EXPECT_LT(lzw_compress(repetitive).size(), n / 10);
    }
  }
}

TEST(MemberlistLzw, DecompressionCap) {
  const Bytes zeros(1 << 20);
  const Bytes c = lzw_compress(zeros);
  Bytes out;
  EXPECT_TRUE(lzw_decompress(c, out, zeros.size()).has_value());
  auto r = lzw_decompress(c, out, zeros.size() - 1);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::too_large);
  EXPECT_LE(out.size(), zeros.size() - 1);
  EXPECT_EQ(kDecompressedBytesMax, 40u * 1024 * 1024);
  Bytes msg_out;
  const Bytes msg = compress_message(zeros);
  EXPECT_EQ(decompress_message(ByteSpan(msg).subspan(1), msg_out, 1000).error().code,
            Errc::too_large);
}

TEST(MemberlistLzw, BrokenStreams) {
  const Bytes good = lzw_compress(go_input("repetitive"));
  Bytes out;
  // Every strict prefix lacks the EOF code.
  for (std::size_t n = 0; n + 1 < good.size(); n += 97) {
    auto r = lzw_decompress(ByteSpan(good).first(n), out);
    ASSERT_FALSE(r.has_value()) << n;
    EXPECT_EQ(r.error().code, Errc::truncated);
  }
  // Code 300 right after the clear code: not in the dictionary yet (LSB: 0x100 then 0x12c).
  const Bytes bad = {std::byte{0x00}, std::byte{0x59}, std::byte{0x02}, std::byte{0x00}};
  EXPECT_EQ(lzw_decompress(bad, out).error().code, Errc::malformed);
  // Bytes after EOF are ignored, as Go ignores them.
  Bytes trailing = good;
  trailing.push_back(std::byte{0xff});
  EXPECT_TRUE(lzw_decompress(trailing, out).has_value());
  // Unknown algorithm.
  const Bytes algo1 = test::from_hex("82a4416c676f01a3427566c0");
  EXPECT_EQ(decompress_message(algo1, out).error().code, Errc::unsupported_version);
}

}  // namespace
}  // namespace grapevine::wire::ml
