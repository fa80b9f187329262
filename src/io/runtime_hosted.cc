// The hosted node's out-of-line members (runtime_hosted.h): batched sends, event delivery,
// crash; and the seal's seeding from the OS.
#include "io/runtime_hosted.h"

#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "util/assert.h"

namespace grapevine {
namespace runtime_detail {

// The wall clock minus the monotonic one.
Duration wall_offset() {
  timespec wall{}, mono{};
  clock_gettime(CLOCK_REALTIME, &wall);
  clock_gettime(CLOCK_MONOTONIC, &mono);
  return Duration::seconds(wall.tv_sec - mono.tv_sec) +
         Duration::nanoseconds(wall.tv_nsec - mono.tv_nsec);
}

// The seal's nonces from the OS CSPRNG and its timestamps from the wall clock (node_seal.h);
// `withheld`: how far the nodes' clock is behind the monotonic one (turn_time_max).
void seed_seal(Node& node, Duration withheld) {
  std::byte entropy[32];
  std::size_t got = 0;
  while (got < sizeof entropy) {
    const ssize_t n = getrandom(entropy + got, sizeof entropy - got, 0);
    if (n > 0) got += std::size_t(n);
    else GV_ASSERT(errno == EINTR);
  }
  node.seed_nonces(entropy);
  node.set_clock_offset(wall_offset() + withheld);
}


}  // namespace runtime_detail

void Runtime::Impl::Hosted::flush() {
  std::size_t done = 0;
  while (done < out_.size() && running_) {
    const std::size_t n = std::min<std::size_t>(out_.size() - done, 64);
    mmsghdr msgs[64];
    iovec iov[64];
    sockaddr_storage addrs[64];
    for (std::size_t i = 0; i < n; ++i) {
      const Out& o = out_[done + i];
      iov[i] = iovec{out_bytes_.data() + o.offset, o.length};
      std::memset(&msgs[i], 0, sizeof msgs[i]);
      msgs[i].msg_hdr.msg_name = &addrs[i];
      msgs[i].msg_hdr.msg_namelen = io::to_sockaddr(o.to, addrs[i]);
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int sent = rt_.shared_ ? rt_.shared_->send_from(addr_, msgs, unsigned(n))
                           : ::sendmmsg(udp_.get(), msgs, unsigned(n), 0);
    if (sent <= 0) {
      // A full send buffer or an unreachable peer: UDP may drop, and so do we (counted).
      ++io_.send_errors;
      if (!send_error_logged_) {
        send_error_logged_ = true;
        rt_.log(LogLevel::warn, "node " + addr_.to_string() + ": datagram send failed (" +
                                    std::strerror(errno) +
                                    "); further send errors are only counted (send_errors)");
      }
      sent = 1;
    } else {
      for (int i = 0; i < sent; ++i) {
        ++io_.datagrams_out;
        io_.bytes_out += out_[done + std::size_t(i)].length;
      }
    }
    done += std::size_t(sent);
  }
  out_.clear();
  out_bytes_.clear();
}

void Runtime::Impl::Hosted::deliver_events() {
  if (delivering_events_) return;  // a call from a callback: the loop below picks its events up
  delivering_events_ = true;
  for (int round = 0; round < kEventRoundsMax && events_head_ < events_.size(); ++round) {
    const std::size_t end = events_.size();  // events raised meanwhile wait for the next round
    while (events_head_ < end && !removed_) {
      Queued q = std::move(events_[events_head_++]);  // callbacks may grow events_
      q.event.payload = q.payload;
      q.event.subject_name = q.name;
      q.event.user_name = q.user_name;
      if (q.event.kind >= EventKind::query && q.event.kind <= EventKind::query_done) {
        deliver_query_event(q.event);
      } else if (q.event.kind == EventKind::delivered) {
        if (cb_.on_delivery) cb_.on_delivery(q.event.message, q.event.payload, q.event.hops);
      } else if (cb_.on_member_event) {
        cb_.on_member_event(q.event);
      }
    }
  }
  if (events_head_ == events_.size() || removed_) {
    events_.clear();
    events_head_ = 0;
    // A push-pull merge of N new members queues N `joined` events (~340 B each) in one call:
    // kept, that capacity is up to N^2 x 340 B over N hosted nodes (a 2,000-node join peaked at
    // 1.42 GiB with it kept, 0.92 GiB without; 34 GB at 10,000). Give it back past a small batch.
    if (events_.capacity() > kEventsCapacityKept) std::vector<Queued>().swap(events_);
  }
  delivering_events_ = false;
}

// A query event: `query` to on_member_event (monitors) and on_query, whose answer is sent with
// respond(); acks, responses and done to the callback of the query they belong to.
void Runtime::Impl::Hosted::deliver_query_event(const Event& e) {
  if (e.kind == EventKind::query) {
    if (cb_.on_member_event) cb_.on_member_event(e);
    if (!cb_.on_query || removed_) return;
    if (auto answer = cb_.on_query(e)) (void)respond(e.ltime, e.query_id, *answer);
    return;
  }
  auto it = query_callbacks_.find(e.query_id);
  if (it == query_callbacks_.end()) return;
  QueryCallback cb = it->second;  // a copy: the callback may issue queries
  if (e.kind == EventKind::query_done) query_callbacks_.erase(it);
  if (cb) cb(e);
}

void Runtime::Impl::Hosted::crash() {
  if (!running_) return;
  running_ = false;
  out_.clear();
  out_bytes_.clear();
  rt_.unwatch(udp_.get());
  rt_.unwatch(tcp_.get());
  udp_ = Fd();
  tcp_ = Fd();
  if (rt_.shared_ && rt_.shared_->find(addr_.ipv4_u32()) == index_) {
    rt_.shared_->remove(addr_.ipv4_u32());  // what arrives for it now is dropped
  }
  rt_.drop_streams_of(*this);
  scheduled_ = INT64_MAX;
}

}  // namespace grapevine
