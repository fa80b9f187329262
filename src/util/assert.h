// Assertions on invariants that stay on in release builds (TigerBeetle's habit): a broken
// invariant is a bug in grapevine, and continuing would corrupt protocol state. Never use these
// on untrusted input: malformed packets are counted and dropped, not asserted on.
#pragma once

namespace grapevine::detail {
[[noreturn]] void assert_failed(const char* expr, const char* file, int line) noexcept;
}  // namespace grapevine::detail

#define GV_ASSERT(cond)                                                          \
  do {                                                                           \
    if (!(cond)) [[unlikely]]                                                    \
      ::grapevine::detail::assert_failed(#cond, __FILE__, __LINE__);             \
  } while (0)
