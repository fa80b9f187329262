// Cluster-wide keyring changes over internal queries (serf 0.9.4 keymanager.go and
// internal_query.go's _serf_install-key / use-key / remove-key / list-keys; docs/security.md).
//
// The querier sends one internal query, "_grapevine_keys", whose payload is the command byte and
// the key; every live member (the querier too) applies the command to its own seal's keyring
// and answers a KeyringAnswer: ok, or why not (use of a key it does not hold, removal of its
// primary, no keyring), and for `list` its keys. The caller counts the answers against the
// member count, as serf's KeyManager does. The payload carries the key: it travels sealed, as
// every native datagram of a keyed cluster (a keyless node refuses the commands).
#include <algorithm>

#include "core/node_keyring.h"
#include "core/node_seal.h"
#include "grapevine/node.h"

namespace grapevine {
namespace detail {

std::optional<std::vector<std::byte>> KeyringQueries::answer(std::string_view name,
                                                           std::span<const std::byte> payload) {
  if (name != kKeyringQueryName || payload.empty()) return std::nullopt;
  const auto command = std::to_integer<std::uint8_t>(payload[0]);
  const auto key = payload.subspan(1);
  KeyringAnswer a;
  switch (KeyringCommand(command)) {
    case KeyringCommand::list:
      a.ok = seal_.keyed();
      if (!a.ok) a.message = "no keyring: this member was started without a key";
      a.keys = seal_.keyring();
      break;
    case KeyringCommand::install:
    case KeyringCommand::use:
    case KeyringCommand::remove: {
      const auto op = KeyringOp(command - 1);
      auto r = seal_.change_keyring(op, key);
      a.ok = r.has_value();
      if (!r) a.message = r.error().detail;
      break;
    }
    default:
      a.message = "unknown keyring command";
  }
  return encode_keyring_answer(a);
}

}  // namespace detail

Result<QueryTicket> Node::keyring_query(Time now, KeyringCommand command,
                                        std::span<const std::byte> key,
                                        const QueryParams& params, Effects& driver_fx) {
  if (command != KeyringCommand::list && key.size() != wire::seal::kKeyBytes) {
    return make_error(Errc::invalid_argument, "native dialect keys must be 32 bytes");
  }
  std::vector<std::byte> payload;
  payload.push_back(std::byte(command));
  if (command != KeyringCommand::list) payload.insert(payload.end(), key.begin(), key.end());
  QueryParams p = params;
  if (p.timeout <= Duration::zero()) {  // a rotation wants every answer more than a quick one
    p.timeout = std::max(kKeyringQueryTimeoutMin,
                         default_query_timeout(config_.membership.gossip_interval,
                                               config_.membership.query_timeout_mult,
                                               membership_->member_count(MemberState::alive)));
  }
  return membership_->internal_query(now, detail::kKeyringQueryName, payload, p,
                                     sealed(now, driver_fx));
}

}  // namespace grapevine
