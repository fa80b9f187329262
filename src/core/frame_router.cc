#include "core/frame_router.h"

#include "wire/native.h"

namespace grapevine::detail {
namespace {

FrameRouter::Part part_of(std::uint8_t type) noexcept {
  if (wire::in_family(type, wire::FrameFamily::multicast)) return FrameRouter::kMulticast;
  if (wire::in_family(type, wire::FrameFamily::views)) return FrameRouter::kViews;
  if (wire::in_family(type, wire::FrameFamily::state)) return FrameRouter::kState;
  return FrameRouter::kMembership;  // membership's own, and unknown ones (counted there)
}

}  // namespace

bool FrameRouter::route(std::span<const std::byte> datagram) {
  parts_ = {};
  // The walk: which families are there, and is the whole datagram well formed?
  std::array<std::size_t, kParts> frames{};
  std::size_t families = 0;
  {
    wire::FrameIterator it(datagram);
    wire::Frame f;
    while (it.next(f)) {
      if (frames[part_of(f.type)]++ == 0) ++families;
    }
    if (!it.ok()) return false;
  }
  if (families <= 1) {
    for (std::size_t p = 0; p < kParts; ++p) {
      if (frames[p] > 0) parts_[p] = datagram;
    }
    return true;
  }
  // Mixed: a datagram per family, each frame copied whole (type, length, body). The walk
  // above proved every frame well formed, so this one cannot fail.
  for (auto& b : buffers_) b.assign(1, std::byte{wire::kNativeVersion});
  wire::FrameIterator it(datagram);
  wire::Frame f;
  const std::byte* prev_end = datagram.data() + 1;  // after the version byte
  while (it.next(f)) {
    const std::byte* end = f.body.data() + f.body.size();
    auto& b = buffers_[part_of(f.type)];
    b.insert(b.end(), prev_end, end);
    prev_end = end;
  }
  for (std::size_t p = 0; p < kParts; ++p) {
    if (frames[p] > 0) parts_[p] = buffers_[p];
  }
  return true;
}

}  // namespace grapevine::detail
