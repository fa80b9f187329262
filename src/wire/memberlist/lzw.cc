// Go-compatible LZW (LSB, literal width 8): see lzw.h. The compressor is a transcription of Go's
// compress/lzw writer (same hash table, same code-width and clear-code schedule) because the
// exact bit stream matters for byte-identical output; the decompressor follows Go's reader.
#include "wire/memberlist/lzw.h"

#include <array>
#include <cstdint>
#include <memory>

namespace grapevine::wire::ml {
namespace {

constexpr std::uint32_t kLitWidth = 8;
constexpr std::uint32_t kClear = 1u << kLitWidth;   // 256
constexpr std::uint32_t kEof = kClear + 1;          // 257
constexpr std::uint32_t kMaxCode = (1u << 12) - 1;  // 4095
constexpr std::uint32_t kMaxWidth = 12;
constexpr std::uint32_t kTableSize = 4 * (1u << 12);
constexpr std::uint32_t kTableMask = kTableSize - 1;
constexpr std::uint16_t kNoCode = 0xffff;

// Packs codes LSB first into `out`.
class BitWriter {
 public:
  explicit BitWriter(std::vector<std::byte>& out) : out_(out) {}
  void put(std::uint32_t code, std::uint32_t width) {
    bits_ |= code << n_bits_;
    n_bits_ += width;
    while (n_bits_ >= 8) {
      out_.push_back(std::byte(bits_ & 0xff));
      bits_ >>= 8;
      n_bits_ -= 8;
    }
  }
  void flush() {
    if (n_bits_ > 0) out_.push_back(std::byte(bits_ & 0xff));
    bits_ = 0;
    n_bits_ = 0;
  }

 private:
  std::vector<std::byte>& out_;
  std::uint32_t bits_ = 0;
  std::uint32_t n_bits_ = 0;
};

// Go's lzw.Writer state, minus the io plumbing.
class Compressor {
 public:
  explicit Compressor(std::vector<std::byte>& out)
      : bits_(out), table_(std::make_unique<std::uint32_t[]>(kTableSize)) {}

  void run(std::span<const std::byte> in) {
    bits_.put(kClear, width_);
    std::uint32_t code = std::to_integer<std::uint32_t>(in[0]);
    for (std::size_t i = 1; i < in.size(); ++i) code = step(code, in[i]);
    bits_.put(code, width_);
    inc_hi();
    bits_.put(kEof, width_);
    bits_.flush();
  }

 private:
  // One input byte: extends the current match or emits it and adds a dictionary entry.
  std::uint32_t step(std::uint32_t code, std::byte b) {
    const std::uint32_t literal = std::to_integer<std::uint32_t>(b);
    const std::uint32_t key = code << 8 | literal;
    std::uint32_t hash = ((key >> 12) ^ key) & kTableMask;
    for (std::uint32_t h = hash, t = table_[hash]; t != 0;
         h = (h + 1) & kTableMask, t = table_[h]) {
      if (key == t >> 12) return t & kMaxCode;
    }
    bits_.put(code, width_);
    if (inc_hi()) return literal;  // out of codes: the table was just cleared
    while (table_[hash] != 0) hash = (hash + 1) & kTableMask;
    table_[hash] = key << 12 | hi_;
    return literal;
  }

  // Returns true when the dictionary was full and has been reset (a clear code emitted).
  bool inc_hi() {
    ++hi_;
    if (hi_ == overflow_) {
      ++width_;
      overflow_ <<= 1;
    }
    if (hi_ != kMaxCode) return false;
    bits_.put(kClear, width_);
    width_ = kLitWidth + 1;
    hi_ = kEof;
    overflow_ = kClear << 1;
    std::fill(table_.get(), table_.get() + kTableSize, 0u);
    return true;
  }

  BitWriter bits_;
  std::unique_ptr<std::uint32_t[]> table_;  // 0 = empty; else key<<12 | code
  std::uint32_t width_ = kLitWidth + 1;
  std::uint32_t hi_ = kEof;
  std::uint32_t overflow_ = kClear << 1;
};

// Go's lzw.Reader state.
class Decompressor {
 public:
  Decompressor(std::span<const std::byte> in, std::vector<std::byte>& out, std::size_t max)
      : in_(in), out_(out), max_(max) {}

