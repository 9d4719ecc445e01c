#include "json5/unicode.h"

namespace autopilot::json5 {
namespace {

struct Range {
  char32_t first, last;
};

bool in(char32_t c, char32_t first, char32_t last) { return c >= first && c <= last; }

template <size_t N>
bool in_any(char32_t c, const Range (&ranges)[N]) {
  for (const Range& r : ranges)
    if (in(c, r.first, r.last)) return true;
  return false;
}

// Non-ASCII blocks holding no letters (see the header): controls, Latin-1
// punctuation and symbols, general punctuation, arrows to dingbats and other
// symbol blocks, CJK punctuation, surrogates, private use, specials, emoji.
constexpr Range kNotLetters[] = {
    {0x80, 0xa9},       {0xab, 0xb4},       {0xb6, 0xb9},       {0xbb, 0xbf},       {0xd7, 0xd7},
    {0xf7, 0xf7},       {0x2000, 0x206f},   {0x20a0, 0x20ff},   {0x2190, 0x2bff},   {0x2e00, 0x2e7f},
    {0x3000, 0x3004},   {0x3008, 0x3020},   {0x3030, 0x3030},   {0x303d, 0x303f},   {0xd800, 0xf8ff},
    {0xfe10, 0xfe1f},   {0xfe30, 0xfe4f},   {0xfeff, 0xfeff},   {0xfff0, 0xffff},   {0x1f000, 0x1faff},
    {0xf0000, 0x10ffff},
};

// Characters that may continue but not start a name: combining diacritical
// marks, ZWNJ, ZWJ and the connector punctuation outside ASCII.
constexpr Range kPartOnly[] = {
    {0x0300, 0x036f}, {0x200c, 0x200d}, {0x203f, 0x2040}, {0x2054, 0x2054},
    {0xfe33, 0xfe34}, {0xfe4d, 0xfe4f}, {0xff3f, 0xff3f},
};

bool is_ascii_letter(char32_t c) { return in(c, 'a', 'z') || in(c, 'A', 'Z'); }

// decode_utf8() without the replacement character on failure.
size_t decode_valid_utf8(std::string_view s, size_t i, char32_t& cp) {
  auto byte = [&](size_t k) -> unsigned { return static_cast<unsigned char>(s[i + k]); };
  unsigned b0 = byte(0);
  if (b0 < 0x80) return cp = b0, 1;
  size_t len;
  char32_t min;
  if (in(b0, 0xc2, 0xdf)) len = 2, cp = b0 & 0x1f, min = 0x80;
  else if (in(b0, 0xe0, 0xef)) len = 3, cp = b0 & 0x0f, min = 0x800;
  else if (in(b0, 0xf0, 0xf4)) len = 4, cp = b0 & 0x07, min = 0x10000;
  else return 0;
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (byte(k) & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || in(cp, 0xd800, 0xdfff)) return 0;
  return len;
}

}  // namespace

size_t decode_utf8(std::string_view s, size_t i, char32_t& cp) {
  size_t len = decode_valid_utf8(s, i, cp);
  if (len == 0) cp = 0xfffd;
  return len;
}

bool is_line_terminator(char32_t c) { return c == '\n' || c == '\r' || c == 0x2028 || c == 0x2029; }

bool is_whitespace(char32_t c) {
  switch (c) {
    case '\t': case '\n': case '\v': case '\f': case '\r': case ' ':
    case 0xa0: case 0x1680: case 0x2028: case 0x2029: case 0x202f: case 0x205f: case 0x3000: case 0xfeff:
      return true;
    default:
      return in(c, 0x2000, 0x200a);
  }
}

bool is_identifier_start(char32_t c) {
  if (c < 0x80) return is_ascii_letter(c) || c == '$' || c == '_';
  if (c > 0x10ffff) return false;
  return !in_any(c, kNotLetters) && !in_any(c, kPartOnly);
}

bool is_identifier_part(char32_t c) {
  if (c < 0x80) return is_ascii_letter(c) || in(c, '0', '9') || c == '$' || c == '_';
  return is_identifier_start(c) || in_any(c, kPartOnly);
}

}  // namespace autopilot::json5
