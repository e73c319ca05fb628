// Text in shared memory that another process may read while it is written (scoreboard records,
// MCP server names of the metrics).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/utf8.hpp"

namespace chatd::scoreboard {

// Text kept in relaxed atomic words, so it can be read while another process writes it (a
// torn read is caught by the record's sequence counter). Longer text is cut at a UTF-8
// character boundary.
template <size_t N>
class AtomicText {
  static_assert(N % 8 == 0 && N > 0);

 public:
  void store(std::string_view text) {
    text = base::utf8_prefix(text, N);
    size_t length = text.size();
    for (size_t w = 0; w < N / 8; ++w) {
      uint64_t word = 0;
      for (size_t b = 0; b < 8; ++b) {
        size_t i = w * 8 + b;
        if (i < length) word |= uint64_t{static_cast<unsigned char>(text[i])} << (8 * b);
      }
      words_[w].store(word, std::memory_order_relaxed);
    }
  }
  std::string load() const {
    std::string out;
    for (size_t w = 0; w < N / 8; ++w) {
      uint64_t word = words_[w].load(std::memory_order_relaxed);
      for (size_t b = 0; b < 8; ++b) {
        char c = static_cast<char>((word >> (8 * b)) & 0xFF);
        if (c == '\0') return out;
        out += c;
      }
    }
    return out;
  }

 private:
  std::array<std::atomic<uint64_t>, N / 8> words_{};
};

}  // namespace chatd::scoreboard
