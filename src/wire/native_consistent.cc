// Codec of the consistent-membership frames (family 0x40); layout in native_consistent.h.
#include "wire/native_consistent.h"

#include "wire/framing.h"
#include "wire/native.h"
#include "wire/native_membership.h"

namespace grapevine::wire {
namespace {

using framing::finish;

void write_config(Writer& b, ConfigRef c) noexcept {
  b.varint(c.epoch);
  b.u64be(c.id);
}
ConfigRef read_config(Reader& r) noexcept {
  ConfigRef c;
  c.epoch = r.varint();
  c.id = r.u64be();
  return c;
}
void write_rank(Writer& b, Rank k) noexcept {
  b.varint(k.round);
  b.u64be(k.node);
}
Rank read_rank(Reader& r) noexcept {
  Rank k;
  k.round = std::uint32_t(r.varint_max(0xffffffffu, "round over 32 bits"));
  k.node = r.u64be();
  return k;
}

bool write_addrs(Writer& b, std::span<const Address> a) noexcept {
  if (a.size() > kCutMembersMax) return false;
  b.varint(a.size());
  for (const Address& x : a) {
    if (!x.valid()) return false;
    write_address(b, x);
  }
  return true;
}
void read_addrs(Reader& r, RapidMessage& m) noexcept {
  m.count = std::uint32_t(r.varint_max(kCutMembersMax, "cut over kCutMembersMax"));
  for (std::uint32_t i = 0; i < m.count && r.ok(); ++i) m.addrs[i] = read_address(r);
}

// cut := digest total count address*count, count in {0, total}.
bool write_cut(Writer& b, const RapidMessage& m) noexcept {
  if (m.total > kCutTotalMax || (m.count != 0 && m.count != m.total)) return false;
  b.u64be(m.digest);
  b.varint(m.total);
  return write_addrs(b, m.cut());
}
void read_cut(Reader& r, RapidMessage& m) noexcept {
  m.digest = r.u64be();
  m.total = std::uint32_t(r.varint_max(kCutTotalMax, "cut over 2 * members max"));
  read_addrs(r, m);
  if (r.ok() && m.count != 0 && m.count != m.total) r.fail(Errc::malformed, "partial cut");
}

bool write_alerts(Writer& b, const RapidMessage& m) noexcept {
  if (m.alert_count > kAlertsPerFrameMax) return false;
  b.varint(m.alert_count);
  for (std::uint32_t i = 0; i < m.alert_count; ++i) {
    const Alert& a = m.alerts[i];
    if (!a.subject.valid() || a.kind > AlertKind::suspect) return false;
    write_address(b, a.subject);
    b.u8(std::uint8_t(a.kind));
    b.varint(a.rings);
  }
  return true;
}
void read_alerts(Reader& r, RapidMessage& m) noexcept {
  m.alert_count = std::uint32_t(r.varint_max(kAlertsPerFrameMax, "alerts over limit"));
  for (std::uint32_t i = 0; i < m.alert_count && r.ok(); ++i) {
    Alert& a = m.alerts[i];
    a.subject = read_address(r);
    std::uint8_t kind = r.u8();
    if (kind > std::uint8_t(AlertKind::suspect)) r.fail(Errc::malformed, "unknown alert kind");
    a.kind = AlertKind(kind);
    a.rings = std::uint16_t(r.varint_max(0xffff, "ring mask over 16 rings"));
  }
}

// profile (after its address) := version name_len name meta_len meta.
bool write_profile_tail(Writer& b, const ProfileView& p) noexcept {
  if (p.name.size() > kNameBytesMax || p.meta.size() > kMetaBytesMax) return false;
  b.varint(p.version);
  b.varint(p.name.size());
  b.bytes(std::as_bytes(std::span(p.name.data(), p.name.size())));
  b.varint(p.meta.size());
  b.bytes(p.meta);
  return true;
}
void read_profile_tail(Reader& r, ProfileView& p) noexcept {
  p.version = std::uint32_t(r.varint_max(0xffffffffu, "profile version over 32 bits"));
  const auto nl = r.varint_max(kNameBytesMax, "name over kNameBytesMax");
  auto name = r.bytes(nl);
  p.name = std::string_view(reinterpret_cast<const char*>(name.data()), name.size());
  const auto ml = r.varint_max(kMetaBytesMax, "meta over kMetaBytesMax");
  p.meta = r.bytes(ml);
}

bool write_profiles(Writer& b, const RapidMessage& m) noexcept {
  if (m.profile_count > kProfilesPerFrameMax) return false;
  b.varint(m.profile_count);
  for (const ProfileView& p : m.profile_list()) {
    if (!p.address.valid()) return false;
    write_address(b, p.address);
    if (!write_profile_tail(b, p)) return false;
  }
  return true;
}
void read_profiles(Reader& r, RapidMessage& m) noexcept {
  m.profile_count = std::uint32_t(r.varint_max(kProfilesPerFrameMax, "profiles over limit"));
  for (std::uint32_t i = 0; i < m.profile_count && r.ok(); ++i) {
    m.profiles[i].address = read_address(r);
    read_profile_tail(r, m.profiles[i]);
  }
}

bool write_body(Writer& b, const RapidMessage& m) noexcept {
  write_config(b, m.config);
  switch (m.type) {
    case RapidFrame::probe:
    case RapidFrame::probe_ack: b.varint(m.seq); return true;
    case RapidFrame::pre_join:
    case RapidFrame::join:
      if (!m.address.valid()) return false;
      write_address(b, m.address);
      return true;
    case RapidFrame::join_info: return write_addrs(b, m.cut());
    case RapidFrame::decision: return write_cut(b, m);
    case RapidFrame::alerts: return write_alerts(b, m);
    case RapidFrame::vote:
      if (m.bitmap_bytes > kBitmapBytesMax || !write_cut(b, m)) return false;
      b.varint(m.bitmap_bytes);
      b.bytes(m.bitmap_span());
      return true;
    case RapidFrame::phase1a: write_rank(b, m.rank); return true;
    case RapidFrame::phase1b:
      write_rank(b, m.rank);
      write_rank(b, m.vrank);
      return write_cut(b, m);
    case RapidFrame::phase2a: write_rank(b, m.rank); return write_cut(b, m);
    case RapidFrame::phase2b:
    case RapidFrame::cut_request:
      if (m.type == RapidFrame::phase2b) write_rank(b, m.rank);
      b.u64be(m.digest);
      return true;
    case RapidFrame::sync_request:
    case RapidFrame::leave: return true;
    case RapidFrame::profiles: return write_profiles(b, m);
  }
  return false;
}

}  // namespace

bool write_rapid(Writer& w, const RapidMessage& m) noexcept {
  if (!is_rapid_frame(std::uint8_t(m.type))) return false;
  return framing::write(w, std::uint8_t(m.type), [&](Writer& b) { return write_body(b, m); });
}

Result<void> decode_rapid(std::uint8_t type, std::span<const std::byte> body,
                          RapidMessage& m) noexcept {
  if (!is_rapid_frame(type)) return make_error(Errc::malformed, "not a consistent frame");
  Reader r(body);
  m.type = RapidFrame(type);
  m.config = read_config(r);
  m.count = m.total = m.alert_count = m.bitmap_bytes = m.profile_count = 0;
  m.digest = 0;
  switch (m.type) {
    case RapidFrame::probe:
    case RapidFrame::probe_ack:
      m.seq = std::uint32_t(r.varint_max(0xffffffffu, "seq over 32 bits"));
      break;
    case RapidFrame::pre_join:
    case RapidFrame::join: m.address = read_address(r); break;
    case RapidFrame::join_info: read_addrs(r, m); break;
    case RapidFrame::decision: read_cut(r, m); break;
    case RapidFrame::alerts: read_alerts(r, m); break;
    case RapidFrame::vote: {
      read_cut(r, m);
      m.bitmap_bytes = std::uint32_t(r.varint_max(kBitmapBytesMax, "bitmap over limit"));
      auto bits = r.bytes(m.bitmap_bytes);
      if (r.ok()) std::copy(bits.begin(), bits.end(), m.bitmap);
      break;
    }
    case RapidFrame::phase1a: m.rank = read_rank(r); break;
    case RapidFrame::phase1b:
      m.rank = read_rank(r);
      m.vrank = read_rank(r);
      read_cut(r, m);
      break;
    case RapidFrame::phase2a:
      m.rank = read_rank(r);
      read_cut(r, m);
      break;
    case RapidFrame::phase2b:
      m.rank = read_rank(r);
      m.digest = r.u64be();
      break;
    case RapidFrame::cut_request: m.digest = r.u64be(); break;
    case RapidFrame::sync_request:
    case RapidFrame::leave: break;
    case RapidFrame::profiles:
      // What is accepted must re-encode into one frame of a datagram (kPacketBudgetBytesMax).
      if (body.size() > kPacketBudgetBytesMax - 8) r.fail(Errc::too_large, "profiles over budget");
      read_profiles(r, m);
      break;
  }
  return finish(r);
}

namespace {

// Both stream messages: length version type epoch id [digest] count address* [profiles].
std::vector<std::byte> encode_list(std::uint8_t type, ConfigRef config, const std::uint64_t* digest,
                                   std::span<const Address> members, std::size_t max,
                                   std::span<const ProfileView> profiles = {}) {
  if (members.size() > max) return {};
  if (!profiles.empty() && profiles.size() != members.size()) return {};
  std::size_t size = 40 + members.size() * 20;
  for (const ProfileView& p : profiles) size += kProfileBytesMax - kNameBytesMax - kMetaBytesMax + p.name.size() + p.meta.size();
  std::vector<std::byte> out(size);
  Writer w(out);
  w.u32be(0);  // length, patched below
  w.u8(kNativeVersion);
  w.u8(type);
  w.varint(config.epoch);
  w.u64be(config.id);
  if (digest != nullptr) w.u64be(*digest);
  w.varint(members.size());
  for (const Address& a : members) {
    if (!a.valid()) return {};
    write_address(w, a);
  }
  if (!profiles.empty()) {
    w.varint(profiles.size());
    for (const ProfileView& p : profiles) {
      if (!write_profile_tail(w, p)) return {};
    }
  }
  if (!w.ok()) return {};
  const std::size_t n = w.size();
  out.resize(n);
  const std::uint32_t len = std::uint32_t(n - 4);
  for (int i = 0; i < 4; ++i) out[i] = std::byte((len >> (24 - 8 * i)) & 0xff);
  return out;
}

Result<void> decode_list(std::uint8_t type, std::span<const std::byte> message, ConfigRef& config,
                         std::uint64_t* digest, std::vector<Address>& members, std::size_t max,
                         std::size_t bytes_max, std::vector<Profile>* profiles = nullptr) {
  if (message.size() > bytes_max) return make_error(Errc::too_large, "stream over its limit");
  Reader r(message);
  const std::uint32_t len = r.u32be();
  if (r.ok() && len != message.size() - 4) r.fail(Errc::malformed, "length mismatch");
  if (r.u8() != kNativeVersion) r.fail(Errc::malformed, "unknown version");
  if (r.u8() != type) r.fail(Errc::malformed, "other stream type");
  config = read_config(r);
  if (digest != nullptr) *digest = r.u64be();
  const auto n = r.varint_max(max, "members over limit");
  members.clear();
  for (std::uint64_t i = 0; i < n && r.ok(); ++i) members.push_back(read_address(r));
  if (profiles != nullptr) profiles->clear();
  if (profiles != nullptr && r.ok() && r.remaining() > 0) {
    if (r.varint_max(max, "profiles over limit") != n) r.fail(Errc::malformed, "profile count");
    for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
      ProfileView v;
      read_profile_tail(r, v);
      if (!r.ok()) break;
      profiles->push_back(Profile{v.version, std::string(v.name),
                                  std::vector<std::byte>(v.meta.begin(), v.meta.end())});
    }
  }
  return finish(r);
}

}  // namespace

