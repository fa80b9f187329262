// advise_huge_pages: asks for transparent huge pages over the whole 2 MiB pages inside a table.
//
// The simulators' per-node tables (slots, machine pointers) are read at random on every event;
// at 10^6 nodes a 4 KiB page is rarely in the TLB, so each event would pay a page walk besides
// its cache miss. A hint only: with THP "never", or a table under 2 MiB, nothing happens.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>

namespace grapevine::sim {

inline void advise_huge_pages(const void* p, std::size_t bytes) noexcept {
#ifdef MADV_HUGEPAGE
  constexpr std::uintptr_t kHuge = std::uintptr_t(2) << 20;
  const auto begin = (reinterpret_cast<std::uintptr_t>(p) + kHuge - 1) & ~(kHuge - 1);
  const auto end = (reinterpret_cast<std::uintptr_t>(p) + bytes) & ~(kHuge - 1);
  if (end > begin) (void)madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

}  // namespace grapevine::sim
