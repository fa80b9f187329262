// Group: the members a multicast protocol may send to, by dense index. For the foundation this is
// a static roster known to every member (the "global oracle" of the analyses); membership-backed
// groups implement the same interface from a node's live membership list.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "grapevine/address.h"

namespace grapevine {

class Group {
 public:
  virtual ~Group() = default;
  [[nodiscard]] virtual std::uint32_t size() const noexcept = 0;
  [[nodiscard]] virtual Address address(std::uint32_t index) const noexcept = 0;
  [[nodiscard]] virtual std::optional<std::uint32_t> index_of(const Address& a) const noexcept = 0;

  /// Subnets (networks behind one router; zones of a membership list). Members of subnet s hold
  /// the contiguous *positions* [subnet_begin(s), subnet_end(s)) of the subnet order, a
  /// permutation of the indices: position(index) and at_position(position) map between them.
  /// For a roster laid out by subnet (the default) a position is the index. A group without
  /// topology is one subnet.
  [[nodiscard]] virtual std::uint32_t subnet_count() const noexcept { return 1; }
  [[nodiscard]] virtual std::uint32_t subnet_of(std::uint32_t /*index*/) const noexcept {
    return 0;
  }
  [[nodiscard]] virtual std::uint32_t subnet_begin(std::uint32_t /*subnet*/) const noexcept {
    return 0;
  }
  [[nodiscard]] virtual std::uint32_t subnet_end(std::uint32_t /*subnet*/) const noexcept {
    return size();
  }
  [[nodiscard]] virtual std::uint32_t position(std::uint32_t index) const noexcept {
    return index;
  }
  [[nodiscard]] virtual std::uint32_t at_position(std::uint32_t position) const noexcept {
    return position;
  }
};

/// A fixed roster. Addresses are given in index order; `subnet_sizes` (optional) splits the
/// indices into consecutive subnets and must sum to the number of addresses.
class StaticGroup final : public Group {
 public:
  explicit StaticGroup(std::vector<Address> addresses,
                       std::vector<std::uint32_t> subnet_sizes = {});

  [[nodiscard]] std::uint32_t size() const noexcept override;
  [[nodiscard]] Address address(std::uint32_t index) const noexcept override;
  [[nodiscard]] std::optional<std::uint32_t> index_of(const Address& a) const noexcept override;
  [[nodiscard]] std::uint32_t subnet_count() const noexcept override;
  [[nodiscard]] std::uint32_t subnet_of(std::uint32_t index) const noexcept override;
  [[nodiscard]] std::uint32_t subnet_begin(std::uint32_t subnet) const noexcept override;
  [[nodiscard]] std::uint32_t subnet_end(std::uint32_t subnet) const noexcept override;

 private:
  std::vector<Address> addresses_;
  std::vector<std::uint32_t> by_address_;    // indices sorted by address, for index_of
  std::vector<std::uint32_t> subnet_start_;  // subnet s starts at subnet_start_[s]; one extra end
};

/// A 64-bit node id derived from an address: (IPv4 << 16 | port) for IPv4, a hash for IPv6.
std::uint64_t node_id_of(const Address& a) noexcept;

}  // namespace grapevine
