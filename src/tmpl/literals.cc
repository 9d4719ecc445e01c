// strconv.Unquote and text/template's number constants (parse.newNumber and
// exec's idealConstant): which literals are ints, which floats, which errors.
#include <cmath>
#include <cstdlib>

#include "base/strings.h"
#include "tmpl/go_format.h"
#include "tmpl/parser.h"

namespace autopilot::tmpl {
namespace {

// strconv.UnquoteChar: one (possibly escaped) character of s starting at i.
// Returns false on invalid syntax. `raw_byte` is set for \x and octal escapes.
bool unquote_char(std::string_view s, size_t& i, char quote, int64_t& r, bool& raw_byte) {
  raw_byte = false;
  unsigned char c = s[i];
  if (c == quote && (quote == '\'' || quote == '"')) return false;
  if (c >= 0x80) {
    size_t start = i;
    int len = (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    bool ok = len > 1 && start + len <= s.size();
    int64_t v = c & (0x7F >> len);
    for (int k = 1; ok && k < len; ++k) {
      unsigned char cc = s[start + k];
      ok = (cc & 0xC0) == 0x80;
      v = (v << 6) | (cc & 0x3F);
    }
    static constexpr int64_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (ok && (v < kMin[len] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))) ok = false;
    i += ok ? len : 1;
    r = ok ? v : 0xFFFD;
    return true;
  }
  if (c != '\\') return ++i, r = c, true;
  if (i + 1 >= s.size()) return false;
  char e = s[i + 1];
  i += 2;
  switch (e) {
    case 'a':
      r = '\a';
      return true;
    case 'b':
      r = '\b';
      return true;
    case 'f':
      r = '\f';
      return true;
    case 'n':
      r = '\n';
      return true;
    case 'r':
      r = '\r';
      return true;
    case 't':
      r = '\t';
      return true;
    case 'v':
      r = '\v';
      return true;
    case '\\':
      r = '\\';
      return true;
    case '\'':
    case '"':
      r = e;
      return e == quote;
    case 'x':
    case 'u':
    case 'U': {
      int n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
      if (i + n > s.size()) return false;
      int64_t v = 0;
      for (int k = 0; k < n; ++k) {
        int h = hex_digit(s[i + k]);
        if (h < 0) return false;
        v = v * 16 + h;
      }
      i += n;
      if (e == 'x') return raw_byte = true, r = v, true;
      if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return false;
      r = v;
      return true;
    }
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7': {
      if (i + 2 > s.size()) return false;
      int64_t v = e - '0';
      for (int k = 0; k < 2; ++k) {
        char d = s[i + k];
        if (d < '0' || d > '7') return false;
        v = v * 8 + (d - '0');
      }
      i += 2;
      if (v > 255) return false;
      return raw_byte = true, r = v, true;
    }
    default:
      return false;
  }
}

bool underscores_ok(std::string_view s) {
  // Underscores must sit between digits (a base prefix counts as a digit).
  size_t i = 0;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) ++i;
  char saw = '^';
  bool hex = false;
  if (s.size() - i >= 2 && s[i] == '0') {
    char b = s[i + 1] | 0x20;
    if (b == 'x' || b == 'o' || b == 'b') hex = b == 'x', i += 2, saw = '0';
  }
  for (; i < s.size(); ++i) {
    char c = s[i];
    bool digit = (c >= '0' && c <= '9') || (hex && hex_digit(c) >= 0);
    if (digit) {
      saw = '0';
    } else if (c == '_') {
      if (saw != '0') return false;
      saw = '_';
    } else {
      if (saw == '_') return false;
      saw = '!';
    }
  }
  return saw != '_';
}

// strconv.ParseInt/ParseUint with base 0: magnitude and sign, or nullopt.
std::optional<std::pair<bool, unsigned __int128>> parse_int(std::string_view s) {
  bool neg = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) neg = s[0] == '-', s.remove_prefix(1);
  if (s.empty()) return std::nullopt;
  int base = 10;
  std::string_view digits = s;
  if (s.size() > 1 && s[0] == '0') {
    char b = s[1] | 0x20;
    if (b == 'x')
      base = 16, digits = s.substr(2);
    else if (b == 'o')
      base = 8, digits = s.substr(2);
    else if (b == 'b')
      base = 2, digits = s.substr(2);
    else
      base = 8, digits = s.substr(1);
  }
  if (digits.empty() || !underscores_ok(s)) return std::nullopt;
  unsigned __int128 v = 0;
  for (char c : digits) {
    if (c == '_') continue;
    int d = hex_digit(c);
    if (d < 0 || d >= base) return std::nullopt;
    v = v * base + d;
    if (v > (static_cast<unsigned __int128>(1) << 65)) return std::nullopt;
  }
  return std::make_pair(neg, v);
}