  Result<void> run() {
    for (;;) {
      std::uint32_t code = 0;
      if (!read_code(code)) return make_error(Errc::truncated, "LZW stream without EOF code");
      if (code == kEof) return {};
      if (code == kClear) {
        width_ = kLitWidth + 1;
        hi_ = kEof;
        overflow_ = 1u << width_;
        last_ = kNoCode;
        continue;
      }
      if (code > hi_) return make_error(Errc::malformed, "LZW code not in the dictionary");
      if (auto r = emit(code); !r) return r;
      advance(code);
    }
  }

 private:
  bool read_code(std::uint32_t& code) {
    while (n_bits_ < width_) {
      if (pos_ == in_.size()) return false;
      bits_ |= std::to_integer<std::uint32_t>(in_[pos_++]) << n_bits_;
      n_bits_ += 8;
    }
    code = bits_ & ((1u << width_) - 1);
    bits_ >>= width_;
    n_bits_ -= width_;
    return true;
  }

  // Appends the string for `code` and records the new entry (last's string + its first byte).
  Result<void> emit(std::uint32_t code) {
    std::size_t i = scratch_.size();
    std::uint32_t c = code;
    if (code == hi_ && last_ != kNoCode) {  // KwKwK: the entry being defined right now
      c = last_;
      while (c >= kClear) c = prefix_[c];
      scratch_[--i] = std::uint8_t(c);
      c = last_;
    }
    while (c >= kClear) {
      scratch_[--i] = suffix_[c];
      c = prefix_[c];
    }
    scratch_[--i] = std::uint8_t(c);
    const std::size_t n = scratch_.size() - i;
    if (out_.size() + n > max_) return make_error(Errc::too_large, "LZW output over its limit");
    const auto* p = reinterpret_cast<const std::byte*>(scratch_.data() + i);
    out_.insert(out_.end(), p, p + n);
    if (last_ != kNoCode) {
      suffix_[hi_] = std::uint8_t(c);
      prefix_[hi_] = std::uint16_t(last_);
    }
    return {};
  }

  void advance(std::uint32_t code) {
    last_ = code;
    ++hi_;
    if (hi_ < overflow_) return;
    if (width_ == kMaxWidth) {  // dictionary full: stop adding until a clear code
      last_ = kNoCode;
      --hi_;
    } else {
      ++width_;
      overflow_ = 1u << width_;
    }
  }

  std::span<const std::byte> in_;
  std::vector<std::byte>& out_;
  std::size_t max_;
  std::size_t pos_ = 0;
  std::uint32_t bits_ = 0;
  std::uint32_t n_bits_ = 0;
  std::uint32_t width_ = kLitWidth + 1;
  std::uint32_t hi_ = kEof;
  std::uint32_t overflow_ = 1u << (kLitWidth + 1);
  std::uint32_t last_ = kNoCode;
  // Entries' prefix chains strictly decrease (an entry's prefix was defined before it), so a
  // string is at most 4096 bytes; stale entries from before a clear keep that property.
  std::array<std::uint8_t, 1u << kMaxWidth> suffix_{};
  std::array<std::uint16_t, 1u << kMaxWidth> prefix_{};
  std::array<std::uint8_t, (1u << kMaxWidth) + 1> scratch_{};
};

}  // namespace

void lzw_compress(std::span<const std::byte> in, std::vector<std::byte>& out) {
  out.clear();
  out.reserve(in.size() / 2 + 16);
  if (in.empty()) {  // Go's Close with nothing written: clear, EOF
    BitWriter bits(out);
    bits.put(kClear, kLitWidth + 1);
    bits.put(kEof, kLitWidth + 1);
    bits.flush();
    return;
  }
  Compressor(out).run(in);
}

std::vector<std::byte> lzw_compress(std::span<const std::byte> in) {
  std::vector<std::byte> out;
  lzw_compress(in, out);
  return out;
}

Result<void> lzw_decompress(std::span<const std::byte> in, std::vector<std::byte>& out,
                            std::size_t max_bytes) {
  out.clear();
  auto d = std::make_unique<Decompressor>(in, out, max_bytes);  // 20 KiB of tables: not on stack
  return d->run();
}

}  // namespace grapevine::wire::ml
