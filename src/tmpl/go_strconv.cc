// strconv-compatible number and quote formatting (Go 1.19).
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "base/utf8.h"
#include "tmpl/go_format.h"

namespace autopilot::tmpl::gofmt {
namespace {

// A decimal digit string d with the decimal point dp digits from its start.
struct Decimal {
  std::string d;
  int dp = 0;
};

void strip_zeros(Decimal& dec) {
  while (!dec.d.empty() && dec.d.back() == '0') dec.d.pop_back();
  if (dec.d.empty()) dec.dp = 0;
}

// Parses "d.ddde+XX" as printed by to_chars or %e.
Decimal from_scientific(const char* s) {
  Decimal dec;
  const char* p = s;
  for (; *p && *p != 'e'; ++p)
    if (*p >= '0' && *p <= '9') dec.d += *p;
  int exp = *p == 'e' ? std::atoi(p + 1) : 0;
  dec.dp = exp + 1;
  strip_zeros(dec);
  return dec;
}

Decimal shortest_digits(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf - 1, v, std::chars_format::scientific);
  *r.ptr = 0;
  return from_scientific(buf);
}

Decimal rounded_digits(double v, int digits) {
  std::string buf(digits + 32, '\0');
  std::snprintf(buf.data(), buf.size(), "%.*e", digits - 1, v);
  return from_scientific(buf.c_str());
}

void fmt_e(std::string& out, const Decimal& d, int prec, char e) {
  out += d.d.empty() ? '0' : d.d[0];
  if (prec > 0) {
    out += '.';
    int i = 1;
    int m = std::min<int>(d.d.size(), prec + 1);
    if (i < m) out.append(d.d, i, m - i), i = m;
    for (; i <= prec; ++i) out += '0';
  }
  out += e;
  int exp = d.d.empty() ? 0 : d.dp - 1;
  out += exp < 0 ? '-' : '+';
  exp = std::abs(exp);
  if (exp < 10) out += '0';
  out += std::to_string(exp);
}

void fmt_f(std::string& out, const Decimal& d, int prec) {
  if (d.dp > 0) {
    int m = std::min<int>(d.d.size(), d.dp);
    out.append(d.d, 0, m);
    for (; m < d.dp; ++m) out += '0';
  } else {
    out += '0';
  }
  if (prec > 0) {
    out += '.';
    for (int i = 0; i < prec; ++i) {
      int j = d.dp + i;
      out += (j >= 0 && j < static_cast<int>(d.d.size())) ? d.d[j] : '0';
    }
  }
}

std::string hex_float(double v, char verb, int prec) {
  char buf[64];
  if (prec >= 0)
    std::snprintf(buf, sizeof buf, verb == 'X' ? "%.*A" : "%.*a", prec, v);
  else
    std::snprintf(buf, sizeof buf, verb == 'X' ? "%A" : "%a", v);
  std::string s = buf;
  // Rounding can carry into a leading 2 (0x2p+02); Go renormalizes to 0x1p+03.
  size_t lead = s.find_first_of("xX") + 1;
  if (s[lead] == '2') {
    s[lead] = '1';
    size_t p = s.find_first_of("pP");
    int exp = std::atoi(s.c_str() + p + 1) + 1;
    s = s.substr(0, p + 1) + (exp < 0 ? "-" : "+") + std::to_string(std::abs(exp));
  }
  // Go prints at least two exponent digits: 0x1.8p+01.
  size_t p = s.find_first_of("pP");
  if (p != std::string::npos && p + 2 < s.size() + 1 && s.size() - (p + 2) == 1) s.insert(p + 2, "0");
  return s;
}

// strconv's 'b' format: mantissa "p" binary exponent, e.g. 4503599627370496p-52.
std::string binary_float(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  int64_t exp = static_cast<int64_t>((bits >> 52) & 0x7FF);
  uint64_t mant = bits & ((uint64_t{1} << 52) - 1);
  if (exp == 0)
    exp = 1;
  else
    mant |= uint64_t{1} << 52;
  exp += -1023 - 52;
  std::string out = (bits >> 63) ? "-" : "";
  out += std::to_string(mant) + "p" + (exp >= 0 ? "+" : "") + std::to_string(exp);
  return out;
}

}  // namespace