std::optional<double> parse_float(std::string_view s) {
  if (!underscores_ok(s)) return std::nullopt;
  std::string clean;
  for (char c : s)
    if (c != '_') clean += c;
  std::string_view body = clean;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) body.remove_prefix(1);
  bool hex = body.size() > 1 && body[0] == '0' && (body[1] | 0x20) == 'x';
  if (hex && body.find_first_of("pP") == std::string_view::npos) return std::nullopt;
  if (!hex && body.find_first_of("pP") != std::string_view::npos) return std::nullopt;
  if (body.size() > 1 && body[0] == '0' && !hex && ((body[1] | 0x20) == 'o' || (body[1] | 0x20) == 'b'))
    return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(clean.c_str(), &end);
  if (end != clean.c_str() + clean.size() || clean.empty()) return std::nullopt;
  if (std::isinf(v)) return std::nullopt;  // Go: value out of range
  return v;
}

// "2" (imaginary only, parse.newNumber) or "1+2" (fmt.Sscan of "1+2i").
std::optional<Value> complex_constant(std::string_view body) {
  if (auto im = parse_float(body)) return Value::complex(0, *im);
  for (size_t k = body.size(); k-- > 1;) {
    char c = body[k], before = body[k - 1] | 0x20;
    if ((c != '+' && c != '-') || before == 'e' || before == 'p') continue;
    auto re = parse_float(body.substr(0, k));
    auto im = parse_float(body.substr(k));
    if (re && im) return Value::complex(*re, *im);
    break;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> unquote(std::string_view q) {
  if (q.size() < 2 || q.front() != q.back()) return std::nullopt;
  std::string_view in = q.substr(1, q.size() - 2);
  std::string out;
  if (q.front() == '`') {
    for (char c : in)
      if (c != '\r') out += c;
    return out;
  }
  for (size_t i = 0; i < in.size();) {
    if (in[i] == '\n') return std::nullopt;
    int64_t r;
    bool raw;
    if (!unquote_char(in, i, '"', r, raw)) return std::nullopt;
    if (raw || r < 0x80)
      out += static_cast<char>(r);
    else
      gofmt::append_rune(out, r);
  }
  return out;
}

Result<Value> number_constant(std::string_view text, bool is_char) {
  if (is_char) {
    std::string_view in = text.substr(1);
    size_t i = 0;
    int64_t r;
    bool raw;
    if (in.empty() || !unquote_char(in, i, '\'', r, raw)) return make_error("invalid syntax");
    if (in.substr(i) != "'") return make_error("malformed character constant: " + std::string(text));
    return Value(static_cast<int>(r));
  }
  if (!text.empty() && text.back() == 'i') {
    if (auto c = complex_constant(text.substr(0, text.size() - 1))) return *c;
    for (size_t k = 1; k < text.size(); ++k)  // a "re+imi" token Go hands to fmt.Sscan
      if ((text[k] == '+' || text[k] == '-') && (text[k - 1] | 0x20) != 'e' && (text[k - 1] | 0x20) != 'p')
        return make_error("syntax error scanning complex number");
  }
  std::string quoted = "\"" + std::string(text) + "\"";
  auto as_int = parse_int(text);
  bool is_hex_int = text.size() > 2 && text[0] == '0' && (text[1] | 0x20) == 'x' &&
                    text.find_first_of("pP") == std::string_view::npos;
  if (as_int) {
    auto [neg, mag] = *as_int;
    if (neg && mag == 0) return Value(0);
    if (neg ? mag <= (static_cast<unsigned __int128>(1) << 63) : mag <= static_cast<unsigned __int128>(INT64_MAX))
      return Value::go_int(neg ? -static_cast<int64_t>(mag - 1) - 1 : static_cast<int64_t>(mag), Value::GoType::kInt);
    if (!neg && mag <= UINT64_MAX) return make_error(ErrorKind::kOutOfRange, std::string(text) + " overflows int");
  }
  auto f = parse_float(text);
  if (f) {
    if (text.find_first_of(".eEpP") == std::string_view::npos) return make_error("integer overflow: " + quoted);
    if (is_hex_int) return make_error(ErrorKind::kOutOfRange, std::string(text) + " overflows int");
    return Value(*f);
  }
  if (as_int) return make_error(ErrorKind::kOutOfRange, std::string(text) + " overflows int");
  return make_error("illegal number syntax: " + quoted);
}

std::optional<Builtin> find_builtin(std::string_view name) {
  static const std::pair<std::string_view, Builtin> kTable[] = {
      {"and", Builtin::kAnd},     {"or", Builtin::kOr},         {"not", Builtin::kNot},
      {"len", Builtin::kLen},     {"index", Builtin::kIndex},   {"slice", Builtin::kSlice},
      {"print", Builtin::kPrint}, {"printf", Builtin::kPrintf}, {"println", Builtin::kPrintln},
      {"eq", Builtin::kEq},       {"ne", Builtin::kNe},         {"lt", Builtin::kLt},
      {"le", Builtin::kLe},       {"gt", Builtin::kGt},         {"ge", Builtin::kGe},
      {"html", Builtin::kHtml},   {"js", Builtin::kJs},         {"urlquery", Builtin::kUrlquery},
      {"call", Builtin::kCall},
  };
  for (const auto& [n, b] : kTable)
    if (n == name) return b;
  return std::nullopt;
}

}  // namespace autopilot::tmpl
