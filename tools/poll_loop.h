// The bounded poll loop shared by the agent's RPC server (rpc_server.cc) and the UI's HTTP server
// (http_server.cc): one thread waits on an eventfd (other threads wake it to hand over events),
// a non-blocking listener and its clients; clients beyond the cap are told why and closed.
// Each server keeps its own client type and rules (what to read, timeouts, output bounds); this
// file holds only the socket mechanics they have in common.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace grapevine::tools {

/// Milliseconds on the monotonic clock (timeouts and stalls of clients).
inline std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// What one poll round saw besides the clients.
struct PollRound {
  bool ok = true;         // false: poll failed, the loop should end
  bool woken = false;     // the eventfd fired (drained, and on_wake ran)
  bool acceptable = false;  // the listener has connections waiting
};

/// Polls `wake_fd`, `listen_fd` and every client in `clients` (vector of unique_ptr<Client>);
/// `interest(client)` gives the events to wait for. Then, unless `stopping()` turned true,
/// drains the eventfd and calls `serve(client, revents, now_ms)` on every polled client, in
/// order (the clients present when the round began; serve must not add or remove clients).
/// `on_wake()` runs first when the eventfd fired, so what it queues can be written this round.
template <class Client, class Interest, class Stopping, class OnWake, class Serve>
PollRound poll_clients(int wake_fd, int listen_fd, int timeout_ms,
                       std::vector<std::unique_ptr<Client>>& clients, std::vector<pollfd>& fds,
                       Interest interest, Stopping stopping, OnWake on_wake, Serve serve) {
  fds.clear();
  fds.push_back({wake_fd, POLLIN, 0});
  fds.push_back({listen_fd, POLLIN, 0});
  for (const auto& c : clients) fds.push_back({c->fd.get(), interest(*c), 0});
  PollRound round;
  if (::poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR) {
    round.ok = false;
    return round;
  }
  if (stopping()) return round;
  if (fds[0].revents & POLLIN) {
    std::uint64_t v;
    [[maybe_unused]] auto r = ::read(wake_fd, &v, sizeof v);
    round.woken = true;
    on_wake();
  }
  round.acceptable = (fds[1].revents & POLLIN) != 0;
  const std::int64_t now = steady_ms();
  for (std::size_t i = 0; i + 2 < fds.size(); ++i) serve(*clients[i], fds[i + 2].revents, now);
  return round;
}

/// Sends as much of `out` as the socket takes now, erasing what went. False when the peer is
/// gone (hung up or failed): the caller drops it.
inline bool send_queued(int fd, std::string& out) {
  while (!out.empty()) {
    const ssize_t n = ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    if (n <= 0) return false;
    out.erase(0, std::size_t(n));
  }
  return true;
}

/// Accepts up to 64 waiting connections from a non-blocking listener. While `clients_open()`
/// is below `clients_max`, each is passed to `adopt(fd)`; beyond it `refusal` is sent (best
/// effort: a fresh socket's buffer takes it), `on_refused()` counts it, and it is closed.
template <class Count, class Refused, class Adopt>
void accept_bounded(int listen_fd, std::size_t clients_max, const std::string& refusal,
                    Count clients_open, Refused on_refused, Adopt adopt) {
  for (int i = 0; i < 64; ++i) {
    const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    if (clients_open() >= clients_max) {
      on_refused();
      [[maybe_unused]] auto n = ::send(fd, refusal.data(), refusal.size(), MSG_NOSIGNAL);
      ::close(fd);
      continue;
    }
    adopt(fd);
  }
}

}  // namespace grapevine::tools
