// Runtime::Loops: the runtime's event loops (RuntimeOptions::threads) and the threads that run
// them. One loop (the default) is driven on the caller's thread exactly as before. With K > 1
// the nodes are dealt round-robin to K independent loops (each a Runtime::Impl: its own epoll,
// deadline heap, streams and shared sockets), and a run is a sequence of rounds: K - 1 threads
// are started, the caller's thread runs loop 0, and the round ends when loop 0 returns (its
// deadline, stop(), or a posted task), at which every other loop is stopped and joined.
//
// Why whole loops and not a pool of workers over one loop: hosted nodes only ever meet through
// sockets, so a loop owning its nodes outright shares nothing with the others but the kernel;
// no node state is ever touched by two threads, and no lock sits on the per-datagram path.
// What this gives up: a node sees its own loop's clock (RuntimeOptions::turn_time_max withholds
// per loop), and the nodes are spread by count, not by load.
//
// post() with K > 1: the tasks queue here and every loop is stopped; the caller's thread runs
// them between rounds, with no loop running, so a task may touch any node.
#include <algorithm>
#include <mutex>
#include <thread>

#include "io/runtime_hosted.h"
#include "regex/re2_tag_matcher.h"

namespace grapevine {

class Runtime::Loops {
 public:
  explicit Loops(const RuntimeOptions& o) {
    const std::uint32_t k = std::max<std::uint32_t>(o.threads, 1);
    for (std::uint32_t i = 0; i < k; ++i) loops_.push_back(std::make_unique<Impl>(o));
  }

  Result<NodeHandle*> add_node(const NodeConfig& config, const Address& bind, NodeCallbacks cb) {
    auto r = loops_[next_ % loops_.size()]->add_node(config, bind, std::move(cb));
    if (r) ++next_;
    return r;
  }
  void remove_node(NodeHandle* node) {
    for (auto& l : loops_) {
      if (l->hosts(node)) return l->remove_node(node);
    }
    loops_[0]->remove_node(node);  // not ours: the loop's own check says so
  }

  void run(Time until) {
    if (loops_.size() == 1) return loops_[0]->run(until);
    for (;;) {
      run_posted();
      if (stop_.exchange(false) || Runtime::now() >= until) return;
      run_round(until);
    }
  }
  void stop() {
    stop_.store(true);
    stop_loops();
  }
  void post(std::function<void()> task) {
    if (loops_.size() == 1) return loops_[0]->post(std::move(task));
    {
      std::lock_guard<std::mutex> lock(post_mu_);
      posted_.push_back(std::move(task));
    }
    stop_loops();  // the round ends; run() runs the task before the next one
  }

  [[nodiscard]] Duration withheld() const {
    Duration most{};
    for (const auto& l : loops_) most = std::max(most, l->withheld());
    return most;
  }
  [[nodiscard]] std::size_t node_count() const {
    std::size_t n = 0;
    for (const auto& l : loops_) n += l->node_count();
    return n;
  }
  [[nodiscard]] std::uint64_t unroutable_datagrams() const {
    std::uint64_t n = 0;
    for (const auto& l : loops_) n += l->unroutable_datagrams();
    return n;
  }

 private:
  void stop_loops() {
    for (auto& l : loops_) l->stop();
  }
  // Every loop runs until loop 0 returns; then the others are stopped and joined, and the
  // stops this round's end sent are forgotten (a Runtime::stop() stays in stop_).
  void run_round(Time until) {
    std::vector<std::thread> workers;
    workers.reserve(loops_.size() - 1);
    for (std::size_t k = 1; k < loops_.size(); ++k) {
      workers.emplace_back([this, k, until] { loops_[k]->run(until); });
    }
    loops_[0]->run(until);
    stop_loops();
    for (auto& w : workers) w.join();
    for (auto& l : loops_) l->clear_stop();
  }
  void run_posted() {
    std::vector<std::function<void()>> tasks;
    {
      std::lock_guard<std::mutex> lock(post_mu_);
      tasks.swap(posted_);
    }
    for (auto& t : tasks) t();
  }

  std::vector<std::unique_ptr<Impl>> loops_;
  std::size_t next_ = 0;  // add_node: the loop the next node goes to
  std::atomic<bool> stop_{false};
  std::mutex post_mu_;
  std::vector<std::function<void()>> posted_;
};

bool Runtime::Impl::hosts(const NodeHandle* node) const {
  return std::any_of(nodes_.begin(), nodes_.end(), [node](const auto& n) {
    return n != nullptr && static_cast<const NodeHandle*>(n.get()) == node;
  });
}

// ---- Runtime --------------------------------------------------------------------------------

Runtime::Runtime(const RuntimeOptions& options) : loops_(std::make_unique<Loops>(options)) {
  // Query tag filters arrive from the network: match them with RE2 (linear time), as the agent
  // does, rather than core's literal-only default (src/util/tag_regex.h).
  detail::install_re2_tag_matcher();
}
Runtime::~Runtime() = default;
Result<NodeHandle*> Runtime::add_node(const NodeConfig& config, const Address& bind,
                                      NodeCallbacks callbacks) {
  return loops_->add_node(config, bind, std::move(callbacks));
}
void Runtime::remove_node(NodeHandle* node) {
  loops_->remove_node(node);
}
void Runtime::run() {
  loops_->run(Time::max());
}
void Runtime::run_for(Duration d) {
  loops_->run(now() + d);
}
void Runtime::stop() {
  loops_->stop();
}
void Runtime::post(std::function<void()> task) {
  loops_->post(std::move(task));
}
std::size_t Runtime::node_count() const {
  return loops_->node_count();
}
Duration Runtime::withheld() const {
  return loops_->withheld();
}
std::uint64_t Runtime::unroutable_datagrams() const {
  return loops_->unroutable_datagrams();
}

}  // namespace grapevine
