// Per-node PRNG: xoshiro256** (Blackman & Vigna), 32 bytes of state, seeded through splitmix64.
// Our own bounded integers, doubles, shuffles and distributions, because std:: distributions give
// different streams on different standard libraries and determinism is a feature here.
#pragma once

#include <cmath>
#include <cstdint>
#include <span>
#include <utility>

namespace grapevine {

/// One step of splitmix64: a good 64-bit mixer and the standard seeder for xoshiro.
constexpr std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/// A seed for stream `index` derived from `master`: splitmix64(master, index).
constexpr std::uint64_t derive_seed(std::uint64_t master, std::uint64_t index) noexcept {
  std::uint64_t s = master ^ (index * 0xD1B54A32D192ED03ULL);
  splitmix64(s);
  return splitmix64(s);
}

class Rng {
 public:
  explicit Rng(std::uint64_t seed = 0) noexcept { reseed(seed); }

  void reseed(std::uint64_t seed) noexcept {
    std::uint64_t sm = seed;
    for (auto& w : s_) w = splitmix64(sm);
  }

  std::uint64_t next() noexcept {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  /// Uniform in [0, bound). bound must be > 0. Lemire's multiply-shift with rejection: unbiased.
  std::uint64_t below(std::uint64_t bound) noexcept {
    __uint128_t m = __uint128_t(next()) * bound;
    auto low = std::uint64_t(m);
    if (low < bound) {
      const std::uint64_t threshold = (0 - bound) % bound;
      while (low < threshold) {
        m = __uint128_t(next()) * bound;
        low = std::uint64_t(m);
      }
    }
    return std::uint64_t(m >> 64);
  }

  /// Uniform in [lo, hi] (inclusive); requires lo <= hi.
  std::int64_t between(std::int64_t lo, std::int64_t hi) noexcept {
    return lo + std::int64_t(below(std::uint64_t(hi - lo) + 1));
  }

  /// Uniform double in [0, 1) with 53 random bits.
  double unit() noexcept { return double(next() >> 11) * 0x1.0p-53; }

  /// True with probability p (p <= 0: never, p >= 1: always).
  bool chance(double p) noexcept { return p > 0.0 && (p >= 1.0 || unit() < p); }

  /// Poisson(mean) by inversion of the cumulative distribution; mean up to ~700.
  std::uint32_t poisson(double mean) noexcept {
    if (mean <= 0.0) return 0;
    double u = unit();
    double p = std::exp(-mean);
    double cdf = p;
    std::uint32_t k = 0;
    while (u > cdf && k < 100000) {
      ++k;
      p *= mean / double(k);
      cdf += p;
      if (p == 0.0) break;
    }
    return k;
  }

  /// Exponential with the given mean.
  double exponential(double mean) noexcept { return -mean * std::log1p(-unit()); }

  /// Fisher-Yates shuffle.
  template <class T>
  void shuffle(std::span<T> items) noexcept {
    for (std::size_t i = items.size(); i > 1; --i) {
      std::size_t j = below(i);
      std::swap(items[i - 1], items[j]);
    }
  }

 private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept {
    return (x << k) | (x >> (64 - k));
  }
  std::uint64_t s_[4]{};
};

}  // namespace grapevine
