// SerfLayer: user events, queries, query responses, relays and serf's internal queries
// (serf.go UserEvent/handleUserEvent/Query/handleQuery/handleQueryResponse, query.go,
// internal_query.go). See serf_layer.h for the algorithm and our deviations.
#include <algorithm>
#include <cmath>

#include "core/serf/serf_layer.h"
#include "grapevine/tags.h"
#include "util/tag_regex.h"
#include "wire/memberlist/messages.h"

namespace grapevine::detail::serf {
namespace {

constexpr std::string_view kInternalPrefix = "_serf_";
constexpr std::size_t kUserEventBytesMax = 512;  // serf's UserEventSizeLimit default

std::span<const std::byte> bytes_of(std::string_view s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

std::string base64(std::span<const std::byte> in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    std::uint32_t v = std::to_integer<std::uint32_t>(in[i]) << 16;
    if (i + 1 < in.size()) v |= std::to_integer<std::uint32_t>(in[i + 1]) << 8;
    if (i + 2 < in.size()) v |= std::to_integer<std::uint32_t>(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[v & 63] : '=';
  }
  return out;
}

}  // namespace

// ---- user events ----

Result<std::uint64_t> Layer::user_event(std::string_view name,
                                        std::span<const std::byte> payload, bool coalesce,
                                        Effects& fx) {
  if (name.empty()) return make_error(Errc::invalid_argument, "a user event needs a name");
  if (name.size() + payload.size() > kUserEventBytesMax) {
    return make_error(Errc::too_large, "user event name + payload over 512 bytes");
  }
  const UserEvent m{events_.stamp(), name, payload, coalesce};
  events_.record(m.ltime, name, payload);
  recent_.add(m.ltime, name, payload, coalesce);
  deliver(m, fx);
  host_.gossip(encode(m));
  return m.ltime;
}

bool Layer::on_user_event(const UserEvent& m, Effects& fx) {
  if (m.ltime < event_min_time_) {
    events_.witness(m.ltime);
    return false;
  }
  if (events_.record(m.ltime, m.name, m.payload) != UserEventLog::Verdict::fresh) return false;
  recent_.add(m.ltime, m.name, m.payload, m.cc);
  deliver(m, fx);
  return true;
}

void Layer::deliver(const UserEvent& m, Effects& fx) {
  Event e;
  e.kind = EventKind::user_event;
  e.user_name = m.name;
  e.payload = m.payload;
  e.ltime = m.ltime;
  e.coalesce = m.cc;
  e.subject_name = config_.name;
  e.subject = config_.address;
  fx.emit(e);
}

// ---- queries we receive ----

bool Layer::query_seen(std::uint64_t ltime, std::uint32_t id) {
  if (query_slots_.empty()) query_slots_.resize(kQuerySlots);
  QuerySlot& slot = query_slots_[ltime % kQuerySlots];
  if (slot.ltime == ltime) {
    if (std::find(slot.ids.begin(), slot.ids.end(), id) != slot.ids.end()) return true;
    if (slot.ids.size() >= kQueriesPerSlotMax) return true;  // bound: treat as seen
  } else {
    slot.ltime = ltime;
    slot.ids.clear();
  }
  slot.ids.push_back(id);
  return false;
}

namespace {

// One filter (serf's shouldProcessQuery) against a member's name and tags (meta).
bool filter_passes(ByteSpan raw, std::string_view name, std::span<const std::byte> meta) {
  auto f = decode_filter(raw);
  if (!f) return false;
  if (!f->is_tag) return std::find(f->nodes.begin(), f->nodes.end(), name) != f->nodes.end();
  Tags tags;
  if (auto t = decode_tags(meta)) tags = std::move(*t);
  auto it = tags.find(f->tag);
  const std::string value = it == tags.end() ? std::string() : it->second;
  // serf: regexp.MatchString (RE2, unanchored); one that does not compile filters us out.
  return tag_regex_search(f->expr, value);
}

}  // namespace

bool Layer::passes(const Query& m) const {
  if (m.filters.empty()) return true;
  scratch_.clear();
  host_.members(scratch_);
  std::span<const std::byte> meta;
  for (const HostMember& hm : scratch_) {
    if (hm.name == config_.name) meta = hm.meta;
  }
  for (ByteSpan raw : m.filters) {
    if (!filter_passes(raw, config_.name, meta)) return false;
  }
  return true;
}

bool Layer::on_query(Time now, const Query& m, Effects& fx) {
  witness(query_clock_, m.ltime);
  if (query_clock_ > kQuerySlots && m.ltime < query_clock_ - kQuerySlots) return false;
  if (query_seen(m.ltime, m.id)) {
    ++stats_.query_duplicates;
    return false;
  }
  ++stats_.queries;
  const bool rebroadcast = (m.flags & kQueryFlagNoBroadcast) == 0;
  if (!passes(m)) return rebroadcast;
  if ((m.flags & kQueryFlagAck) != 0) (void)respond(m, kQueryFlagAck, {}, fx);
  if (m.name.starts_with(kInternalPrefix)) {
    answer_internal(m, fx);
    return rebroadcast;
  }
  auto it = config_.responses.find(m.name);
  if (it == config_.responses.end()) it = config_.responses.find("");
  if (it != config_.responses.end()) {
    (void)respond(m, 0, bytes_of(it->second), fx);
  } else {
    emit_query(now, m, fx);  // the application (the agent's query handlers) may answer it
  }
  return rebroadcast;
}

// serf's agent hands a query to its event handlers (serf.go handleQuery -> EventCh); we emit it
// and hold what respond() needs, oldest forgotten first.
void Layer::emit_query(Time now, const Query& m, Effects& fx) {
  if (received_.size() >= kReceivedMax) received_.erase(received_.begin());
  const Duration timeout = Duration::nanoseconds(std::clamp<std::int64_t>(
      m.timeout_ns, 0, kQueryTimeoutMax.ns()));
  received_.push_back(Received{m.ltime, m.id, m.addr, m.port, std::string(m.source_node),
                               m.relay_factor, now + timeout, false});
  Event e;
  e.kind = EventKind::query;
  e.user_name = m.name;
  e.payload = m.payload;
  e.ltime = m.ltime;
  e.query_id = m.id;
  e.subject_name = m.source_node;
  if (auto from = wire::ml::to_address(m.addr, m.port)) e.subject = *from;
  fx.emit(e);
}

Result<void> Layer::respond(Time now, std::uint64_t ltime, std::uint32_t id,
                            std::span<const std::byte> payload, Effects& fx) {
  auto it = std::find_if(received_.begin(), received_.end(), [&](const Received& r) {
    return r.ltime == ltime && r.id == id;
  });
  if (it == received_.end()) {
    return make_error(Errc::invalid_argument, "no such serf query held (unknown or forgotten)");
  }
  if (it->responded) return make_error(Errc::invalid_argument, "the query was already answered");
  if (now > it->deadline) return make_error(Errc::rejected, "the query's deadline passed");
  Query q;
  q.ltime = it->ltime;
  q.id = it->id;
  q.addr = it->addr;
  q.port = it->port;
  q.source_node = it->source_node;
  q.relay_factor = it->relay_factor;
  auto r = respond(q, 0, payload, fx);
  if (r) it->responded = true;
  return r;
}

Result<void> Layer::respond(const Query& m, std::uint32_t flags,
                            std::span<const std::byte> payload, Effects& fx) {
  auto to = wire::ml::to_address(m.addr, m.port);
  if (!to) return make_error(Errc::invalid_argument, "the query's reply address is invalid");
  const QueryResponse r{m.ltime, m.id, config_.name, flags, payload};
  const Bytes raw = encode(r);
  if (raw.empty() || raw.size() > kResponseBytesMax) {  // serf's QueryResponseSizeLimit
    return make_error(Errc::too_large, "serf query response over 1024 bytes encoded");
  }
  host_.send(*to, raw, fx);
  ++stats_.responses_sent;
  if (m.relay_factor == 0) return {};
  // serf's relayResponse: the same reply through relay_factor random alive members that speak
  // memberlist protocol 5, not us.
  scratch_.clear();
  host_.members(scratch_);
  std::vector<const HostMember*> relays;
  for (const HostMember& hm : scratch_) {
    if (hm.state == MemberState::alive && hm.vsn[1] >= 5 && hm.name != config_.name) {
      relays.push_back(&hm);
    }
  }
  if (relays.size() < m.relay_factor) return {};
  for (std::size_t i = 0; i < m.relay_factor; ++i) {
    const std::size_t j = i + std::size_t(rng_.below(std::uint64_t(relays.size() - i)));
    std::swap(relays[i], relays[j]);
    const Bytes wrapped = encode_relay(Relay{m.addr, m.port, m.source_node, raw});
    if (!wrapped.empty()) host_.send(relays[i]->address, wrapped, fx);
  }
  return {};
}

void Layer::on_relay(std::span<const std::byte> body, Effects& fx) {
  auto r = decode_relay(body);
  if (!r) {
    ++stats_.malformed;
    return;
  }
  auto to = wire::ml::to_address(r->ip, r->port);
  if (!to || r->inner.empty()) return;
  ++stats_.relays_forwarded;
  host_.send(*to, r->inner, fx);
}

void Layer::answer_internal(const Query& m, Effects& fx) {
  const std::string_view op = m.name.substr(kInternalPrefix.size());
  if (op == "ping") return;  // the ack is the answer
  if (op == "conflict") {
    const auto node = std::string_view(reinterpret_cast<const char*>(m.payload.data()),
                                       m.payload.size());
    if (node == config_.name) return;
    scratch_.clear();
    host_.members(scratch_);
    for (const HostMember& hm : scratch_) {
      if (hm.name != node) continue;
      ConflictMember c;
      c.name = hm.name;
      c.addr = wire::ml::ip_bytes(hm.address);
      c.port = hm.address.port;
      if (auto t = decode_tags(hm.meta)) c.tags = std::move(*t);
      c.status = hm.state == MemberState::left ? 3 : hm.state == MemberState::failed ? 4 : 1;
      c.vsn = hm.vsn;
      (void)respond(m, 0, encode_conflict(&c), fx);
      return;
    }
    (void)respond(m, 0, encode_conflict(nullptr), fx);
    return;
  }
  KeyResponse resp;
  const bool list = op == "list-keys";
  const KeyOp kop = op == "install-key" ? KeyOp::install
                    : op == "use-key"   ? KeyOp::use
                                        : KeyOp::remove;
  if (!list && op != "install-key" && op != "use-key" && op != "remove-key") return;
  const auto keys = host_.keys();
  if (keys.empty()) {
    resp.message = list ? "Keyring is empty (encryption not enabled)"
                        : "No keyring to modify (encryption not enabled)";
  } else if (list) {
    for (const auto& k : keys) resp.keys.push_back(base64(k));
    resp.primary_key = base64(keys.front());
    resp.result = true;
  } else {
    auto key = m.payload.empty() ? Result<ByteSpan>(make_error(Errc::malformed, "empty"))
                                 : decode_key_request(m.payload.subspan(1));
    auto done = key ? host_.change_key(kop, *key) : Result<void>(key.error());
    resp.result = done.has_value();
    if (!done) resp.message = done.error().detail;
  }
  (void)respond(m, 0, encode(resp), fx);
}

// ---- queries we send ----

Duration Layer::default_query_timeout() const {
  scratch_.clear();
  host_.members(scratch_);
  const double n = double(scratch_.size());
  return config_.gossip_interval * 16 * std::int64_t(std::max(1.0, std::ceil(std::log10(n + 1))));
}

Result<std::uint64_t> Layer::query(Time now, std::string_view name,
                                   std::span<const std::byte> payload, const QueryParams& params,
                                   Effects& fx) {
  if (name.empty() || name.starts_with(kInternalPrefix)) {
    return make_error(Errc::invalid_argument, "a query needs a name without the _serf_ prefix");
  }
  return issue(now, name, payload, params, fx);
}

Result<std::uint64_t> Layer::key_query(Time now, std::string_view op,
                                       std::span<const std::byte> key, const QueryParams& params,
                                       Effects& fx) {
  const bool list = op == "list-keys";
  if (!list && op != "install-key" && op != "use-key" && op != "remove-key") {
    return make_error(Errc::invalid_argument, "key op: install-key, use-key, remove-key, list-keys");
  }
  if (list != key.empty()) {
    return make_error(Errc::invalid_argument, "list-keys takes no key; the others need one");
  }
  const Bytes payload = list ? Bytes{} : encode_key_request(key);
  const std::string name = std::string(kInternalPrefix) + std::string(op);
  return issue(now, name, payload, params, fx);
}

Result<std::uint64_t> Layer::issue(Time now, std::string_view name,
                                   std::span<const std::byte> payload, const QueryParams& params,
                                   Effects& fx) {
  while (pending_.size() >= kPendingQueriesMax) pending_.erase(pending_.begin());
  std::vector<Bytes> filters;
  if (!params.nodes.empty()) {
    std::vector<std::string_view> names(params.nodes.begin(), params.nodes.end());
    filters.push_back(encode_node_filter(names));
  }
  for (const auto& [tag, expr] : params.tags) filters.push_back(encode_tag_filter(tag, expr));
  Query q;
  q.ltime = query_clock_++;
  q.id = std::uint32_t(rng_.next());
  q.addr = wire::ml::ip_bytes(config_.address);
  q.port = config_.address.port;
  q.source_node = config_.name;
  for (const Bytes& f : filters) q.filters.emplace_back(f);
  q.flags = params.request_ack ? kQueryFlagAck : 0;
  q.relay_factor = params.relay_factor;
  const Duration timeout = params.timeout > Duration::zero() ? params.timeout
                                                             : default_query_timeout();
  q.timeout_ns = timeout.ns();
  q.name = name;
  q.payload = payload;
  QueryResult& r = pending_[q.ltime];
  r = QueryResult{q.ltime, q.id, now + timeout, false, {}, {}};
  const Bytes raw = encode(q);
  if (raw.empty()) return make_error(Errc::too_large, "query does not encode");
  r.reask_step = timeout / 4;
  if (r.reask_step > Duration::zero()) {
    r.reask_at = now + r.reask_step;
    r.reasks_left = kReaskRounds;
    r.raw = raw;
    r.filters = filters;
  }
  on_query(now, q, fx);  // we answer our own query, as serf does
  host_.gossip(raw);
  return q.ltime;
}

void Layer::on_query_response(Time now, const QueryResponse& m) {
  auto it = pending_.find(m.ltime);
  if (it == pending_.end()) return;
  QueryResult& r = it->second;
  if (r.id != m.id || r.done || now > r.deadline) return;
  const std::string from(m.from);
  if ((m.flags & kQueryFlagAck) != 0) {
    if (std::find(r.acks.begin(), r.acks.end(), from) == r.acks.end()) r.acks.push_back(from);
    return;
  }
  for (const auto& [n, p] : r.responses) {
    if (n == from) return;
  }
  r.responses.emplace_back(from, std::vector<std::byte>(m.payload.begin(), m.payload.end()));
}

const QueryResult* Layer::query_result(std::uint64_t ltime) const {
  auto it = pending_.find(ltime);
  return it == pending_.end() ? nullptr : &it->second;
}

void Layer::on_timeout(Time now) {
  for (auto& [ltime, r] : pending_) {
    if (!r.done && now >= r.deadline) r.done = true;
  }
}

void Layer::on_timeout(Time now, Effects& fx) {
  on_timeout(now);
  for (auto& [ltime, r] : pending_) {
    if (r.done || now < r.reask_at) continue;
    r.reask_at = --r.reasks_left > 0 ? r.reask_at + r.reask_step : Time::max();
    reask(r, fx);
  }
}

// One round (serf_layer.h "Re-ask"): the query again to each silent member passing its filters.
void Layer::reask(QueryResult& r, Effects& fx) {
  scratch_.clear();
  host_.members(scratch_);
  std::vector<const HostMember*> silent;
  for (const HostMember& hm : scratch_) {
    if ((hm.state != MemberState::alive && hm.state != MemberState::suspect) ||
        hm.name == config_.name) {
      continue;
    }
    const std::string name(hm.name);
    if (std::find(r.acks.begin(), r.acks.end(), name) != r.acks.end()) continue;
    if (std::any_of(r.responses.begin(), r.responses.end(),
                    [&](const auto& p) { return p.first == name; })) {
      continue;
    }
    if (std::all_of(r.filters.begin(), r.filters.end(),
                    [&](const Bytes& f) { return filter_passes(f, hm.name, hm.meta); })) {
      silent.push_back(&hm);
    }
  }
  const std::size_t n = std::min(silent.size(), kReaskMembersMax);
  for (std::size_t k = 0; k < n; ++k) {
    if (silent.size() > kReaskMembersMax) {  // a partial Fisher-Yates draw
      std::swap(silent[k], silent[k + std::size_t(rng_.below(silent.size() - k))]);
    }
    host_.send(silent[k]->address, r.raw, fx);
    ++stats_.query_reasks;
  }
}

Time Layer::next_deadline() const noexcept {
  Time t = Time::max();
  for (const auto& [ltime, r] : pending_) {
    if (!r.done) t = std::min({t, r.deadline, r.reask_at});
  }
  return t;
}

}  // namespace grapevine::detail::serf
