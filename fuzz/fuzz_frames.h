// The shape most frame fuzzers share: the input as a sequence of native frames, each body handed
// to the decoders, then the whole input handed to them as one body (a decoder must survive both
// well-framed garbage and raw garbage).
#pragma once

#include <cstddef>
#include <span>

#include "wire/native.h"

namespace grapevine::fuzz {

template <class Decode>
void decode_frame_bodies_then_whole(std::span<const std::byte> in, Decode decode) {
  wire::FrameIterator it(in);
  wire::Frame frame;
  while (it.next(frame)) decode(frame.body);
  decode(in);
}

}  // namespace grapevine::fuzz
