#include "sim/view_log.h"

#include <algorithm>
#include <cstdio>
#include <map>

namespace grapevine::sim {

void ViewLog::record(Time t, NodeIndex node, const Event& e) {
  if (e.kind != EventKind::view_changed) return;
  views_.push_back(ViewRecord{t, node, e.configuration_epoch, e.configuration_id,
                              std::uint32_t(e.members.size())});
}

std::uint32_t ViewLog::configurations() const {
  std::set<std::pair<std::uint64_t, std::uint64_t>> s;
  for (const ViewRecord& v : views_) s.emplace(v.epoch, v.id);
  return std::uint32_t(s.size());
}

namespace {
// Nodes whose installs conflict with the chain (first install seen per epoch wins).
std::set<NodeIndex> disagreeing(const std::vector<ViewRecord>& views, std::string* why) {
  std::map<std::uint64_t, std::uint64_t> chain;
  std::map<NodeIndex, std::uint64_t> last;
  std::set<NodeIndex> bad;
  char buf[160];
  for (const ViewRecord& v : views) {
    auto [it, fresh] = chain.emplace(v.epoch, v.id);
    const bool conflict = !fresh && it->second != v.id;
    auto l = last.find(v.node);
    const bool backwards = l != last.end() && v.epoch <= l->second;
    if ((conflict || backwards) && bad.insert(v.node).second && why && why->empty()) {
      if (conflict) {
        std::snprintf(buf, sizeof buf, "node %u installed id %llx at epoch %llu, others %llx",
                      v.node, (unsigned long long)v.id, (unsigned long long)v.epoch,
                      (unsigned long long)it->second);
      } else {
        std::snprintf(buf, sizeof buf, "node %u went from epoch %llu to %llu", v.node,
                      (unsigned long long)l->second, (unsigned long long)v.epoch);
      }
      *why = buf;
    }
    last[v.node] = v.epoch;
  }
  return bad;
}
}  // namespace

double ViewLog::view_agreement(std::uint32_t nodes) const {
  if (nodes == 0) return 1.0;
  return 1.0 - double(disagreeing(views_, nullptr).size()) / double(nodes);
}

std::string ViewLog::agreement_error() const {
  std::string why;
  disagreeing(views_, &why);
  return why;
}

std::set<std::uint32_t> ViewLog::distinct_sizes() const {
  std::set<std::uint32_t> s;
  for (const ViewRecord& v : views_) s.insert(v.size);
  return s;
}

std::optional<double> ViewLog::bootstrap_seconds(std::uint32_t n) const {
  // Per configuration of n members: when its n-th installer installed it.
  std::map<std::uint64_t, std::pair<std::uint32_t, Time>> by_id;
  std::optional<double> best;
  for (const ViewRecord& v : views_) {
    if (v.size != n) continue;
    auto& [count, at] = by_id[v.id];
    ++count;
    at = std::max(at, v.time);
    if (count == n && (!best || at.to_seconds() < *best)) best = at.to_seconds();
  }
  return best;
}

std::vector<double> ViewLog::install_delays(Time t, std::span<const NodeIndex> nodes) const {
  std::vector<double> out;
  for (NodeIndex n : nodes) {
    for (const ViewRecord& v : views_) {
      if (v.node == n && v.time > t) {
        out.push_back((v.time - t).to_seconds());
        break;
      }
    }
  }
  return out;
}

std::uint32_t ViewLog::configurations_after(Time t) const {
  std::set<std::uint64_t> epochs;
  for (const ViewRecord& v : views_) {
    if (v.time > t) epochs.insert(v.epoch);
  }
  return std::uint32_t(epochs.size());
}

Time ViewLog::last_install() const {
  Time t = Time::zero();
  for (const ViewRecord& v : views_) t = std::max(t, v.time);
  return t;
}

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const auto i = std::size_t(std::clamp(q, 0.0, 1.0) * double(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace grapevine::sim
