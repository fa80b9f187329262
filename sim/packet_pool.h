// PacketPool: storage for in-flight packet bytes, addressed by a 32-bit handle. Size classes of
// 64 B .. 16 MiB (datagrams up to 64 KiB, stream messages beyond); each class is a list of
// blocks of equal slots (2 MiB blocks, or one slot per block for slots above 2 MiB) with a free
// list, so a million packets in flight cost a few large allocations rather than a million small
// ones, and stored bytes never move (a span from get() stays valid until release()).
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <vector>

#include "util/assert.h"

namespace grapevine::sim {

class PacketPool {
 public:
  static constexpr std::size_t kClasses = 19;  // slots of 64 << 0 .. 64 << 18 = 16 MiB
  static constexpr std::size_t kPacketBytesMax = std::size_t(16) << 20;

  std::uint32_t store(std::span<const std::byte> bytes) {
    GV_ASSERT(bytes.size() <= kPacketBytesMax);
    std::uint32_t c = 0;
    while ((std::size_t(64) << c) < bytes.size()) ++c;
    Class& k = classes_[c];
    std::uint32_t slot;
    if (!k.free.empty()) {
      slot = k.free.back();
      k.free.pop_back();
    } else {
      slot = std::uint32_t(k.lengths.size());
      GV_ASSERT(slot <= kSlotMask);
      k.lengths.push_back(0);
      if (slot % slots_per_block(c) == 0) k.blocks.push_back(new_block(c, k.blocks.size()));
    }
    k.lengths[slot] = std::uint32_t(bytes.size());
    if (!bytes.empty()) std::memcpy(slot_ptr(c, slot), bytes.data(), bytes.size());
    ++live_;
    return c << 27 | slot;
  }

  [[nodiscard]] std::span<const std::byte> get(std::uint32_t handle) const {
    std::uint32_t c = handle >> 27;
    std::uint32_t slot = handle & kSlotMask;
    return {slot_ptr(c, slot), classes_[c].lengths[slot]};
  }

  /// Prefetch hint: the packet's bytes will be read soon.
  void prefetch(std::uint32_t handle) const noexcept {
    __builtin_prefetch(slot_ptr(handle >> 27, handle & kSlotMask));
  }

  void release(std::uint32_t handle) {
    classes_[handle >> 27].free.push_back(handle & kSlotMask);
    --live_;
  }

  [[nodiscard]] std::size_t live() const noexcept { return live_; }

 private:
  static constexpr std::uint32_t kSlotMask = (1u << 27) - 1;
  // One huge page: a block is 2 MiB-aligned, and from the fifth block of a class on (a large
  // run: a million packets in flight, read back at random) advised onto transparent huge pages,
  // so a packet's bytes do not cost a TLB miss as well as a cache miss. Small runs keep 4 KiB
  // pages (a huge page is zeroed whole on first touch).
  static constexpr std::size_t kBlockBytes = std::size_t(2) << 20;
  static constexpr std::size_t kSmallPoolBlocks = 4;
  struct FreeBlock {
    void operator()(std::byte* p) const noexcept { std::free(p); }
  };
  using Block = std::unique_ptr<std::byte[], FreeBlock>;
  static Block new_block(std::uint32_t c, std::size_t blocks_before) {
    const std::size_t bytes = block_bytes(c);  // a multiple of kBlockBytes
    auto* p = static_cast<std::byte*>(std::aligned_alloc(kBlockBytes, bytes));
    if (p == nullptr) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
    if (blocks_before >= kSmallPoolBlocks) (void)madvise(p, bytes, MADV_HUGEPAGE);
#else
    (void)blocks_before;
#endif
    return Block(p);
  }
  static constexpr std::size_t slot_bytes(std::uint32_t c) noexcept {
    return std::size_t(64) << c;
  }
  static constexpr std::size_t block_bytes(std::uint32_t c) noexcept {
    return slot_bytes(c) > kBlockBytes ? slot_bytes(c) : kBlockBytes;
  }
  static constexpr std::size_t slots_per_block(std::uint32_t c) noexcept {
    return block_bytes(c) / slot_bytes(c);
  }
  [[nodiscard]] std::byte* slot_ptr(std::uint32_t c, std::uint32_t slot) const {
    const Class& k = classes_[c];
    std::size_t per = slots_per_block(c);
    return k.blocks[slot / per].get() + (std::size_t(slot % per) << (6 + c));
  }

  struct Class {
    std::vector<Block> blocks;
    std::vector<std::uint32_t> lengths;
    std::vector<std::uint32_t> free;
  };
  Class classes_[kClasses];
  std::size_t live_ = 0;
};

}  // namespace grapevine::sim
