// KeyringQueries: a Node's answerer of the internal keyring query (node_keyring.cc).
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "grapevine/query.h"

namespace grapevine::detail {

class NodeSeal;

inline constexpr std::string_view kKeyringQueryName = "_grapevine_keys";

class KeyringQueries final : public InternalQueryHandler {
 public:
  explicit KeyringQueries(NodeSeal& seal) : seal_(seal) {}
  std::optional<std::vector<std::byte>> answer(std::string_view name,
                                               std::span<const std::byte> payload) override;

 private:
  NodeSeal& seal_;
};

}  // namespace grapevine::detail
