// Runtime::Impl::Hosted: one node hosted by the runtime (runtime_impl.h), its sockets, its
// machine and the Effects the machine writes into. Out-of-line members: runtime_hosted.cc.
#pragma once

#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include "io/runtime_impl.h"
#include "io/state_watchers.h"
#include "util/driver_contract.h"
#include "wire/native.h"

namespace grapevine {

// One hosted node: its sockets, its machine, and the Effects the machine writes into.
//
// Effects leave after the call: datagrams are batched and sent when the machine call returns,
// and events are queued (payload and name copied) and handed to the callbacks only then, in
// order. A callback may call back into its node (or any other): that call's events join the
// queue and are delivered by the same loop after those already queued, never recursively.
// Every machine call goes through contract_ (util/driver_contract.h).
class Runtime::Impl::Hosted final : public NodeHandle, public Effects {
 public:
  Hosted(Impl& rt, std::uint32_t index, const NodeConfig& config, const Address& addr, Fd udp,
         Fd tcp, NodeCallbacks cb, std::uint64_t seed)
      : rt_(rt),
        index_(index),
        node_(config, addr, seed),
        addr_(addr),
        udp_(std::move(udp)),
        tcp_(std::move(tcp)),
        cb_(std::move(cb)) {
    runtime_detail::seed_seal(node_, rt_.withheld_);
  }

  // ---- Effects ----
  void send(const Address& to, std::span<const std::byte> datagram) override {
    if (!running_) return;
    if (datagram.size() > wire::kDatagramBytesMax) {
      ++io_.oversized_dropped;
      return;
    }
    out_.push_back(Out{to, std::uint32_t(out_bytes_.size()), std::uint32_t(datagram.size())});
    out_bytes_.insert(out_bytes_.end(), datagram.begin(), datagram.end());
    if (out_.size() >= rt_.batch()) flush();
  }
  void emit(const Event& e) override {
    if (e.kind == EventKind::state_changed) return state_.queue(e);  // watchers, after the call
    const bool query = e.kind >= EventKind::query && e.kind <= EventKind::query_done;
    if (!cb_.on_delivery && !cb_.on_member_event && !query) return;
    Queued& q = events_.emplace_back();
    q.event = e;
    q.payload.assign(e.payload.begin(), e.payload.end());
    q.name.assign(e.subject_name);
    q.user_name.assign(e.user_name);
  }
  void send_stream(const Address& to, std::span<const std::byte> message) override {
    if (running_) rt_.open_stream(*this, to, message);
  }
  void reply_stream(StreamId stream, std::span<const std::byte> message) override {
    contract_.check_reply(stream);  // only while that stream is being handled
    if (running_) rt_.reply_stream(*this, stream, message);
  }

  // ---- NodeHandle ----
  [[nodiscard]] Address address() const override { return addr_; }
  Result<void> join(std::span<const Address> seeds) override {
    return call([&](Time now) { return node_.join(now, seeds, *this); });
  }
  Result<void> join(std::span<const Address> seeds, const JoinOptions& options) override {
    return call([&](Time now) { return node_.join(now, seeds, options, *this); });
  }
  void preload(std::span<const Address> members) override {
    call([&](Time now) { node_.preload(now, members); });
  }
  void leave() override {
    call([&](Time now) { node_.leave(now, *this); });
  }
  Result<MessageId> multicast(std::span<const std::byte> payload) override {
    return call([&](Time now) { return node_.multicast(now, payload, *this); });
  }
  Result<void> force_leave(std::string_view name) override {
    return call([&](Time now) { return node_.force_leave(now, name, *this); });
  }
  Result<std::uint64_t> user_event(std::string_view name, std::span<const std::byte> payload,
                                   bool coalesce) override {
    return call([&](Time now) { return node_.user_event(now, name, payload, coalesce, *this); });
  }
  void witness_event_clock(std::uint64_t ltime) override { node_.witness_event_clock(ltime); }
  Result<void> update_meta(std::span<const std::byte> meta) override {
    return call([&](Time now) { return node_.update_meta(now, meta, *this); });
  }
  Result<std::uint64_t> serf_query(std::string_view name, std::span<const std::byte> payload,
                                   const SerfQueryOptions& options) override {
    return call([&](Time now) { return node_.serf_query(now, name, payload, options, *this); });
  }
  bool serf_query_result(std::uint64_t ltime, SerfQueryResult& out) override {
    return call([&](Time) { return node_.membership().serf_query_result(ltime, out); });
  }
  Result<QueryTicket> query(std::string_view name, std::span<const std::byte> payload,
                            const QueryParams& params, QueryCallback on_update) override {
    return call([&](Time now) {  // registered before the call's own events are delivered
      auto r = node_.query(now, name, payload, params, *this);
      if (r) query_callbacks_[r->id] = std::move(on_update);
      return r;
    });
  }
  Result<QueryTicket> keyring_query(KeyringCommand command, std::span<const std::byte> key,
                                    const QueryParams& params, QueryCallback on_update) override {
    return call([&](Time now) {
      QueryParams p;
      p.timeout = params.timeout;  // every live member answers: no filters, no relays
      auto r = node_.keyring_query(now, command, key, p, *this);
      if (r) query_callbacks_[r->id] = std::move(on_update);
      return r;
    });
  }
  Result<void> respond(std::uint64_t ltime, std::uint32_t id,
                       std::span<const std::byte> payload) override {
    return call([&](Time now) { return node_.respond(now, ltime, id, payload, *this); });
  }
  [[nodiscard]] std::vector<MemberInfo> members() const override {
    return node_.membership().members();
  }
  [[nodiscard]] const Membership& membership() const override { return node_.membership(); }
  [[nodiscard]] const MulticastStats& multicast_stats() const override {
    return node_.multicast_protocol().stats();
  }
  [[nodiscard]] const IoStats& io_stats() const override { return io_; }
  [[nodiscard]] const ViewMachine* view() const override { return node_.view(); }
  [[nodiscard]] const SealStats& seal_stats() const override { return node_.seal_stats(); }
  Result<void> change_keyring(KeyringOp op, std::span<const std::byte> key) override {
    return node_.change_keyring(op, key);
  }
  [[nodiscard]] std::vector<std::vector<std::byte>> keyring() const override {
    return node_.keyring();
  }
  Result<std::uint64_t> set(std::string_view key, std::string_view value,
                            Duration ttl) override {
    return call([&](Time now) { return node_.set(now, key, value, ttl, *this); });
  }
  Result<std::uint64_t> erase(std::string_view key) override {
    return call([&](Time now) { return node_.erase(now, key, *this); });
  }
  [[nodiscard]] std::optional<StateEntry> get(std::string_view node,
                                              std::string_view key) const override {
    return node_.get(node, key);
  }
  [[nodiscard]] std::vector<StateEntry> entries(std::string_view prefix) const override {
    return node_.entries(prefix);
  }
  std::uint64_t watch(std::string_view prefix, StateWatch cb) override {
    return state_.watch(node_, prefix, std::move(cb));
  }
  void unwatch(std::uint64_t id) override { state_.unwatch(node_, id); }
  [[nodiscard]] StateStats state_stats() const override { return node_.state_stats(); }
  void crash() override;
  [[nodiscard]] bool running() const override { return running_; }

