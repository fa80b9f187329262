// Multi-process cut detection; the rules are in cut_detector.h.
#include "core/consistent/cut_detector.h"

#include <algorithm>
#include <bit>

namespace grapevine::detail {

void CutDetector::reset() {
  by_subject_.clear();
  saw_remove_ = false;
  first_stable_ = Time::max();
}

bool CutDetector::stable(const Entry& e) const noexcept {
  return std::uint32_t(std::popcount(e.rings)) >= t_.high;
}

bool CutDetector::unstable(const Entry& e) const noexcept {
  const auto n = std::uint32_t(std::popcount(e.rings));
  return n >= t_.low && n < t_.high;
}

bool CutDetector::pending(const Entry& e, Time now) const noexcept {
  // At most 2 pending_windows after the first stable subject: a trickle of stray reports
  // (members under heavy loss accusing their healthy subjects) must not hold a cut back.
  return !e.join && t_.pending_window > Duration::zero() && e.rings != 0 &&
         std::uint32_t(std::popcount(e.rings)) < t_.low && now < e.first + t_.pending_window &&
         (first_stable_ == Time::max() || now < first_stable_ + t_.pending_window * 2);
}

bool CutDetector::add(const Configuration& config, const wire::Alert& alert, Time now) {
  Entry& e = by_subject_[alert.subject];
  if (e.first == Time::max()) e.first = now;
  const std::uint16_t before = e.rings;
  e.rings = std::uint16_t(e.rings | alert.rings);
  e.join = alert.kind == wire::AlertKind::join;
  if (alert.kind == wire::AlertKind::leave) e.left = true;
  if (alert.kind != wire::AlertKind::join) saw_remove_ = true;
  if (unstable(e) && e.unstable_since == Time::max()) e.unstable_since = now;
  if (stable(e) && first_stable_ == Time::max()) first_stable_ = now;
  (void)config;
  return e.rings != before;
}

void CutDetector::apply_implicit(const Configuration& config, Time now) {
  if (!saw_remove_) return;
  for (auto& [subject, e] : by_subject_) {
    if (!unstable(e)) continue;
    auto s = config.index_of(subject);
    for (std::uint32_t k = 0; k < config.rings(); ++k) {
      if (e.rings & (1u << k)) continue;
      const std::uint32_t o = s ? config.observer_of(*s, k) : config.gatekeeper_of(subject, k);
      if (tally(config.member(o)) >= t_.low) e.rings = std::uint16_t(e.rings | (1u << k));
    }
    if (stable(e) && first_stable_ == Time::max()) first_stable_ = now;
  }
}

std::uint32_t CutDetector::tally(const Address& subject) const noexcept {
  auto it = by_subject_.find(subject);
  return it == by_subject_.end() ? 0 : std::uint32_t(std::popcount(it->second.rings));
}

bool CutDetector::left(const Address& subject) const noexcept {
  auto it = by_subject_.find(subject);
  return it != by_subject_.end() && it->second.left;
}

std::vector<Address> CutDetector::proposal(Time now) const {
  std::vector<Address> cut;
  if (first_stable_ == Time::max()) return cut;
  for (const auto& [subject, e] : by_subject_) {
    if (stable(e)) {
      cut.push_back(subject);
    } else if (pending(e, now)) {
      return {};
    } else if (unstable(e)) {
      // Blocks until dropped: unstable for unstable_timeout, counted from when it became
      // unstable or when the first subject became stable, whichever is later.
      const Time since = std::max(e.unstable_since, first_stable_);
      if (now < since + t_.unstable_timeout) return {};
    }
  }
  canonical_cut(cut);
  if (cut.size() > wire::kCutTotalMax) cut.resize(wire::kCutTotalMax);
  return cut;
}

Time CutDetector::next_change(Time now) const noexcept {
  if (first_stable_ == Time::max()) return Time::max();
  Time t = Time::max();
  for (const auto& [subject, e] : by_subject_) {
    if (pending(e, now)) t = std::min(t, e.first + t_.pending_window);
    if (!unstable(e)) continue;
    const Time drop = std::max(e.unstable_since, first_stable_) + t_.unstable_timeout;
    if (drop > now) t = std::min(t, drop);
  }
  return t;
}

}  // namespace grapevine::detail