std::string format_float(double v, char verb, int prec) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (verb == 'x' || verb == 'X') return hex_float(v, verb, prec);
  if (verb == 'b') return binary_float(v);
  std::string out;
  if (std::signbit(v)) out += '-';
  double a = std::fabs(v);
  bool shortest = prec < 0;
  if (verb == 'f' || verb == 'F') {
    if (shortest) {
      Decimal d = shortest_digits(a);
      fmt_f(out, d, std::max<int>(d.d.size() - d.dp, 0));
      return out;
    }
    std::string buf(prec + 340, '\0');
    int n = std::snprintf(buf.data(), buf.size(), "%.*f", prec, a);
    out.append(buf.data(), n);
    return out;
  }
  char e = (verb == 'E' || verb == 'G') ? 'E' : 'e';
  bool is_g = verb == 'g' || verb == 'G';
  Decimal d;
  if (shortest) {
    d = shortest_digits(a);
    prec = is_g ? static_cast<int>(d.d.size()) : static_cast<int>(d.d.size()) - 1;
  } else {
    if (is_g && prec == 0) prec = 1;
    d = rounded_digits(a, is_g ? prec : prec + 1);
  }
  if (a == 0) d = Decimal{};
  if (!is_g) {
    fmt_e(out, d, std::max(prec, 0), e);
    return out;
  }
  int nd = static_cast<int>(d.d.size());
  int eprec = prec;
  if (eprec > nd && nd >= d.dp) eprec = nd;
  if (shortest) eprec = 6;
  int exp = d.dp - 1;
  if (exp < -4 || exp >= eprec) {
    if (prec > nd) prec = nd;
    fmt_e(out, d, prec - 1, e);
    return out;
  }
  if (prec > d.dp) prec = nd;
  fmt_f(out, d, std::max(prec - d.dp, 0));
  return out;
}

size_t rune_count(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++n) {
    unsigned char c = s[i];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    bool ok = i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    i += ok ? len : 1;
  }
  return n;
}

void append_rune(std::string& out, int64_t r) {
  if (r < 0 || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) r = 0xFFFD;
  append_utf8(out, static_cast<char32_t>(r));
}

namespace {

// Decodes one rune at s[i]; returns -1 for an invalid byte (consumes 1).
int32_t decode_rune(std::string_view s, size_t& i) {
  unsigned char c = s[i];
  if (c < 0x80) return ++i, c;
  int len = (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (len == 0 || i + len > s.size()) return ++i, -1;
  int32_t r = c & (0x7F >> len);
  for (int k = 1; k < len; ++k) {
    unsigned char cc = s[i + k];
    if ((cc & 0xC0) != 0x80) return ++i, -1;
    r = (r << 6) | (cc & 0x3F);
  }
  static constexpr int32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (r < kMin[len] || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) return ++i, -1;
  i += len;
  return r;
}

void append_escaped(std::string& out, int32_t r, char quote, bool ascii_only) {
  static const char* kHex = "0123456789abcdef";
  if (r == quote || r == '\\') {
    out += '\\';
    out += static_cast<char>(r);
    return;
  }
  if (ascii_only ? (r < 0x7F && is_print(r)) : is_print(r)) {
    append_rune(out, r);
    return;
  }
  switch (r) {
    case '\a':
      out += "\\a";
      return;
    case '\b':
      out += "\\b";
      return;
    case '\f':
      out += "\\f";
      return;
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    case '\v':
      out += "\\v";
      return;
  }
  if (r < ' ' || r == 0x7F) {
    out += "\\x";
    out += kHex[(r >> 4) & 0xF];
    out += kHex[r & 0xF];
    return;
  }
  bool small = r < 0x10000;
  out += small ? "\\u" : "\\U";
  for (int shift = small ? 12 : 28; shift >= 0; shift -= 4) out += kHex[(r >> shift) & 0xF];
}

}  // namespace

void append_quoted(std::string& out, std::string_view s, bool ascii_only) {
  static const char* kHex = "0123456789abcdef";
  out += '"';
  for (size_t i = 0; i < s.size();) {
    size_t start = i;
    int32_t r = decode_rune(s, i);
    if (r < 0) {
      unsigned char c = s[start];
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
      continue;
    }
    append_escaped(out, r, '"', ascii_only);
  }
  out += '"';
}

void append_quoted_rune(std::string& out, int64_t r, bool ascii_only) {
  if (r < 0 || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) r = 0xFFFD;
  out += '\'';
  append_escaped(out, static_cast<int32_t>(r), '\'', ascii_only);
  out += '\'';
}

}  // namespace autopilot::tmpl::gofmt
