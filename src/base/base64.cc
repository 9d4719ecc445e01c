// Base64 (RFC 4648 standard alphabet, with padding), as Go's
// encoding/base64 StdEncoding reads and writes it.
#include "base/base64.h"

#include <algorithm>
#include <array>
#include <cstdint>

namespace autopilot {
namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_value(char c) {
  size_t at = kAlphabet.find(c);
  return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

bool is_newline(char c) { return c == '\n' || c == '\r'; }

Error corrupt(size_t at) { return make_error("illegal base64 data at input byte " + std::to_string(at)); }

}  // namespace

std::string base64_encode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  for (size_t i = 0; i < data.size(); i += 3) {
    size_t n = std::min<size_t>(3, data.size() - i);
    uint32_t v = 0;
    for (size_t k = 0; k < 3; ++k) v = v << 8 | (k < n ? static_cast<unsigned char>(data[i + k]) : 0u);
    for (size_t k = 0; k < 4; ++k) out += k <= n ? kAlphabet[(v >> (18 - 6 * k)) & 0x3F] : '=';
  }
  return out;
}

// Go's decodeQuantum loop: four symbols at a time, newlines skipped,
// padding only in the last quantum and nothing but newlines after it.
Result<std::string> base64_decode(std::string_view src) {
  std::string out;
  size_t si = 0;
  for (;;) {
    std::array<uint32_t, 4> sym{};
    size_t len = 4;
    bool last = false;
    for (size_t j = 0; j < 4 && !last; ++j) {
      if (si == src.size()) {
        if (j == 0) return out;
        return corrupt(si - j);  // a short quantum: padding is required
      }
      char in = src[si++];
      if (int v = base64_value(in); v >= 0) {
        sym[j] = static_cast<uint32_t>(v);
        continue;
      }
      if (is_newline(in)) {
        --j;
        continue;
      }
      if (in != '=' || j < 2) return corrupt(si - 1);
      if (j == 2) {  // "==" expected
        while (si < src.size() && is_newline(src[si])) ++si;
        if (si == src.size()) return corrupt(src.size());
        if (src[si] != '=') return corrupt(si - 1);
        ++si;
      }
      while (si < src.size() && is_newline(src[si])) ++si;
      if (si < src.size()) return corrupt(si);  // data after the padding
      len = j;
      last = true;
    }
    uint32_t v = sym[0] << 18 | sym[1] << 12 | sym[2] << 6 | sym[3];
    for (size_t k = 0; k + 1 < len; ++k) out += static_cast<char>((v >> (16 - 8 * k)) & 0xFF);
    if (last) return out;
  }
}

}  // namespace autopilot
