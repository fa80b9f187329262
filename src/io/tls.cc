#include "io/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>

namespace grapevine::io {
namespace {

constexpr long kCertListBytesMax = 64 * 1024;  // a peer's certificate chain, as sent
constexpr std::size_t kNamesMax = 64;          // names read from one certificate
constexpr std::size_t kNameBytesMax = 255;     // as wire::kNameBytesMax

std::string ossl_reason() {
  const unsigned long e = ERR_peek_last_error();
  const char* r = e != 0 ? ERR_reason_error_string(e) : nullptr;
  ERR_clear_error();
  return r != nullptr ? r : "unknown error";
}

// "" if `path` can be opened for reading, else the line naming it.
std::string unreadable(const char* what, const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    return std::string("cannot read TLS ") + what + " file '" + path + "': " + std::strerror(errno);
  }
  std::fclose(f);
  return {};
}

void add_name(std::vector<std::string>& out, const unsigned char* p, int len) {
  if (p == nullptr || len <= 0 || std::size_t(len) > kNameBytesMax || out.size() >= kNamesMax) {
    return;
  }
  out.emplace_back(reinterpret_cast<const char*>(p), std::size_t(len));
}

// DNS subjectAltNames; only when there are none, the subject's common name(s).
std::vector<std::string> certificate_names(X509* cert) {
  std::vector<std::string> out;
  auto* sans = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (sans != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* g = sk_GENERAL_NAME_value(sans, i);
      if (g->type != GEN_DNS) continue;
      add_name(out, ASN1_STRING_get0_data(g->d.dNSName), ASN1_STRING_length(g->d.dNSName));
    }
    GENERAL_NAMES_free(sans);
  }
  if (!out.empty()) return out;
  X509_NAME* subject = X509_get_subject_name(cert);
  for (int i = -1; (i = X509_NAME_get_index_by_NID(subject, NID_commonName, i)) >= 0;) {
    unsigned char* utf8 = nullptr;
    const int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(
                                                   X509_NAME_get_entry(subject, i)));
    if (len >= 0) add_name(out, utf8, len);
    OPENSSL_free(utf8);
  }
  return out;
}

int no_passphrase(char*, int, int, void*) { return 0; }  // never prompt on a terminal

// The peer's alert says it refused a certificate (ours): a certificate failure, not a protocol
// one (a member of another CA sees our certificate first and refuses it).
bool certificate_alert(unsigned long err) {
  switch (ERR_GET_REASON(err)) {
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
    case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
      return true;
    default:
      return false;
  }
}

}  // namespace

const char* tls_failure_name(TlsFailure f) noexcept {
  switch (f) {
    case TlsFailure::none: return "none";
    case TlsFailure::handshake: return "handshake";
    case TlsFailure::certificate: return "certificate";
    case TlsFailure::name: return "name";
    case TlsFailure::timeout: return "timeout";
  }
  return "?";
}

