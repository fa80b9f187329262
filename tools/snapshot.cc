#include "snapshot.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>

namespace grapevine::tools {
namespace {

// Applies one line; false when it is malformed.
bool apply_line(std::string_view line, SnapshotState& s) {
  if (line.size() > kSnapshotLineBytesMax) return false;
  if (line == "leave") {
    s.alive.clear();
    s.left = true;
    return true;
  }
  if (line == "grapevine-snapshot 1") return true;
  const auto tab = line.find('\t');
  if (tab == std::string_view::npos) return false;
  const std::string_view kind = line.substr(0, tab), rest = line.substr(tab + 1);
  if (kind == "alive") {
    const auto t2 = rest.rfind('\t');
    if (t2 == std::string_view::npos || t2 == 0) return false;
    auto addr = Address::parse(std::string(rest.substr(t2 + 1)));
    if (!addr) return false;
    s.alive.insert_or_assign(std::string(rest.substr(0, t2)), *addr);
    s.left = false;
    return true;
  }
  if (kind == "not-alive") {
    if (rest.empty()) return false;
    s.alive.erase(std::string(rest));
    return true;
  }
  if (kind == "event-clock") {
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), v);
    if (ec != std::errc() || p != rest.data() + rest.size() || rest.empty()) return false;
    if (v > s.event_clock) s.event_clock = v;
    return true;
  }
  return false;
}

}  // namespace

SnapshotState parse_snapshot(std::string_view text) {
  SnapshotState s;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto nl = text.find('\n', start);
    if (nl == std::string_view::npos) {  // a truncated last line (crash mid-write)
      ++s.bad_lines;
      break;
    }
    ++s.lines;
    if (!apply_line(text.substr(start, nl - start), s)) ++s.bad_lines;
    start = nl + 1;
  }
  return s;
}

std::unique_ptr<Snapshotter> Snapshotter::open(const std::string& path,
                                               const std::string& self_name,
                                               SnapshotState& restored, std::string& error) {
  std::string text;
  if (std::FILE* in = std::fopen(path.c_str(), "rb")) {
    char buf[65536];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, in)) > 0 && text.size() < (64u << 20)) {
      text.append(buf, n);
    }
    std::fclose(in);
  } else if (errno != ENOENT) {
    error = path + ": " + std::strerror(errno);
    return nullptr;
  }
  restored = parse_snapshot(text);
  restored.alive.erase(self_name);
  if (restored.bad_lines > 0) {
    spdlog::warn("snapshot {}: {} malformed or truncated line(s) of {} skipped; continuing with "
                 "what parsed",
                 path, restored.bad_lines, restored.lines);
  }
  std::FILE* f = std::fopen(path.c_str(), "ab");
  if (f == nullptr) {
    error = path + ": " + std::strerror(errno);
    return nullptr;
  }
  std::unique_ptr<Snapshotter> s(new Snapshotter(path, self_name, restored, f));
  s->compact();  // start from a clean file: drops the bad lines and the history
  return s;
}

Snapshotter::Snapshotter(std::string path, std::string self, SnapshotState state, std::FILE* f)
    : path_(std::move(path)), self_(std::move(self)), state_(std::move(state)), file_(f) {}

Snapshotter::~Snapshotter() {
  if (file_) std::fclose(file_);
}

void Snapshotter::append(const std::string& line) {
  if (file_ == nullptr) return;
  std::fputs(line.c_str(), file_);
  std::fputc('\n', file_);
  std::fflush(file_);
  appended_ += line.size() + 1;
  if (appended_ > kSnapshotCompactBytes) compact();
}

void Snapshotter::alive(const std::string& name, const Address& addr) {
  if (name == self_ || name.find_first_of("\t\n") != std::string::npos) return;
  auto it = state_.alive.find(name);
  if (it != state_.alive.end() && it->second == addr) return;
  state_.alive.insert_or_assign(name, addr);
  state_.left = false;
  append("alive\t" + name + "\t" + addr.to_string());
}

void Snapshotter::not_alive(const std::string& name) {
  if (state_.alive.erase(name) == 0) return;
  append("not-alive\t" + name);
}

void Snapshotter::event_clock(std::uint64_t ltime) {
  if (ltime <= state_.event_clock) return;
  state_.event_clock = ltime;
  append("event-clock\t" + std::to_string(ltime));
}

void Snapshotter::leave() {
  state_.alive.clear();
  state_.left = true;
  append("leave");
  if (file_) fsync(fileno(file_));
}

void Snapshotter::compact() {
  const std::string tmp = path_ + ".compact";
  std::FILE* out = std::fopen(tmp.c_str(), "wb");
  if (out == nullptr) {
    spdlog::warn("snapshot {}: cannot compact ({})", path_, std::strerror(errno));
    appended_ = 0;
    return;
  }
  std::string text = "grapevine-snapshot 1\n";
  for (const auto& [name, addr] : state_.alive) text += "alive\t" + name + "\t" + addr.to_string() + "\n";
  if (state_.event_clock > 0) text += "event-clock\t" + std::to_string(state_.event_clock) + "\n";
  if (state_.left) text += "leave\n";
  const bool ok = std::fwrite(text.data(), 1, text.size(), out) == text.size() &&
                  std::fflush(out) == 0 && fsync(fileno(out)) == 0;
  std::fclose(out);
  if (!ok || std::rename(tmp.c_str(), path_.c_str()) != 0) {
    spdlog::warn("snapshot {}: compaction failed ({})", path_, std::strerror(errno));
    std::remove(tmp.c_str());
    appended_ = 0;
    return;
  }
  if (file_) std::fclose(file_);
  file_ = std::fopen(path_.c_str(), "ab");
  appended_ = 0;
  ++compactions_;
}

}  // namespace grapevine::tools
