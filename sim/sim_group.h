// SimGroup: the roster of a simulation, computed rather than stored. Member i has address
// sim_address(i) and subnets are equal consecutive ranges (the remainder spread over the first
// ones), so a million-member group costs no memory and no cache misses to consult.
#pragma once

#include <algorithm>
#include <vector>

#include "grapevine/group.h"
#include "sim/simulator.h"

namespace grapevine::sim {

class SimGroup final : public Group {
 public:
  SimGroup(std::uint32_t nodes, std::uint32_t subnets)
      : n_(nodes), k_(std::max<std::uint32_t>(1, std::min(subnets, nodes))),
        base_(n_ / k_), extra_(n_ % k_) {}

  [[nodiscard]] std::uint32_t size() const noexcept override { return n_; }
  [[nodiscard]] Address address(std::uint32_t i) const noexcept override {
    return sim_address(i);
  }
  [[nodiscard]] std::optional<std::uint32_t> index_of(const Address& a) const noexcept override {
    std::uint32_t ip = a.ipv4_u32();
    if (a.family != 4 || a.port != 7946 || (ip >> 24) != 10) return std::nullopt;
    std::uint32_t i = (ip & 0xffffffu) - 1;
    if (i >= n_) return std::nullopt;
    return i;
  }
  [[nodiscard]] std::uint32_t subnet_count() const noexcept override { return k_; }
  [[nodiscard]] std::uint32_t subnet_of(std::uint32_t i) const noexcept override {
    // The first `extra_` subnets have base_+1 members.
    std::uint32_t big = extra_ * (base_ + 1);
    return i < big ? i / (base_ + 1) : extra_ + (i - big) / base_;
  }
  [[nodiscard]] std::uint32_t subnet_begin(std::uint32_t s) const noexcept override {
    return s * base_ + std::min(s, extra_);
  }
  [[nodiscard]] std::uint32_t subnet_end(std::uint32_t s) const noexcept override {
    return subnet_begin(s + 1);
  }

 private:
  std::uint32_t n_, k_, base_, extra_;
};

}  // namespace grapevine::sim
