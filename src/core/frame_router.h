// FrameRouter: how a Node hands each component only its own frames. One walk over a native
// datagram's frames (wire/native.h) sorts them by family: membership (0x2_), multicast (0x1_),
// views (0x3_), replicated state (0x5_). A datagram of one family, which is what every component sends, is handed on as
// it is (no copy); a datagram mixing families is split into one datagram per family (the
// version byte, then that family's frames in their order), copied into buffers reused from one
// datagram to the next. Frames of no known family go with membership's, which counts them as
// unknown. A malformed datagram (bad version, truncated frame, too many frames) is not split:
// route() says so and the caller decides (a Node lets every component count it, as before).
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <vector>

namespace grapevine::detail {

class FrameRouter {
 public:
  enum Part : std::size_t { kMembership = 0, kMulticast = 1, kViews = 2, kState = 3, kParts = 4 };

  /// Walks `datagram` once. False if it is malformed (then no part is set). The parts point
  /// into `datagram` or into this router's buffers: valid until the next route().
  bool route(std::span<const std::byte> datagram);
  /// The frames of one family as a datagram of their own; empty if there were none.
  [[nodiscard]] std::span<const std::byte> part(Part p) const noexcept { return parts_[p]; }

 private:
  std::array<std::span<const std::byte>, kParts> parts_{};
  std::array<std::vector<std::byte>, kParts> buffers_;
};

}  // namespace grapevine::detail
