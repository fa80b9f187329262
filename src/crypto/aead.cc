// The crypto seam's registry (see aead.h) and grapevine::crypto_available (grapevine/crypto.h).
#include "crypto/aead.h"

#include <atomic>

#include "grapevine/crypto.h"

namespace grapevine {
namespace detail {
namespace {
// Constant-initialised: a provider's static initializer may run before any of core's.
constinit std::atomic<const Aead*> g_aead{nullptr};
}  // namespace

const Aead* aead() noexcept {
  return g_aead.load(std::memory_order_acquire);
}

const Aead* set_aead(const Aead* provider) noexcept {
  return g_aead.exchange(provider, std::memory_order_acq_rel);
}

}  // namespace detail

bool crypto_available() noexcept {
  return detail::aead() != nullptr;
}

const char* crypto_provider_name() noexcept {
  const detail::Aead* a = detail::aead();
  return a != nullptr ? a->name() : "none";
}

}  // namespace grapevine
