// ViewKind names and ViewConfig validation.
#include <cstring>

#include "grapevine/view.h"
#include "wire/native_views.h"

namespace grapevine {
namespace {
constexpr const char* kViewNames[] = {"scamp", "cyclon", "tman", "hyparview"};
}  // namespace

const char* view_kind_name(ViewKind kind) noexcept {
  auto i = std::size_t(kind);
  return i < std::size(kViewNames) ? kViewNames[i] : "unknown";
}

bool parse_view_kind(const char* text, ViewKind& out) noexcept {
  for (std::size_t i = 0; i < std::size(kViewNames); ++i) {
    if (std::strcmp(text, kViewNames[i]) == 0) {
      out = ViewKind(i);
      return true;
    }
  }
  return false;
}

Result<void> validate(const ViewConfig& c) noexcept {
  constexpr std::uint32_t kMax = wire::kViewEntriesMax;
  if (c.period <= Duration::zero()) return make_error(Errc::invalid_argument, "period must be > 0");
  if (c.period_jitter < 0.0 || c.period_jitter >= 1.0) {
    return make_error(Errc::invalid_argument, "period_jitter must be in [0, 1)");
  }
  if (c.fanout > 256) return make_error(Errc::invalid_argument, "fanout must be <= 256");
  if (c.scamp_c > 64) return make_error(Errc::invalid_argument, "scamp_c must be <= 64");
  if (c.scamp_view_max < 2)
    return make_error(Errc::invalid_argument, "scamp_view_max must be >= 2");
  if (c.cyclon_view_size < 1 || c.cyclon_view_size > kMax) {
    return make_error(Errc::invalid_argument, "cyclon_view_size must be in [1, 64]");
  }
  if (c.cyclon_shuffle_length < 1 || c.cyclon_shuffle_length > c.cyclon_view_size) {
    return make_error(Errc::invalid_argument, "cyclon_shuffle_length must be in [1, view size]");
  }
  if (c.tman_view_size < 2 || c.tman_view_size > kMax) {
    return make_error(Errc::invalid_argument, "tman_view_size must be in [2, 64]");
  }
  if (c.tman_message_size < 1 || c.tman_message_size > kMax) {
    return make_error(Errc::invalid_argument, "tman_message_size must be in [1, 64]");
  }
  if (c.tman_psi < 1) return make_error(Errc::invalid_argument, "tman_psi must be >= 1");
  if (c.tman_sampling_view_size < 1 || c.tman_sampling_view_size > kMax ||
      c.tman_sampling_shuffle_length < 1 ||
      c.tman_sampling_shuffle_length > c.tman_sampling_view_size) {
    return make_error(Errc::invalid_argument, "tman sampling view/shuffle sizes out of range");
  }
  if (c.hyparview_active_size < 1 || c.hyparview_active_size > kMax ||
      c.hyparview_passive_size > kMax) {
    return make_error(Errc::invalid_argument, "hyparview view sizes must be in [1, 64]");
  }
  return {};
}

}  // namespace grapevine
