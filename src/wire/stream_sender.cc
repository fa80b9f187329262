#include "wire/stream_sender.h"

#include "wire/native_membership.h"

namespace grapevine::wire {

Result<std::optional<std::string_view>> stream_sender_name(
    std::span<const std::byte> message) noexcept {
  auto type = stream_type(message);
  if (!type || *type != StreamType::push_pull) return std::optional<std::string_view>{};
  PushPullReader reader(message);
  if (!reader.ok()) return make_error(reader.error(), reader.error_detail());
  std::optional<std::string_view> name;
  MemberEntry m;
  while (reader.next(m)) {
    // The first entry for the sender counts; a second one with another name is refused.
    if (m.id != reader.header().sender) continue;
    if (name && *name != m.name) return make_error(Errc::rejected, "two names for the sender");
    name = m.name;
  }
  if (!reader.ok()) return make_error(reader.error(), reader.error_detail());
  if (!name) return make_error(Errc::rejected, "push-pull without its sender's entry");
  return name;
}

}  // namespace grapevine::wire
