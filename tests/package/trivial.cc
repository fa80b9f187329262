// The smallest program against an installed grapevine (built by tests/package/deb.sh with the
// unpacked package's `pkg-config --cflags --libs grapevine`): parses and prints an address.
#include <grapevine/address.h>
#include <grapevine/runtime.h>

#include <cstdio>

int main() {
  auto a = grapevine::Address::parse("127.0.0.1:7946");
  if (!a) return 1;
  std::printf("%s\n", a->to_string().c_str());
  return 0;
}
