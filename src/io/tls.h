// Mutual TLS for the runtime's streams (RuntimeOptions::tls, docs/security.md), on OpenSSL.
//
// TlsContext is one SSL_CTX per runtime: TLS 1.3 only, our certificate chain and key, the CA
// every peer certificate must chain to, a peer certificate required in both directions, no
// session tickets or resumption (every stream is a full handshake), and a 64 KiB cap on the
// certificate list a peer may send. TlsStream runs one connection's SSL directly on its
// non-blocking socket (SSL_set_fd): the handshake, then reads and writes that return `want`
// where the socket would block, with wants_write() telling the loop which readiness to wait for.
//
// OpenSSL parses every byte of the handshake and records; our only parsing of certificate
// content is reading the names OpenSSL decoded (DNS subjectAltNames, else the subject CN) and
// comparing them byte for byte with a member name: no wildcards, no case folding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "grapevine/runtime.h"

struct ssl_ctx_st;
struct ssl_st;

namespace grapevine::io {

/// Why a TLS stream was refused (IoStats::tls_failed_*).
enum class TlsFailure : std::uint8_t { none, handshake, certificate, name, timeout };
const char* tls_failure_name(TlsFailure f) noexcept;

class TlsContext {
 public:
  /// Loads `o`; nullptr with `error` set to one line naming the file or what is wrong.
  static std::unique_ptr<TlsContext> load(const TlsOptions& o, std::string& error);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;
  [[nodiscard]] ssl_ctx_st* get() const noexcept { return ctx_; }

 private:
  explicit TlsContext(ssl_ctx_st* ctx) : ctx_(ctx) {}
  ssl_ctx_st* ctx_;
};

class TlsStream {
 public:
  enum class Io { ok, want, eof, failed };
  /// `fd` stays owned by the caller and must outlive this object. `expect_name` (client side,
  /// may be empty = any certified name): the member name the peer certificate must carry.
  TlsStream(const TlsContext& ctx, int fd, bool server, std::string expect_name);
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  [[nodiscard]] bool established() const noexcept { return established_; }
  /// Advances the handshake: ok (established, names read and checked), want, or failed.
  Io handshake();
  /// Reads up to `len` plaintext bytes into `buf`: ok with `got` > 0, want, eof, or failed.
  Io read(void* buf, std::size_t len, std::size_t& got);
  /// Writes up to `len` bytes: ok with `put` > 0, want, or failed.
  Io write(const void* buf, std::size_t len, std::size_t& put);
  /// After `want`: the socket must become writable (else readable).
  [[nodiscard]] bool wants_write() const noexcept { return want_write_; }
  [[nodiscard]] TlsFailure failure() const noexcept { return failure_; }
  /// OpenSSL's reason for the failure ("certificate verify failed", ...), for the log.
  [[nodiscard]] const std::string& failure_detail() const noexcept { return detail_; }
  /// The peer certificate's names (after the handshake).
  [[nodiscard]] const std::vector<std::string>& peer_names() const noexcept { return names_; }

 private:
  Io fail(TlsFailure why, int ssl_error);
  Io status(int ret, TlsFailure on_error);

  ssl_st* ssl_;
  std::string expect_;
  std::vector<std::string> names_;
  std::string detail_;
  bool established_ = false;
  bool want_write_ = false;
  TlsFailure failure_ = TlsFailure::none;
};

/// Adds one to the IoStats::tls_failed_* counter of `why`.
void count_tls_failure(IoStats& io, TlsFailure why) noexcept;
/// The name of the member `m` lists at `to` (what an outbound stream's peer certificate must
/// carry), or "" when no member has that address (a seed being joined: any certified name).
std::string member_name_at(const Membership& m, const Address& to);

/// A refused TLS stream's log line, at most once per peer IP per TlsOptions::log_interval;
/// remembers at most kPeersMax peers (then starts afresh).
class TlsLog {
 public:
  explicit TlsLog(const TlsOptions& o) : log_(o.log), interval_(o.log_interval) {}
  void refused(Time now, const Address& peer, bool inbound, TlsFailure why,
               std::string_view detail);

 private:
  static constexpr std::size_t kPeersMax = 4096;
  std::function<void(const std::string&)> log_;
  Duration interval_;
  std::map<std::string, Time> last_;
};

}  // namespace grapevine::io
