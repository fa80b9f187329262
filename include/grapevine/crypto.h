// Whether this program can encrypt: grapevine's encryption (the native seal and the memberlist
// dialect's AES-GCM, MembershipConfig::memberlist.keys) lives in its own target so that
// grapevine::core stays standard-library-only.
//
//   grapevine::core     protocols and wire formats; no OpenSSL. Keys are refused without a
//                       crypto provider (validate: invalid_argument "encryption needs
//                       grapevine::crypto ...").
//   grapevine::crypto   the provider, on OpenSSL's libcrypto; linking it is enough (it registers
//                       itself before main). grapevine::io and grapevine::sim link it.
//
// Standard library only.
#pragma once

namespace grapevine {

/// True when a crypto provider is linked in (grapevine::crypto): nodes may then be given keys.
/// Thread-safe.
bool crypto_available() noexcept;

/// The provider's name ("openssl"), or "none". Thread-safe; a static string.
const char* crypto_provider_name() noexcept;

}  // namespace grapevine
