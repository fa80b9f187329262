#include "seeds.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

namespace grapevine::tools {
namespace {

void add_host(const std::string& host, std::uint16_t port, std::vector<Address>& out,
              std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* res = nullptr;
  const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0) {
    error = host + ": " + gai_strerror(rc);
    return;
  }
  for (addrinfo* p = res; p != nullptr && out.size() < kSeedAddressesMax; p = p->ai_next) {
    char ip[INET6_ADDRSTRLEN] = "";
    if (p->ai_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(p->ai_addr)->sin_addr, ip, sizeof ip);
    } else if (p->ai_family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(p->ai_addr)->sin6_addr, ip, sizeof ip);
    }
    const std::string text = p->ai_family == AF_INET6
                                 ? "[" + std::string(ip) + "]:" + std::to_string(port)
                                 : std::string(ip) + ":" + std::to_string(port);
    auto a = Address::parse(text);
    if (a && std::find(out.begin(), out.end(), *a) == out.end()) out.push_back(*a);
  }
  freeaddrinfo(res);
}

}  // namespace

std::vector<std::pair<std::string, std::uint16_t>> parse_srv_answer(const unsigned char* msg,
                                                                    int len) {
  std::vector<std::pair<std::string, std::uint16_t>> out;
  ns_msg handle;
  if (ns_initparse(msg, len, &handle) != 0) return out;
  const int count = ns_msg_count(handle, ns_s_an);
  for (int i = 0; i < count && out.size() < kSeedAddressesMax; ++i) {
    ns_rr rr;
    if (ns_parserr(&handle, ns_s_an, i, &rr) != 0) break;
    if (ns_rr_type(rr) != ns_t_srv || ns_rr_rdlen(rr) < 7) continue;
    const unsigned char* rd = ns_rr_rdata(rr);  // priority(2) weight(2) port(2) target
    const std::uint16_t port = std::uint16_t((rd[4] << 8) | rd[5]);
    char target[NS_MAXDNAME];
    if (ns_name_uncompress(ns_msg_base(handle), ns_msg_end(handle), rd + 6, target,
                           sizeof target) < 0) {
      continue;
    }
    out.emplace_back(target, port);
  }
  return out;
}

std::vector<Address> resolve_seed(const std::string& seed, std::string& error) {
  std::vector<Address> out;
  if (auto a = Address::parse(seed)) return {*a};
  if (!seed.empty() && seed[0] == '_') {  // SRV
    unsigned char answer[4096];
    const int len = res_query(seed.c_str(), ns_c_in, ns_t_srv, answer, sizeof answer);
    if (len < 0) {
      error = seed + ": no SRV records (" + hstrerror(h_errno) + ")";
      return out;
    }
    for (const auto& [target, port] : parse_srv_answer(answer, len)) add_host(target, port, out, error);
    if (!out.empty()) error.clear();
    return out;
  }
  std::string host = seed;
  std::uint16_t port = kDefaultSeedPort;
  const auto colon = seed.rfind(':');
  if (colon != std::string::npos && seed.find(':') == colon) {  // HOST:PORT (not a bare IPv6)
    host = seed.substr(0, colon);
    const std::string p = seed.substr(colon + 1);
    char* end = nullptr;
    const unsigned long v = std::strtoul(p.c_str(), &end, 10);
    if (p.empty() || *end != '\0' || v == 0 || v > 65535) {
      error = seed + ": bad port";
      return out;
    }
    port = std::uint16_t(v);
  }
  add_host(host, port, out, error);
  return out;
}

Duration retry_backoff(std::uint32_t attempt, Duration cap, std::uint64_t random) {
  Duration d = Duration::seconds(1);
  for (std::uint32_t i = 1; i < attempt && d < cap; ++i) d = d * 2;
  d = std::min(d, cap);
  // +-20%: random in [0, 2^16) scaled to [-0.2, 0.2] of d.
  const std::int64_t span = d.ns() / 5;
  const std::int64_t r = std::int64_t(random & 0xffff);
  return Duration::nanoseconds(d.ns() - span + (2 * span * r) / 0xffff);
}

}  // namespace grapevine::tools
