#include "agent_tls.h"

#include <spdlog/spdlog.h>

#include "options.h"

namespace grapevine::tools {

void add_tls_flags(CLI::App& cmd, TlsFlags& f) {
  cmd.add_option("--tls-cert", f.cert,
                 "mutual TLS for streams: this member's certificate chain (PEM); its DNS "
                 "subjectAltName (or CN) must be the member's --name. Needs --tls-key and "
                 "--tls-ca; TLS 1.3 only. Datagrams are not covered: seal them with --encrypt");
  cmd.add_option("--tls-key", f.key, "mutual TLS: the certificate's private key (PEM, unencrypted)");
  cmd.add_option("--tls-ca", f.ca,
                 "mutual TLS: CA certificate(s) (PEM) every peer's certificate must chain to");
}

void apply_tls_flags(const TlsFlags& f, AgentConfig& c) {
  TlsOptions& t = c.runtime.tls;
  if (!f.cert.empty()) t.cert_file = f.cert;
  if (!f.key.empty()) t.key_file = f.key;
  if (!f.ca.empty()) t.ca_file = f.ca;
  if (!t.enabled()) return;
  const char* missing = t.cert_file.empty()  ? "--tls-cert (tls_cert)"
                        : t.key_file.empty() ? "--tls-key (tls_key)"
                        : t.ca_file.empty()  ? "--tls-ca (tls_ca)"
                                             : nullptr;
  if (missing != nullptr) {
    throw UsageError(std::string("mutual TLS needs --tls-cert, --tls-key and --tls-ca together; ") +
                     missing + " is missing");
  }
  if (auto err = check_tls_options(t); !err.empty()) throw UsageError(err);
  t.log = [](const std::string& line) { spdlog::warn("{}", line); };
}

}  // namespace grapevine::tools
