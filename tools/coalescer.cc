#include "coalescer.h"

#include <algorithm>

namespace grapevine::tools {

std::optional<HandlerEvent> Coalescer::add(Time now, HandlerEvent e) {
  if (e.is_member() && period_ > Duration::zero()) {
    if (members_.empty()) member_first_ = now;
    member_last_ = now;
    for (auto& m : e.members) {
      auto [it, fresh] = members_.insert_or_assign(m.name, std::pair{e.type, m});
      if (!fresh) ++coalesced_;
    }
    return std::nullopt;
  }
  if (e.type == "user" && e.coalesce && user_period_ > Duration::zero()) {
    if (users_.empty()) user_first_ = now;
    auto it = users_.find(e.name);
    if (it == users_.end()) {
      users_.emplace(e.name, std::move(e));
    } else {
      ++coalesced_;
      if (e.ltime >= it->second.ltime) it->second = std::move(e);
    }
    return std::nullopt;
  }
  return e;
}

Time Coalescer::next_deadline() const {
  Time t = Time::max();
  if (!members_.empty()) t = std::min(member_first_ + period_, member_last_ + quiescent_);
  if (!users_.empty()) t = std::min(t, user_first_ + user_period_);
  return t;
}

std::vector<HandlerEvent> Coalescer::take_members() {
  std::map<std::string, HandlerEvent> by_type;  // sorted: deterministic order of the flush
  for (auto& [name, tm] : members_) {
    HandlerEvent& e = by_type[tm.first];
    e.type = tm.first;
    e.members.push_back(std::move(tm.second));
  }
  members_.clear();
  std::vector<HandlerEvent> out;
  for (auto& [type, e] : by_type) out.push_back(std::move(e));
  return out;
}

std::vector<HandlerEvent> Coalescer::take_users() {
  std::vector<HandlerEvent> out;
  for (auto& [name, e] : users_) out.push_back(std::move(e));
  users_.clear();
  std::sort(out.begin(), out.end(),
            [](const HandlerEvent& a, const HandlerEvent& b) { return a.ltime < b.ltime; });
  return out;
}

std::vector<HandlerEvent> Coalescer::flush(Time now) {
  std::vector<HandlerEvent> out;
  if (!members_.empty() &&
      (now >= member_first_ + period_ || now >= member_last_ + quiescent_)) {
    out = take_members();
  }
  if (!users_.empty() && now >= user_first_ + user_period_) {
    for (auto& e : take_users()) out.push_back(std::move(e));
  }
  return out;
}

std::vector<HandlerEvent> Coalescer::flush_all() {
  auto out = take_members();
  for (auto& e : take_users()) out.push_back(std::move(e));
  return out;
}

}  // namespace grapevine::tools