std::vector<std::byte> encode_config_state(ConfigRef config, std::span<const Address> members,
                                           std::span<const ProfileView> profiles) {
  return encode_list(kConfigStateStreamType, config, nullptr, members, kConsistentMembersMax,
                     profiles);
}

Result<void> decode_config_state(std::span<const std::byte> message, ConfigRef& config,
                                 std::vector<Address>& members, std::vector<Profile>* profiles) {
  std::vector<Profile> ignored;
  return decode_list(kConfigStateStreamType, message, config, nullptr, members,
                     kConsistentMembersMax, kConfigStateBytesMax,
                     profiles != nullptr ? profiles : &ignored);
}

std::vector<std::byte> encode_cut_state(ConfigRef config, std::uint64_t digest,
                                        std::span<const Address> cut) {
  return encode_list(kCutStateStreamType, config, &digest, cut, kCutTotalMax);
}

Result<void> decode_cut_state(std::span<const std::byte> message, ConfigRef& config,
                              std::uint64_t& digest, std::vector<Address>& cut) {
  return decode_list(kCutStateStreamType, message, config, &digest, cut, kCutTotalMax,
                     kCutStateBytesMax);
}

std::uint8_t consistent_stream_type(std::span<const std::byte> message) noexcept {
  return message.size() >= 6 ? std::to_integer<std::uint8_t>(message[5]) : 0;
}

}  // namespace grapevine::wire