  // ---- driven by the loop ----
  // The loop reads the clock once per batch; a callback's call in between may have read it
  // later, so each call takes the later of the two (time never decreases for a node).
  void on_datagram(Time now, const Address& from, std::span<const std::byte> bytes) {
    if (!running_) return;
    ++io_.datagrams_in;
    io_.bytes_in += bytes.size();
    now = std::max(now, contract_.last_now());
    detail::DriverContract::Call guard(contract_, now);
    node_.on_datagram(now, from, bytes, *this);
  }
  void on_stream(Time now, const Address& from, std::span<const std::byte> message,
                 StreamId stream) {
    if (!running_) return;
    ++io_.streams_in;
    io_.stream_bytes_in += message.size();
    now = std::max(now, contract_.last_now());
    detail::DriverContract::Call guard(contract_, now, stream);
    node_.on_stream(now, from, message, stream, *this);
    // The caller (on_conn) runs after_call() once it is done with the connection: a callback
    // may crash this node, which closes its connections.
  }
  void on_timeout(Time now) {
    if (!running_) return;
    now = std::max(now, contract_.last_now());
    if (now >= node_.next_deadline()) {
      detail::DriverContract::Call guard(contract_, now);
      node_.on_timeout(now, *this);
    }
    after_call();
  }
  /// One API call into the machine (NodeHandle), then its effects.
  template <class F>
  auto call(F&& f) -> decltype(f(Time{})) {
    const Time now = std::max(rt_.node_now(), contract_.last_now());
    if constexpr (std::is_void_v<decltype(f(now))>) {
      {
        detail::DriverContract::Call guard(contract_, now);
        f(now);
      }
      after_call();
    } else {
      auto r = [&] {
        detail::DriverContract::Call guard(contract_, now);
        return f(now);
      }();
      after_call();
      return r;
    }
  }
  /// After any call into the machine: send what it queued, re-arm its deadline, and hand the
  /// queued events to the callbacks.
  void after_call() {
    state_.deliver();
    flush();
    if (running_) rt_.schedule(*this);
    deliver_events();
  }
  void flush();
  void deliver_events();

  Impl& rt_;
  std::uint32_t index_;
  Node node_;
  Address addr_;
  Fd udp_, tcp_;
  NodeCallbacks cb_;
  io::StateWatchers state_;
  IoStats io_;
  bool running_ = true;
  bool removed_ = false;  // Runtime::remove_node: the handle is dead
  bool send_error_logged_ = false;  // the first send error is logged, the rest only counted
  std::int64_t scheduled_ = INT64_MAX;

 private:
  // An event raised during a machine call, with what it points at copied.
  struct Queued {
    Event event;
    std::vector<std::byte> payload;
    std::string name, user_name;
  };
  void deliver_query_event(const Event& e);
  // Callbacks of this node's pending queries, by query id (NodeHandle::query).
  std::map<std::uint32_t, QueryCallback> query_callbacks_;
  /// Rounds of "deliver what is queued" per after_call: callbacks that keep raising events
  /// (a multicast from every delivery) continue at the node's next call instead of spinning.
  static constexpr int kEventRoundsMax = 16;
  /// Queued events whose capacity a node keeps between calls (deliver_events).
  static constexpr std::size_t kEventsCapacityKept = 64;
  detail::DriverContract contract_;
  std::vector<Queued> events_;
  std::size_t events_head_ = 0;
  bool delivering_events_ = false;
  struct Out {
    Address to;
    std::uint32_t offset, length;
  };
  std::vector<Out> out_;
  std::vector<std::byte> out_bytes_;
};

}  // namespace grapevine
