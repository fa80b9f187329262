// Fuzz target: the UI server's HTTP request-head parser (tools/http_request.cc), bytes from any
// client of `grapevine agent --ui-addr` / `grapevine demo --ui`.
//
// Input: arbitrary bytes as a request head. Properties:
//  - parsing never crashes, reads out of bounds or throws;
//  - what parses has a method, a path starting with '/' and no NUL in it.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "http_server.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view head(reinterpret_cast<const char*>(data), size);
  grapevine::tools::HttpRequest req;
  if (!grapevine::tools::parse_http_request(head, req)) return 0;
  FUZZ_CHECK(!req.method.empty());
  FUZZ_CHECK(!req.path.empty() && req.path.front() == '/');
  FUZZ_CHECK(req.path.find('\0') == std::string::npos);
  return 0;
}
