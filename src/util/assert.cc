#include "util/assert.h"

#include <cstdio>
#include <cstdlib>

namespace grapevine::detail {

void assert_failed(const char* expr, const char* file, int line) noexcept {
  std::fprintf(stderr, "grapevine: invariant broken: %s at %s:%d\n", expr, file, line);
  std::abort();
}

}  // namespace grapevine::detail
