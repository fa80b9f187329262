// The simulated cluster's heap on transparent huge pages.
//
// A simulated group of N full views holds N^2 member records (7.7 GiB at N = 10,000) in
// ~3N arrays of under 1 MB each, and nearly every member lookup misses the TLB as well as the
// cache: with 4 KiB pages each lookup is two page walks on top of two cache misses. glibc can
// back its heap with transparent huge pages (GLIBC_TUNABLES=glibc.malloc.hugetlb=1 measured -7%
// CPU at 10,000 nodes, -10% at 1,000), but a tunable is read at startup and a user cannot be
// asked to set it. THP here is in `madvise` mode, so a region is eligible only once madvised:
// before the cluster is built, this grows the main heap by the run's estimated size (virtual
// memory: only allocation headers are touched), marks it MADV_HUGEPAGE, and keeps glibc from
// giving it back; the member lists then fault in as 2 MiB pages. Linux and glibc only; a no-op
// (the run is the same, only slower) wherever a step is refused. Addresses never reach a
// protocol decision, so results are byte for byte the same.
#include "sim/node_cluster.h"

#if defined(__linux__) && defined(__GLIBC__)
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>
#endif

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

namespace grapevine::sim {

bool back_heap_with_huge_pages(std::size_t bytes) {
#if defined(__linux__) && defined(__GLIBC__)
  static bool done = false;  // once per process: the heap is the process's
  if (done) return true;
  constexpr std::size_t kHuge = std::size_t(2) << 20;
  constexpr std::size_t kStep = std::size_t(30) << 20;  // under the mmap threshold below
  const auto ram = std::size_t(sysconf(_SC_PHYS_PAGES)) * std::size_t(sysconf(_SC_PAGESIZE));
  bytes = std::min(bytes, ram / 2);
  // Keep arrays up to 32 MiB (glibc's largest threshold) in the heap: by default glibc mmaps
  // those over 128 KiB, each its own mapping outside the madvised range. And never trim the
  // heap (-1: off), or the first free() would hand the untouched reserve back.
  if (mallopt(M_MMAP_THRESHOLD, 32 << 20) != 1 || mallopt(M_TRIM_THRESHOLD, -1) != 1) {
    return false;
  }
  // Grow the heap by `bytes` in steps, then free them all: the reserve coalesces into the
  // heap's top, where later allocations are carved from. Only the steps' headers are touched.
  std::vector<void*> steps;
  steps.reserve(bytes / kStep + 1);
  for (std::size_t got = 0; got < bytes; got += kStep) {
    void* p = std::malloc(kStep);
    if (p == nullptr) break;
    steps.push_back(p);
  }
  if (steps.empty()) return false;
  const auto begin = (reinterpret_cast<std::uintptr_t>(steps.front()) + kHuge - 1) & ~(kHuge - 1);
  const auto end = reinterpret_cast<std::uintptr_t>(sbrk(0)) & ~(kHuge - 1);
  for (auto it = steps.rbegin(); it != steps.rend(); ++it) std::free(*it);
  const auto last = reinterpret_cast<std::uintptr_t>(steps.back());
  if (end <= begin || last < begin || last + kStep > end + kHuge) return false;  // not one heap
  done = madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE) == 0;
  return done;
#else
  (void)bytes;
  return false;
#endif
}

}  // namespace grapevine::sim
