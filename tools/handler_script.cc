#include "handler_script.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pthread.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>

extern char** environ;

namespace grapevine::tools {
namespace {

using Clock = std::chrono::steady_clock;

// environ with `env` layered over it, as NAME=VALUE strings.
std::vector<std::string> merged_env(const std::vector<std::pair<std::string, std::string>>& env) {
  std::map<std::string, std::string> vars;
  for (char** e = environ; e && *e; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (eq) vars.insert_or_assign(std::string(*e, std::size_t(eq - *e)), std::string(eq + 1));
  }
  for (const auto& [k, v] : env) vars.insert_or_assign(k, v);
  std::vector<std::string> out;
  for (const auto& [k, v] : vars) out.push_back(k + "=" + v);
  return out;
}

// Spawns sh -c script with stdin/stdout wired to the pipes; returns the pid or -1.
pid_t spawn(const std::string& script, std::vector<std::string>& envs, int in_fd, int out_fd,
            int close_a, int close_b) {
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
  posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
  posix_spawn_file_actions_adddup2(&fa, out_fd, 2);
  posix_spawn_file_actions_addclose(&fa, close_a);
  posix_spawn_file_actions_addclose(&fa, close_b);
  sigset_t none, dflt;
  sigemptyset(&none);
  sigemptyset(&dflt);
  for (int s : {SIGPIPE, SIGINT, SIGTERM, SIGHUP}) sigaddset(&dflt, s);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &dflt);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                       POSIX_SPAWN_SETPGROUP);
  std::vector<char*> envp;
  for (auto& s : envs) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string sh = "/bin/sh", dash_c = "-c", body = script;
  char* argv[] = {sh.data(), dash_c.data(), body.data(), nullptr};
  pid_t pid = -1;
  if (posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, envp.data()) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  return pid;
}

// Feeds `input` and drains the output until the script closes its stdout or time runs out.
void pump(int in_w, int out_r, const std::string& input, Clock::time_point deadline,
          std::size_t output_max, ScriptResult& r) {
  std::size_t written = 0;
  if (input.empty()) close(in_w), in_w = -1;
  char buf[4096];
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      r.timed_out = true;
      break;
    }
    pollfd fds[2] = {{out_r, POLLIN, 0}, {in_w, POLLOUT, 0}};
    if (poll(fds, in_w >= 0 ? 2 : 1, int(std::min<long>(left.count(), 1000))) < 0) continue;
    if (in_w >= 0 && (fds[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t n = write(in_w, input.data() + written, input.size() - written);
      if (n > 0) written += std::size_t(n);
      if (n < 0 || written == input.size()) close(in_w), in_w = -1;
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(out_r, buf, sizeof buf);
      if (n <= 0) break;  // every writer closed: the script (and its children) finished
      const std::size_t room = output_max - std::min(output_max, r.output.size());
      r.output.append(buf, std::min<std::size_t>(room, std::size_t(n)));
      if (std::size_t(n) > room) r.truncated = true;
    }
  }
  if (in_w >= 0) close(in_w);
}

}  // namespace

ScriptResult run_script(const std::string& script,
                        const std::vector<std::pair<std::string, std::string>>& env,
                        const std::string& input, Duration timeout, std::size_t output_max) {
  ScriptResult r;
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0) return r.spawn_failed = true, r;
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(in[0]), close(in[1]);
    return r.spawn_failed = true, r;
  }
  auto envs = merged_env(env);
  const pid_t pid = spawn(script, envs, in[0], out[1], in[1], out[0]);
  close(in[0]);
  close(out[1]);
  if (pid < 0) {
    close(in[1]), close(out[0]);
    return r.spawn_failed = true, r;
  }
  fcntl(in[1], F_SETFL, fcntl(in[1], F_GETFL) | O_NONBLOCK);
  // A script that exits without reading its stdin must not kill us with SIGPIPE: block it in
  // this thread while writing (the write fails with EPIPE), then take the pending one.
  sigset_t pipe_set, old;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  pump(in[1], out[0], input, Clock::now() + std::chrono::nanoseconds(timeout.ns()), output_max, r);
  const timespec zero{0, 0};
  sigset_t pending;
  sigpending(&pending);
  if (sigismember(&pending, SIGPIPE) && !sigismember(&old, SIGPIPE)) {
    sigtimedwait(&pipe_set, nullptr, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  close(out[0]);
  if (r.timed_out) kill(-pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!r.timed_out && WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  return r;
}

}  // namespace grapevine::tools
