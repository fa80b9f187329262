// `grapevine agent`'s mutual TLS flags (--tls-cert, --tls-key, --tls-ca) over the TOML keys
// (tls_cert, tls_key, tls_ca): all three or none, each file readable and parseable, checked
// before the agent starts (docs/security.md).
#pragma once

#include <string>

#include "agent_config.h"
#include "commands.h"

namespace grapevine::tools {

struct TlsFlags {
  std::string cert, key, ca;
};

/// Registers --tls-cert, --tls-key, --tls-ca on `cmd`; `f` must outlive the parse.
void add_tls_flags(CLI::App& cmd, TlsFlags& f);
/// The flags over the TOML file's values, then the check (check_tls_options): throws
/// UsageError naming the missing flag or the unreadable file. Sets the refusal log (spdlog).
void apply_tls_flags(const TlsFlags& f, AgentConfig& c);

}  // namespace grapevine::tools