std::unique_ptr<TlsContext> TlsContext::load(const TlsOptions& o, std::string& error) {
  if (o.cert_file.empty() || o.key_file.empty() || o.ca_file.empty()) {
    error = "TLS needs all three of the certificate, key and CA files (or none)";
    return nullptr;
  }
  for (auto [what, path] : {std::pair{"certificate", &o.cert_file}, std::pair{"key", &o.key_file},
                            std::pair{"CA", &o.ca_file}}) {
    if (error = unreadable(what, *path); !error.empty()) return nullptr;
  }
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_method());
  if (ctx == nullptr) {
    error = "TLS: cannot create a context: " + ossl_reason();
    return nullptr;
  }
  std::unique_ptr<TlsContext> out(new TlsContext(ctx));
  SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
  if (SSL_CTX_use_certificate_chain_file(ctx, o.cert_file.c_str()) != 1) {
    error = "TLS certificate file '" + o.cert_file + "': " + ossl_reason();
  } else if (SSL_CTX_use_PrivateKey_file(ctx, o.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    const bool mismatch = ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
    error = "TLS key file '" + o.key_file + "': " +
            (mismatch ? "does not match the certificate '" + o.cert_file + "'"
                      : ossl_reason() + " (an unencrypted PEM key is needed)");
    ERR_clear_error();
  } else if (SSL_CTX_check_private_key(ctx) != 1) {
    error = "TLS key file '" + o.key_file + "' does not match the certificate '" + o.cert_file +
            "'";
  } else if (SSL_CTX_load_verify_locations(ctx, o.ca_file.c_str(), nullptr) != 1) {
    error = "TLS CA file '" + o.ca_file + "': " + ossl_reason();
  }
  if (!error.empty()) return nullptr;
  SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  SSL_CTX_set_verify_depth(ctx, 8);
  SSL_CTX_set_max_cert_list(ctx, kCertListBytesMax);
  SSL_CTX_set_num_tickets(ctx, 0);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
  return out;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

TlsStream::TlsStream(const TlsContext& ctx, int fd, bool server, std::string expect_name)
    : ssl_(SSL_new(ctx.get())), expect_(std::move(expect_name)) {
  if (ssl_ == nullptr) return;  // handshake() fails
  SSL_set_fd(ssl_, fd);
  if (server) SSL_set_accept_state(ssl_);
  else SSL_set_connect_state(ssl_);
}

TlsStream::~TlsStream() {
  if (ssl_ == nullptr) return;
  if (established_) {
    ERR_clear_error();
    SSL_shutdown(ssl_);  // close_notify, best effort (the socket is non-blocking)
  }
  ERR_clear_error();
  SSL_free(ssl_);
}

TlsStream::Io TlsStream::fail(TlsFailure why, int ssl_error) {
  failure_ = why;
  if (detail_.empty()) {
    detail_ = ssl_error == SSL_ERROR_SYSCALL ? std::string("connection closed or reset")
                                             : ossl_reason();
  }
  ERR_clear_error();
  return Io::failed;
}

TlsStream::Io TlsStream::handshake() {
  if (ssl_ == nullptr) return fail(TlsFailure::handshake, SSL_ERROR_SSL);
  ERR_clear_error();
  const int r = SSL_do_handshake(ssl_);
  if (r != 1) {
    const int e = SSL_get_error(ssl_, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
      want_write_ = e == SSL_ERROR_WANT_WRITE;
      return Io::want;
    }
    const long verify = SSL_get_verify_result(ssl_);
    const unsigned long err = ERR_peek_last_error();
    if (verify != X509_V_OK) {
      detail_ = X509_verify_cert_error_string(verify);
      return fail(TlsFailure::certificate, e);
    }
    if (certificate_alert(err)) return fail(TlsFailure::certificate, e);
    return fail(TlsFailure::handshake, e);
  }
  want_write_ = false;
  X509* peer = SSL_get1_peer_certificate(ssl_);
  if (peer == nullptr) return fail(TlsFailure::certificate, SSL_ERROR_SSL);  // verify requires one
  names_ = certificate_names(peer);
  X509_free(peer);
  if (!expect_.empty() && std::find(names_.begin(), names_.end(), expect_) == names_.end()) {
    detail_ = "certificate " + (names_.empty() ? std::string("has no name") :
                                "names '" + names_.front() + "'") +
              ", the member is '" + expect_ + "'";
    return fail(TlsFailure::name, SSL_ERROR_SSL);
  }
  established_ = true;
  return Io::ok;
}

TlsStream::Io TlsStream::status(int ret, TlsFailure on_error) {
  const int e = SSL_get_error(ssl_, ret);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
    want_write_ = e == SSL_ERROR_WANT_WRITE;
    return Io::want;
  }
  if (e == SSL_ERROR_ZERO_RETURN) return Io::eof;
  if (e == SSL_ERROR_SSL) {  // an alert: the peer refused us
    return fail(certificate_alert(ERR_peek_last_error()) ? TlsFailure::certificate : on_error, e);
  }
  ERR_clear_error();
  return Io::failed;  // reset: an ordinary stream error
}

TlsStream::Io TlsStream::read(void* buf, std::size_t len, std::size_t& got) {
  ERR_clear_error();
  const int r = SSL_read(ssl_, buf, int(std::min<std::size_t>(len, INT_MAX)));
  if (r > 0) {
    got = std::size_t(r);
    return Io::ok;
  }
  return status(r, TlsFailure::handshake);
}

TlsStream::Io TlsStream::write(const void* buf, std::size_t len, std::size_t& put) {
  ERR_clear_error();
  const int r = SSL_write(ssl_, buf, int(std::min<std::size_t>(len, INT_MAX)));
  if (r > 0) {
    put = std::size_t(r);
    return Io::ok;
  }
  return status(r, TlsFailure::handshake);
}

void count_tls_failure(IoStats& io, TlsFailure why) noexcept {
  switch (why) {
    case TlsFailure::handshake: ++io.tls_failed_handshake; break;
    case TlsFailure::certificate: ++io.tls_failed_certificate; break;
    case TlsFailure::name: ++io.tls_failed_name; break;
    case TlsFailure::timeout: ++io.tls_failed_timeout; break;
    case TlsFailure::none: break;
  }
}

std::string member_name_at(const Membership& m, const Address& to) {
  for (const MemberInfo& info : m.members()) {
    if (info.address == to) return info.name;
  }
  return {};
}

void TlsLog::refused(Time now, const Address& peer, bool inbound, TlsFailure why,
                     std::string_view detail) {
  if (!log_) return;
  Address ip = peer;
  ip.port = 0;
  const std::string key = ip.to_string();
  auto it = last_.find(key);
  if (it != last_.end() && now - it->second < interval_) return;
  if (it == last_.end() && last_.size() >= kPeersMax) last_.clear();
  last_[key] = now;
  log_(std::string("tls: refused ") + (inbound ? "inbound stream from " : "stream to ") +
       peer.to_string() + ": " + tls_failure_name(why) + " (" + std::string(detail) +
       "); more from this address are counted, logged again after " +
       std::to_string(interval_.ms() / 1000) + " s");
}

}  // namespace grapevine::io

namespace grapevine {

std::string check_tls_options(const TlsOptions& tls) {
  if (!tls.enabled()) return {};
  std::string error;
  auto ctx = io::TlsContext::load(tls, error);
  return ctx ? std::string() : error;
}

}  // namespace grapevine
