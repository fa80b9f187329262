// grapevine keygen: prints a fresh base64 32-byte (AES-256) key from the OS CSPRNG
// (getrandom), for --encrypt and `encrypt = [...]`, as `serf keygen` does.
#include <sys/random.h>

#include <cerrno>
#include <cstdio>

#include "base64.h"
#include "commands.h"

namespace grapevine::tools {
namespace {

int run_keygen() {
  std::byte key[32];
  std::size_t got = 0;
  while (got < sizeof key) {
    const ssize_t n = getrandom(key + got, sizeof key - got, 0);
    if (n < 0 && errno != EINTR) throw std::runtime_error("getrandom failed");
    if (n > 0) got += std::size_t(n);
  }
  std::printf("%s\n", base64_encode(key).c_str());
  return 0;
}

}  // namespace

void add_keygen(CLI::App& app, std::function<int()>& run) {
  auto* cmd = app.add_subcommand(
      "keygen", "Print a new base64 32-byte encryption key for --encrypt (from the OS CSPRNG)");
  cmd->callback([&run] { run = [] { return run_keygen(); }; });
}

}  // namespace grapevine::tools
