#include "core/multicast/centralized.h"

#include "core/multicast/sender.h"
#include "wire/native.h"

namespace grapevine::detail {

CentralizedMulticast::CentralizedMulticast(const MulticastConfig& config, const Group& group,
                                           std::uint32_t self_index)
    : config_(config),
      group_(group),
      self_(self_index),
      node_id_(node_id_of(group.address(self_index))) {}

Result<MessageId> CentralizedMulticast::multicast(Time /*now*/,
                                                  std::span<const std::byte> payload,
                                                  Effects& fx) {
  if (payload.size() > wire::kMulticastPayloadBytesMax) {
    return make_error(Errc::too_large, "payload over kMulticastPayloadBytesMax");
  }
  if (group_.size() < 2) return make_error(Errc::not_ready, "group has no other member");
  MessageId id{node_id_, next_seq_++};
  StoredMessage& m = store_.add(id, payload, 0, 0, Spread::removed);
  emit_delivered(fx, stats_, m);
  StoredMessage* one[] = {&m};
  for (std::uint32_t i = 0; i < group_.size(); ++i) {
    if (i == self_) continue;
    send_data(fx, stats_, group_.address(i), one, wire::kDataPush, config_.packet_budget_bytes);
  }
  return id;
}

void CentralizedMulticast::on_datagram(Time /*now*/, const Address& /*from*/,
                                       std::span<const std::byte> bytes, Effects& fx) {
  ++stats_.datagrams_received;
  wire::FrameIterator frames(bytes);
  wire::Frame frame;
  while (frames.next(frame)) {
    if (wire::FrameType(frame.type) != wire::FrameType::data) {
      if (!wire::other_component(frame.type, wire::FrameFamily::multicast)) ++stats_.unknown_frames;
      continue;
    }
    auto f = wire::decode_data(frame.body);
    if (!f) {
      ++stats_.malformed_received;
      return;
    }
    ++stats_.data_received;
    if (store_.find(f->id) != nullptr) {
      ++stats_.duplicates_received;
      continue;
    }
    emit_delivered(fx, stats_, store_.add(f->id, f->payload, f->hops + 1, 0, Spread::removed));
  }
  if (!frames.ok()) ++stats_.malformed_received;
}

}  // namespace grapevine::detail
