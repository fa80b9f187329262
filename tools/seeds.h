// Seeds given by name (`--join`, `--retry-join`): resolved again on every join attempt, so a DNS
// round-robin or a Kubernetes headless service works as a seed list.
//   IP:PORT / [V6]:PORT         as is
//   HOST:PORT, HOST             A/AAAA records through getaddrinfo (port default 7946)
//   _SERVICE._PROTO.DOMAIN      SRV records (libresolv res_query; ns_initparse/ns_parserr), each
//                               target resolved through getaddrinfo at the record's port
// Plus the retry schedule: exponential backoff with jitter, capped at the retry interval.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "grapevine/address.h"
#include "grapevine/time.h"

namespace grapevine::tools {

inline constexpr std::uint16_t kDefaultSeedPort = 7946;
inline constexpr std::size_t kSeedAddressesMax = 64;  // per seed name

/// The addresses `seed` stands for now (blocking DNS lookups: call off the loop thread). Empty,
/// with `error` set, when it does not resolve.
std::vector<Address> resolve_seed(const std::string& seed, std::string& error);

/// The SRV records of an answer (bytes of a DNS response): (target, port) pairs. Malformed
/// input gives what parsed before it.
std::vector<std::pair<std::string, std::uint16_t>> parse_srv_answer(const unsigned char* msg,
                                                                    int len);

/// The wait before attempt `attempt` (1 = the second): 1 s doubling, at most `cap`, each with
/// +-20% jitter drawn from `random` (any 64-bit value).
Duration retry_backoff(std::uint32_t attempt, Duration cap, std::uint64_t random);

}  // namespace grapevine::tools
