// Serf-style queries in the membership machine (algorithm and deviations: queries.h).
#include "core/membership/queries.h"

#include <algorithm>
#include <array>

#include "core/membership/membership_node.h"
#include "grapevine/tags.h"
#include "util/tag_regex.h"

namespace grapevine::detail {

QueryTable::Pending* QueryTable::find_pending(std::uint64_t ltime, std::uint32_t id) noexcept {
  for (auto& p : pending) {
    if (p.ltime == ltime && p.id == id) return &p;
  }
  return nullptr;
}

QueryTable::Received* QueryTable::find_received(std::uint64_t ltime, std::uint32_t id) noexcept {
  for (auto& r : received) {
    if (r.ltime == ltime && r.id == id) return &r;
  }
  return nullptr;
}

void QueryTable::remember(const Received& r) {
  if (received.size() >= kQueriesReceivedMax) received.erase(received.begin());
  received.push_back(r);
}

Time QueryTable::next_deadline() const noexcept {
  Time t = Time::max();
  for (const auto& p : pending) t = std::min({t, p.deadline, p.reask_at});
  return t;
}

namespace {

// The dedup key of a query in the buffer: its querier and id (with its name and Lamport time).
std::array<std::byte, 12> query_key(std::uint64_t querier, std::uint32_t id) noexcept {
  std::array<std::byte, 12> k{};
  for (int i = 0; i < 8; ++i) k[std::size_t(i)] = std::byte(querier >> (8 * i));
  for (int i = 0; i < 4; ++i) k[std::size_t(8 + i)] = std::byte(id >> (8 * i));
  return k;
}

bool regex_found(std::string_view regex, const std::string& value) {
  return tag_regex_search(regex, value);  // RE2 when installed (util/tag_regex.h)
}

}  // namespace

// ---- issuing --------------------------------------------------------------------------------

Result<QueryTicket> MembershipNode::query(Time now, std::string_view name,
                                          std::span<const std::byte> payload,
                                          const QueryParams& params, Effects& fx) {
  if (name.starts_with(kInternalQueryPrefix)) {
    return make_error(Errc::invalid_argument, "query names starting with _grapevine_ are internal");
  }
  return issue_query(now, name, payload, params, fx);
}

Result<QueryTicket> MembershipNode::internal_query(Time now, std::string_view name,
                                                   std::span<const std::byte> payload,
                                                   const QueryParams& params, Effects& fx) {
  if (!name.starts_with(kInternalQueryPrefix)) {
    return make_error(Errc::invalid_argument, "an internal query's name starts with _grapevine_");
  }
  return issue_query(now, name, payload, params, fx);
}

Result<QueryTicket> MembershipNode::issue_query(Time now, std::string_view name,
                                                std::span<const std::byte> payload,
                                                const QueryParams& params, Effects& fx) {
  if (config_.dialect == Dialect::memberlist) {
    return make_error(Errc::invalid_argument,
                      "the memberlist dialect carries no grapevine queries (serf's layer)");
  }
  if (name.empty()) return make_error(Errc::invalid_argument, "a query needs a name");
  if (params.relay_factor > kQueryRelayFactorMax) {
    return make_error(Errc::invalid_argument, "relay factor over 5");
  }
  if (!queries_) queries_ = std::make_unique<QueryTable>();
  if (queries_->pending.size() >= kQueriesPendingMax) {
    return make_error(Errc::not_ready, "64 queries of this node are still pending");
  }
  std::array<std::byte, kQueryBytesMax> filters;
  wire::Writer fw(filters);
  wire::QueryFrame f;
  if (!wire::write_query_filters(fw, params, f.filter_count)) {
    return make_error(Errc::invalid_argument,
                      "query filters over their limits (64 filters, 255-byte names, 128-byte "
                      "regexes, 1024 bytes in all)");
  }
  const Duration timeout =
      params.timeout > Duration::zero()
          ? params.timeout
          : default_query_timeout(config_.gossip_interval, config_.query_timeout_mult,
                                  list_.live_size());
  f.ltime = queries_->log.clock();
  f.id = std::uint32_t(rng_.next());
  f.querier = self_id_;
  f.querier_address = self_address_;
  f.querier_name = config_.name;
  f.ack = params.request_ack;
  f.relay_factor = params.relay_factor;
  f.timeout_ms = std::uint32_t(std::clamp<std::int64_t>(timeout.ns() / 1000000, 1, UINT32_MAX));
  f.filters = fw.written();
  f.name = name;
  f.payload = payload;
  Bytes m;
  if (!codec_->query(f, m)) {
    return make_error(Errc::too_large, "query over 1024 bytes encoded (name, payload, filters)");
  }
  f.ltime = queries_->log.stamp();
  const auto key = query_key(f.querier, f.id);
  queries_->log.record(f.ltime, name, key);
  queue_.push(next_user_key(), m);
  const Time deadline = now + Duration::milliseconds(f.timeout_ms);
  QueryTable::Pending& p = queries_->pending.emplace_back();
  p.ltime = f.ltime;
  p.id = f.id;
  p.deadline = deadline;
  p.reask_step = Duration::milliseconds(f.timeout_ms) / 4;
  if (p.reask_step > Duration::zero()) {
    p.reask_at = now + p.reask_step;
    p.reasks_left = kQueryReaskRounds;
    p.message = m;
    p.filters.assign(f.filters.begin(), f.filters.end());
    p.filter_count = f.filter_count;
  }
  handle_query(now, f, fx);  // serf handles its own query too
  return QueryTicket{f.ltime, f.id, deadline};
}

// ---- receiving ------------------------------------------------------------------------------

void MembershipNode::on_query(Time now, const wire::QueryFrame& f, Effects& fx) {
  if (!queries_) queries_ = std::make_unique<QueryTable>();
  const auto key = query_key(f.querier, f.id);
  switch (queries_->log.record(f.ltime, f.name, key)) {
    case UserEventLog::Verdict::fresh:
      break;
    case UserEventLog::Verdict::duplicate:
      ++stats_.query_duplicates;
      return;
    case UserEventLog::Verdict::too_old:
    case UserEventLog::Verdict::full:
      ++stats_.queries_dropped;
      return;
  }
  Bytes m;
  if (codec_->query(f, m)) queue_.push(next_user_key(), m);  // serf re-broadcasts news
  handle_query(now, f, fx);
}

bool MembershipNode::passes_query_filters(const wire::QueryFrame& f) const {
  return passes_query_filters(f, config_.name, list_.meta_of(self_id_));
}

bool MembershipNode::passes_query_filters(const wire::QueryFrame& f, std::string_view name,
                                          std::span<const std::byte> meta) const {
  if (f.filter_count == 0) return true;
  bool named = false, name_found = false;
  std::optional<Tags> tags;
  wire::QueryFilterReader reader(f);
  wire::QueryFilter q;
  while (reader.next(q)) {
    if (q.kind == wire::QueryFilterKind::node) {
      named = true;
      name_found = name_found || q.first == name;
      continue;
    }
    if (!tags) {
      auto t = decode_tags(meta);
      tags = t ? std::move(*t) : Tags{};
    }
    auto it = tags->find(q.first);  // serf: a missing tag is matched as ""
    if (!regex_found(q.second, it == tags->end() ? std::string() : it->second)) return false;
  }
  return !named || name_found;
}

void MembershipNode::handle_query(Time now, const wire::QueryFrame& f, Effects& fx) {
  ++stats_.queries;
  if (!passes_query_filters(f)) {
    ++stats_.queries_filtered;
    return;
  }
  const QueryTable::Received r{f.ltime,  f.id, f.querier, f.querier_address,
                               now + Duration::milliseconds(f.timeout_ms), f.relay_factor,
                               false};
  if (f.ack) (void)send_query_answer(now, r, true, {}, fx);
  if (f.name.starts_with(kInternalQueryPrefix)) {  // answered here, never shown
    if (internal_queries_ == nullptr) return;
    if (auto answer = internal_queries_->answer(f.name, f.payload)) {
      (void)send_query_answer(now, r, false, *answer, fx);
    }
    return;
  }
  queries_->remember(r);
  Event e;
  e.kind = EventKind::query;
  e.user_name = f.name;
  e.payload = f.payload;
  e.ltime = f.ltime;
  e.query_id = f.id;
  e.subject_id = f.querier;
  e.subject = f.querier_address;
  e.subject_name = f.querier_name;
  fx.emit(e);
}

// ---- answering ------------------------------------------------------------------------------

Result<void> MembershipNode::respond(Time now, std::uint64_t ltime, std::uint32_t id,
                                     std::span<const std::byte> payload, Effects& fx) {
  if (serf_) return serf_->respond(now, ltime, id, payload, fx);  // a serf query (serf_layer.h)
  QueryTable::Received* q = queries_ ? queries_->find_received(ltime, id) : nullptr;
  if (q == nullptr) {
    return make_error(Errc::invalid_argument, "no such query held (unknown or forgotten)");
  }
  if (q->responded) return make_error(Errc::invalid_argument, "the query was already answered");
  if (now >= q->deadline) return make_error(Errc::rejected, "the query's deadline passed");
  const QueryTable::Received copy = *q;
  auto r = send_query_answer(now, copy, false, payload, fx);
  if (r) {
    if (auto* again = queries_->find_received(ltime, id)) again->responded = true;
  }
  return r;
}

Result<void> MembershipNode::send_query_answer(Time now, const QueryTable::Received& q, bool ack,
                                               std::span<const std::byte> payload, Effects& fx) {
  wire::QueryResponseFrame r;
  r.ltime = q.ltime;
  r.id = q.id;
  r.ack = ack;
  r.from = self_id_;
  r.from_name = config_.name;
  r.payload = payload;
  if (wire::query_response_body_size(r) > kQueryResponseBytesMax) {
    return make_error(Errc::too_large, "query response over 1024 bytes with name and header");
  }
  if (q.querier == self_id_) {  // our own query: taken here
    on_query_response(now, r, fx);
    return {};
  }
  if (!codec_->query_response(r, primary(0))) {
    return make_error(Errc::too_large, "query response does not fit a datagram");
  }
  send_messages(fx, q.querier_address, 1, false);
  relay_query_answer(q, r, fx);
  return {};
}

// serf's relayResponse: the same answer through `relay_factor` random other members.
void MembershipNode::relay_query_answer(const QueryTable::Received& q,
                                        wire::QueryResponseFrame r, Effects& fx) {
  const std::uint32_t live = list_.live_size();
  if (q.relay_factor == 0 || live < 3) return;
  r.relay = true;
  r.relay_to = q.querier_address;
  std::array<std::uint32_t, kQueryRelayFactorMax> picked{};
  std::size_t n = 0;
  for (std::uint32_t tries = 0; n < q.relay_factor && tries < 8u * q.relay_factor; ++tries) {
    const auto i = 1 + std::uint32_t(rng_.below(live - 1));  // slot 0 is this node
    if (list_.address(i) == q.querier_address) continue;
    if (std::find(picked.begin(), picked.begin() + std::ptrdiff_t(n), i) !=
        picked.begin() + std::ptrdiff_t(n)) {
      continue;
    }
    picked[n++] = i;
    if (codec_->query_response(r, primary(0))) send_messages(fx, list_.address(i), 1, false);
  }
}

// ---- gathering ------------------------------------------------------------------------------

void MembershipNode::on_query_response(Time now, const wire::QueryResponseFrame& f, Effects& fx) {
  if (f.relay && f.relay_to != self_address_) {  // a relay: forward it to the querier
    wire::QueryResponseFrame direct = f;
    direct.relay = false;
    if (codec_->query_response(direct, primary(0))) {
      send_messages(fx, f.relay_to, 1, false);
      ++stats_.query_relays;
    }
    return;
  }
  QueryTable::Pending* p = queries_ ? queries_->find_pending(f.ltime, f.id) : nullptr;
  if (p == nullptr || now >= p->deadline) {
    ++stats_.query_responses_unmatched;
    return;
  }
  auto& seen = f.ack ? p->acks : p->responses;
  auto at = std::lower_bound(seen.begin(), seen.end(), f.from);
  if (at != seen.end() && *at == f.from) {
    ++stats_.query_response_duplicates;
    return;
  }
  seen.insert(at, f.from);
  ++(f.ack ? stats_.query_acks : stats_.query_responses);
  Event e;
  e.kind = f.ack ? EventKind::query_ack : EventKind::query_response;
  e.ltime = f.ltime;
  e.query_id = f.id;
  e.subject_id = f.from;
  e.subject_name = f.from_name;
  e.payload = f.payload;
  fx.emit(e);
}

// ---- re-asking (queries.h) ------------------------------------------------------------------

void MembershipNode::reask_queries(Time now, Effects& fx) {
  for (std::size_t i = 0; i < queries_->pending.size(); ++i) {
    QueryTable::Pending& p = queries_->pending[i];
    if (now < p.reask_at || now >= p.deadline) continue;
    reask_query(p, fx);
    p.reask_at = --p.reasks_left > 0 ? p.reask_at + p.reask_step : Time::max();
  }
}

// One round: the query, alone in a datagram, to each live member (at most
// kQueryReaskMembersMax, a random choice among more) that passes its filters as we know the
// member and has neither acked nor answered.
void MembershipNode::reask_query(const QueryTable::Pending& p, Effects& fx) {
  wire::QueryFrame filters;
  filters.filters = p.filters;
  filters.filter_count = p.filter_count;
  std::vector<std::uint32_t> silent;  // live view indexes
  for (std::uint32_t i = 1; i < list_.live_size(); ++i) {
    const MemberRecord& r = list_.at(list_.live_slot(i));
    if (std::binary_search(p.acks.begin(), p.acks.end(), r.id) ||
        std::binary_search(p.responses.begin(), p.responses.end(), r.id) ||
        !passes_query_filters(filters, list_.name_of(r.id), list_.meta_of(r.id))) {
      continue;
    }
    silent.push_back(i);
  }
  const std::size_t n = std::min<std::size_t>(silent.size(), kQueryReaskMembersMax);
  for (std::size_t k = 0; k < n; ++k) {
    if (silent.size() > kQueryReaskMembersMax) {  // a partial Fisher-Yates draw
      std::swap(silent[k], silent[k + std::size_t(rng_.below(silent.size() - k))]);
    }
    primary(0).assign(p.message.begin(), p.message.end());
    send_messages(fx, list_.address(silent[k]), 1, false);
    ++stats_.query_reasks;
  }
}

void MembershipNode::expire_queries(Time now, Effects& fx) {
  reask_queries(now, fx);
  auto& pending = queries_->pending;
  for (std::size_t i = 0; i < pending.size();) {
    if (now < pending[i].deadline) {
      ++i;
      continue;
    }
    Event e;
    e.kind = EventKind::query_done;
    e.ltime = pending[i].ltime;
    e.query_id = pending[i].id;
    pending.erase(pending.begin() + std::ptrdiff_t(i));
    fx.emit(e);
  }
  // Received queries stay (at most kQueriesReceivedMax) so a late respond() says "deadline
  // passed" rather than "unknown".
}

}  // namespace grapevine::detail
