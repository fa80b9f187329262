// Fuzz target: memberlist's UDP receive pipeline (label, decrypt, CRC, compound, compress,
// every message decoder), with and without a keyring.
//
// Input: [mode][packet]. Mode bits 0-3 pick the receive config (memberlist_fuzz.h); bit 4
// seals the packet first with the same config (encrypting when there is a keyring, CRC when
// bit 5 is set, no compression), so decryption succeeds and the inner pipeline is reached.
// Properties:
//  - nothing crashes, reads out of bounds or allocates past the decompression cap (ASan);
//  - every message delivered re-encodes canonically (decode(encode(m)) == m);
//  - stats agree with the handler calls;
//  - sealing then receiving delivers exactly what the unsealed message delivers.
#include <cstddef>
#include <cstdint>

#include "memberlist_fuzz.h"
#include "wire/memberlist/crc32.h"
#include "wire/memberlist/label.h"

using namespace ml_fuzz;

namespace {

void check_stats(const DispatchStats& st, const Recorder& rec) {
  std::size_t errors = 0;
  for (const std::string& s : rec.log) errors += s.rfind("error:", 0) == 0;
  FUZZ_CHECK(st.errors == errors);
  FUZZ_CHECK(st.messages + st.errors == rec.log.size());
}

void sealed_round_trip(std::uint8_t mode, ByteSpan msg) {
  ReceiveConfig recv = receive_config(mode & 0x0b);  // verify_incoming stays on
  SendConfig send;
  send.keyring = recv.keyring;
  send.label = recv.label;
  send.compress = false;
  send.crc = (mode & 0x20) != 0;
  // Without encryption or CRC sealing adds no layer between the label and the message, so the
  // message's own leading bytes would be read as framing: nothing to compare.
  if (send.keyring == nullptr && !send.crc) return;
  CountingNonces nonces;
  send.nonces = &nonces;
  auto packet = seal_packet(msg, send);
  if (msg.empty()) {  // refused: an empty message crashes memberlist v0.2.2
    FUZZ_CHECK(!packet.has_value());
    return;
  }
  FUZZ_CHECK(packet.has_value());
  ByteSpan wire = *packet;
  // With the check skipped, the transport has stripped the header; the label stays the AAD.
  if (recv.skip_inbound_label_check) wire = wire.subspan(label_header_size(recv.label));
  Recorder sealed;
  const DispatchStats st = receive_packet(wire, recv, sealed);
  check_stats(st, sealed);
  // The reference: what the receiver does after removing the layers seal_packet added: strip
  // one CRC layer (ours, or else one the message itself may start with), then dispatch.
  Recorder direct;
  auto inner = send.crc ? Result<ByteSpan>(msg) : strip_crc(msg);
  if (!inner) {
    direct.on_error(0, inner.error());
  } else if (inner->empty()) {
    direct.on_error(0, make_error(Errc::malformed, ""));
  } else {
    dispatch_packet(*inner, direct, kFuzzDecompressedMax);
  }
  FUZZ_CHECK(sealed.log == direct.log);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t mode = data[0];
  const ByteSpan packet(reinterpret_cast<const std::byte*>(data + 1), size - 1);
  if (mode & 0x10) {
    sealed_round_trip(mode, packet);
    return 0;
  }
  Recorder rec;
  const DispatchStats st = receive_packet(packet, receive_config(mode), rec);
  check_stats(st, rec);
  return 0;
}
