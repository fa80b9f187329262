// The runtime's side of the replicated node state: watch callbacks (by key prefix) and the
// generation a hosted node starts with.
//
// Change events are copied when the node emits them and delivered after the node's call has
// returned (deliver()), so a callback may call back into its node (set, erase) safely.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "grapevine/event.h"
#include "grapevine/node.h"

namespace grapevine::io {

/// A node's generation from the wall clock (nanoseconds since the epoch), so a restarted agent
/// is newer than its previous run even across a reboot (the monotonic clock restarts at boot).
inline NodeConfig with_state_generation(NodeConfig config) {
  if (config.state.generation == 0) {
    config.state.generation = std::uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                std::chrono::system_clock::now().time_since_epoch())
                                                .count());
  }
  return config;
}

class StateWatchers {
 public:
  using Callback = std::function<void(const Event&)>;

  std::uint64_t watch(Node& node, std::string_view prefix, Callback cb) {
    const std::uint64_t id = node.state_watch(prefix);
    if (id != 0) watches_.push_back({id, std::string(prefix), std::move(cb)});
    return id;
  }
  void unwatch(Node& node, std::uint64_t id) {
    node.state_unwatch(id);
    std::erase_if(watches_, [&](const Watch& w) { return w.id == id; });
  }
  /// Called from Effects::emit: keeps a copy for deliver().
  void queue(const Event& e) {
    if (watches_.empty()) return;
    pending_.push_back({e, std::string(e.key),
                        std::string(reinterpret_cast<const char*>(e.payload.data()),
                                    e.payload.size())});
  }
  /// Hands queued changes to the callbacks whose prefix matches.
  void deliver() {
    while (!pending_.empty()) {
      std::vector<Pending> batch;
      batch.swap(pending_);
      for (Pending& p : batch) {
        p.event.key = p.key;
        p.event.payload = std::as_bytes(std::span(p.value.data(), p.value.size()));
        const auto watches = watches_;  // a callback may watch or unwatch
        for (const Watch& w : watches) {
          if (p.key.starts_with(w.prefix) && w.callback) w.callback(p.event);
        }
      }
    }
  }

 private:
  struct Watch {
    std::uint64_t id;
    std::string prefix;
    Callback callback;
  };
  struct Pending {
    Event event;
    std::string key, value;
  };
  std::vector<Watch> watches_;
  std::vector<Pending> pending_;
};

}  // namespace grapevine::io
