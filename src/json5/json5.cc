#include "json5/json5.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <optional>
#include <vector>

#include "json5/unicode.h"

namespace autopilot::json5 {
namespace {

using Json = nlohmann::ordered_json;
constexpr char32_t kEof = 0x110000;  // past the last code point: "no character"

bool is_digit(char32_t c) { return c >= '0' && c <= '9'; }
bool is_hex_digit(char32_t c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
int hex_value(char32_t c) { return is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10; }

std::string position(int line, int col) { return std::to_string(line) + ":" + std::to_string(col); }

// How a character appears in a message: 'x', or U+0007 when it would not print.
std::string describe(char32_t c) {
  if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0)) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(c));
    return buf;
  }
  std::string out = "'";
  append_utf8(out, c);
  return out + "'";
}

// The decimal exponent of the first significant digit of int_digits.frac_digits
// e exponent, for telling overflow from underflow when from_chars refuses.
long long magnitude(const std::string& int_digits, const std::string& frac_digits, long long exponent) {
  size_t first = int_digits.find_first_not_of('0');
  if (first != std::string::npos) return static_cast<long long>(int_digits.size() - first) - 1 + exponent;
  first = frac_digits.find_first_not_of('0');
  if (first == std::string::npos) return 0;  // the number is zero
  return -static_cast<long long>(first) - 1 + exponent;
}

class Parser {
 public:
  Parser(std::string_view text, std::string file) : text_(text) { doc_.file = std::move(file); }

  Result<Document> run();

 private:
  struct Open {  // an object or array whose closing bracket is still to come
    const char* kind;
    int line, col;
  };

  // --- cursor ---
  char32_t peek() const;
  char byte_at(size_t offset) const { return pos_ + offset < text_.size() ? text_[pos_ + offset] : '\0'; }
  bool at_end() const { return pos_ >= text_.size(); }
  void advance();
  SourcePos here() const { return SourcePos{doc_.file, line_, col_}; }

  // --- errors: each sets error_ (the first one wins) and returns false ---
  bool fail(int line, int col, std::string message);
  bool fail(const SourcePos& at, std::string message) { return fail(at.line, at.col, std::move(message)); }
  bool fail_unexpected(const std::string& expected);
  bool fail_expected(const std::string& expected);
  std::string source_line(int line) const;

  // --- grammar ---
  bool check_utf8();
  bool skip_space();
  bool skip_block_comment();
  bool parse_value(Json& out, const std::string& pointer);
  bool open(const char* kind);
  bool parse_object(Json& out, const std::string& pointer);
  bool parse_member(Json& object, const std::string& pointer);
  bool parse_key(std::string& key);
  bool parse_array(Json& out, const std::string& pointer);
  bool parse_string(std::string& out);
  bool parse_escape(std::string& out);
  bool parse_hex(int digits, const SourcePos& escape, const char* message, char32_t& out);
  bool parse_unicode_escape(const SourcePos& escape, char32_t& out);
  bool parse_identifier(std::string& out);
  bool parse_word(Json& out);
  bool parse_number(Json& out);
  bool parse_hex_number(Json& out, bool negative, const SourcePos& start);
  bool parse_decimal(Json& out, bool negative, const SourcePos& start);
  std::string read_digits();

  std::string_view text_;
  size_t pos_ = 0;
  int line_ = 1, col_ = 1;
  std::vector<Open> open_;
  Document doc_;
  std::optional<Error> error_;
};

Result<Document> Parser::run() {
  if (!check_utf8()) return std::move(*error_);
  pos_ = 0, line_ = 1, col_ = 1;
  if (!skip_space() || !parse_value(doc_.value, "") || !skip_space()) return std::move(*error_);
  if (!at_end()) {
    fail(here(), "unexpected " + describe(peek()) + " after the value (a document holds exactly one value)");
    return std::move(*error_);
  }
  return std::move(doc_);
}

// ----------------------------------------------------------------- cursor

char32_t Parser::peek() const {
  if (at_end()) return kEof;
  char32_t c;
  decode_utf8(text_, pos_, c);
  return c;
}

void Parser::advance() {
  if (at_end()) return;
  char32_t c = 0;
  size_t n = decode_utf8(text_, pos_, c);
  pos_ += n ? n : 1;  // step over an invalid byte (only while showing the line of a UTF-8 error)
  // The \r of \r\n only moves the column; the \n that follows ends the line.
  if (is_line_terminator(c) && !(c == '\r' && byte_at(0) == '\n')) {
    ++line_;
    col_ = 1;
  } else {
    ++col_;
  }
}

// ----------------------------------------------------------------- errors

bool Parser::fail(int line, int col, std::string message) {
  if (error_) return false;
  error_ = error_at(doc_.file, text_, line, col, std::move(message));
  // error_at splits lines on \n only; JSON5 also ends lines at \r, U+2028, U+2029.
  error_->source_line = source_line(line);
  return false;
}

// For a character that cannot start what the grammar expects here.
bool Parser::fail_unexpected(const std::string& expected) {
  if (!at_end()) return fail(here(), "invalid character " + describe(peek()) + " (" + expected + ")");
  if (open_.empty()) return fail(here(), "unexpected end of input (" + expected + ")");
  const Open& o = open_.back();
  return fail(here(), std::string("unexpected end of input (unclosed ") + o.kind + " opened at " +
                          position(o.line, o.col) + ")");
}

// For a missing separator after a complete key or value.
bool Parser::fail_expected(const std::string& expected) {
  if (at_end()) return fail_unexpected(expected);
  return fail(here(), expected + ", found " + describe(peek()));
}

std::string Parser::source_line(int line) const {
  Parser walker(text_, "");
  while (walker.line_ < line && !walker.at_end()) walker.advance();
  size_t start = walker.pos_;
  while (!walker.at_end() && !is_line_terminator(walker.peek())) walker.advance();
  return std::string(text_.substr(start, walker.pos_ - start));
}

// ----------------------------------------------------------------- layout

bool Parser::check_utf8() {
  while (!at_end()) {
    char32_t c;
    if (decode_utf8(text_, pos_, c) == 0) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "invalid UTF-8 (byte 0x%02X)", static_cast<unsigned char>(text_[pos_]));
      return fail(here(), buf);
    }
    advance();
  }
  return true;
}

// Skips whitespace and comments; fails only on an unterminated block comment.
bool Parser::skip_space() {
  for (;;) {
    char32_t c = peek();
    if (is_whitespace(c)) {
      advance();
    } else if (c == '/' && byte_at(1) == '/') {
      while (!at_end() && !is_line_terminator(peek())) advance();
    } else if (c == '/' && byte_at(1) == '*') {
      if (!skip_block_comment()) return false;
    } else {
      return true;
    }
  }
}

bool Parser::skip_block_comment() {
  SourcePos start = here();
  advance(), advance();
  while (!(peek() == '*' && byte_at(1) == '/')) {
    if (at_end()) return fail(start, "unterminated block comment");
    advance();
  }
  advance(), advance();
  return true;
}

// ----------------------------------------------------------------- values

bool Parser::parse_value(Json& out, const std::string& pointer) {
  doc_.value_pos[pointer] = here();
  char32_t c = peek();
  if (c == '{') return parse_object(out, pointer);
  if (c == '[') return parse_array(out, pointer);
  if (c == '"' || c == '\'') {
    std::string s;
    if (!parse_string(s)) return false;
    out = std::move(s);
    return true;
  }
  if (is_digit(c) || c == '-' || c == '+' || c == '.') return parse_number(out);
  if (c == '\\' || is_identifier_start(c)) return parse_word(out);
  return fail_unexpected("expected a value");
}

// Consumes the opening bracket and records it, refusing to nest too deep.
bool Parser::open(const char* kind) {
  if (open_.size() >= kMaxDepth) return fail(here(), "nesting too deep (more than " + std::to_string(kMaxDepth) + " levels)");
  open_.push_back(Open{kind, line_, col_});
  advance();
  return true;
}

bool Parser::parse_object(Json& out, const std::string& pointer) {
  if (!open("object")) return false;
  out = Json::object();
  for (;;) {
    if (!skip_space()) return false;
    if (peek() == '}') break;  // empty, or after the one allowed trailing comma
    if (!parse_member(out, pointer) || !skip_space()) return false;
    if (peek() == '}') break;
    if (peek() != ',') return fail_expected("expected ',' or '}' after value");
    advance();
  }
  advance();
  open_.pop_back();
  return true;
}

bool Parser::parse_member(Json& object, const std::string& pointer) {
  SourcePos key_at = here();
  std::string key;
  if (!parse_key(key)) return false;
  std::string child = pointer + "/" + pointer_token(key);
  // key_pos doubles as the set of keys seen: pointer_token() is one-to-one.
  if (auto it = doc_.key_pos.find(child); it != doc_.key_pos.end())
    return fail(key_at, "duplicate key \"" + key + "\" (first at " + position(it->second.line, it->second.col) + ")");
  doc_.key_pos.emplace(child, key_at);
  if (!skip_space()) return false;
  if (peek() != ':') return fail_expected("expected ':' after key \"" + key + "\"");
  advance();
  return skip_space() && parse_value(object[key], child);
}

bool Parser::parse_key(std::string& key) {
  char32_t c = peek();
  if (c == '"' || c == '\'') return parse_string(key);
  if (c == '\\' || is_identifier_start(c)) return parse_identifier(key);
  return fail_unexpected("expected a key or '}'");
}

bool Parser::parse_array(Json& out, const std::string& pointer) {
  if (!open("array")) return false;
  out = Json::array();
  for (;;) {
    if (!skip_space()) return false;
    if (peek() == ']') break;  // empty, or after the one allowed trailing comma
    out.push_back(nullptr);
    if (!parse_value(out.back(), pointer + "/" + std::to_string(out.size() - 1)) || !skip_space()) return false;
    if (peek() == ']') break;
    if (peek() != ',') return fail_expected("expected ',' or ']' after value");
    advance();
  }
  advance();
  open_.pop_back();
  return true;
}

// true, false, null, Infinity, NaN: spelled out, without escapes.
bool Parser::parse_word(Json& out) {
  SourcePos start = here();
  size_t begin = pos_;
  std::string word;
  if (!parse_identifier(word)) return false;
  std::string_view raw = text_.substr(begin, pos_ - begin);
  if (raw == "true") out = true;
  else if (raw == "false") out = false;
  else if (raw == "null") out = nullptr;
  else if (raw == "Infinity") out = std::numeric_limits<double>::infinity();
  else if (raw == "NaN") out = std::numeric_limits<double>::quiet_NaN();
  else return fail(start, "unexpected identifier '" + word + "' (expected a value; strings need quotes)");
  return true;
}

// ----------------------------------------------------------------- strings

bool Parser::parse_string(std::string& out) {
  SourcePos start = here();
  char32_t quote = peek();
  advance();
  for (;;) {
    char32_t c = peek();
    if (c == kEof) return fail(start, "unterminated string");
    if (c == '\n' || c == '\r') return fail(start, "unterminated string (a line break inside a string must be escaped)");
    if (c == quote) break;
    if (c == '\\') {
      if (!parse_escape(out)) return false;
      continue;
    }
    size_t begin = pos_;
    advance();
    out.append(text_.substr(begin, pos_ - begin));
  }
  advance();
  return true;
}

bool Parser::parse_escape(std::string& out) {
  SourcePos escape = here();
  advance();
  char32_t c = peek(), cp = 0;
  switch (c) {
    case kEof: return true;  // parse_string reports the unterminated string
    case 'b': out += '\b'; break;
    case 'f': out += '\f'; break;
    case 'n': out += '\n'; break;
    case 'r': out += '\r'; break;
    case 't': out += '\t'; break;
    case 'v': out += '\v'; break;
    case '0':
      if (is_digit(static_cast<unsigned char>(byte_at(1))))
        return fail(escape, "invalid escape '\\0' before a digit (octal escapes are not allowed)");
      out += '\0';
      break;
    case 'x':
      advance();
      if (!parse_hex(2, escape, "invalid escape '\\x' (expected two hex digits)", cp)) return false;
      append_utf8(out, cp);
      return true;
    case 'u':
      if (!parse_unicode_escape(escape, cp)) return false;
      append_utf8(out, cp);
      return true;
    case '\r':  // line continuation: \r\n counts as one line terminator
      advance();
      if (peek() == '\n') advance();
      return true;
    case '\n': case 0x2028: case 0x2029: break;  // line continuation
    default:
      if (is_digit(c)) return fail(escape, "invalid escape '\\" + std::string(1, static_cast<char>(c)) + "'");
      append_utf8(out, c);  // \' \" \\ \/ and any other character stand for themselves
  }
  advance();
  return true;
}

// Reads exactly `digits` hex digits into `out`, failing at `escape` otherwise.
bool Parser::parse_hex(int digits, const SourcePos& escape, const char* message, char32_t& out) {
  out = 0;
  for (int i = 0; i < digits; ++i) {
    if (!is_hex_digit(peek())) return fail(escape, message);
    out = out * 16 + hex_value(peek());
    advance();
  }
  return true;
}

// At the 'u' of \uXXXX; joins a surrogate pair written as two escapes.
bool Parser::parse_unicode_escape(const SourcePos& escape, char32_t& out) {
  static constexpr const char* kBadU = "invalid escape '\\u' (expected four hex digits)";
  advance();
  if (!parse_hex(4, escape, kBadU, out)) return false;
  if (out >= 0xdc00 && out <= 0xdfff) return fail(escape, "invalid escape: unpaired surrogate in '\\u'");
  if (out < 0xd800 || out > 0xdbff) return true;
  if (peek() != '\\' || byte_at(1) != 'u') return fail(escape, "invalid escape: unpaired surrogate in '\\u'");
  SourcePos low_escape = here();
  advance(), advance();
  char32_t low;
  if (!parse_hex(4, low_escape, kBadU, low)) return false;
  if (low < 0xdc00 || low > 0xdfff) return fail(escape, "invalid escape: unpaired surrogate in '\\u'");
  out = 0x10000 + ((out - 0xd800) << 10) + (low - 0xdc00);
  return true;
}

// An ECMAScript 5.1 IdentifierName; \uXXXX escapes must spell identifier characters.
bool Parser::parse_identifier(std::string& out) {
  for (bool first = true;; first = false) {
    char32_t c = peek();
    if (c == '\\') {
      SourcePos escape = here();
      advance();
      if (peek() != 'u') return fail(escape, "invalid escape in identifier (only \\uXXXX is allowed)");
      advance();
      if (!parse_hex(4, escape, "invalid escape '\\u' (expected four hex digits)", c)) return false;
      if (!(first ? is_identifier_start(c) : is_identifier_part(c)))
        return fail(escape, "invalid escape in identifier (" + describe(c) + " cannot appear in a name)");
      append_utf8(out, c);
    } else if (first ? is_identifier_start(c) : is_identifier_part(c)) {
      size_t begin = pos_;
      advance();
      out.append(text_.substr(begin, pos_ - begin));
    } else {
      return true;
    }
  }
}

// ----------------------------------------------------------------- numbers

bool Parser::parse_number(Json& out) {
  SourcePos start = here();
  size_t number_begin = pos_;
  bool negative = peek() == '-';
  if (peek() == '-' || peek() == '+') advance();
  char32_t c = peek();
  if (c == 'I' || c == 'N') {
    size_t begin = pos_;
    std::string word;
    if (!parse_identifier(word)) return false;
    std::string_view raw = text_.substr(begin, pos_ - begin);
    std::string whole(text_.substr(number_begin, pos_ - number_begin));
    double inf = std::numeric_limits<double>::infinity();
    if (raw == "Infinity") out = negative ? -inf : inf;
    else if (raw == "NaN") out = std::numeric_limits<double>::quiet_NaN();
    else return fail(start, "invalid number '" + whole + "' (expected Infinity or NaN after the sign)");
    return true;
  }
  if (c == '0' && (byte_at(1) == 'x' || byte_at(1) == 'X')) return parse_hex_number(out, negative, start);
  if (!is_digit(c) && c != '.') return fail_unexpected("expected a number after the sign");
  return parse_decimal(out, negative, start);
}

bool Parser::parse_hex_number(Json& out, bool negative, const SourcePos& start) {
  advance(), advance();
  if (!is_hex_digit(peek())) return fail(start, "invalid hexadecimal number (expected hex digits after '0x')");
  uint64_t value = 0;
  double approx = 0;  // used once the value outgrows 64 bits
  bool overflow = false;
  for (; is_hex_digit(peek()); advance()) {
    int d = hex_value(peek());
    overflow = overflow || value > (std::numeric_limits<uint64_t>::max() - d) / 16;
    value = value * 16 + d;
    approx = approx * 16 + d;
  }
  if (peek() == '.' || peek() == '\\' || is_identifier_start(peek()))
    return fail(here(), "invalid hexadecimal number (unexpected " + describe(peek()) + ")");
  constexpr uint64_t kMinInt64Magnitude = uint64_t{1} << 63;
  if (overflow) out = negative ? -approx : approx;
  else if (!negative && value <= uint64_t{std::numeric_limits<int64_t>::max()}) out = static_cast<int64_t>(value);
  else if (!negative) out = value;
  else if (value <= kMinInt64Magnitude) out = static_cast<int64_t>(0 - value);
  else out = -static_cast<double>(value);
  return true;
}

std::string Parser::read_digits() {
  std::string digits;
  for (; is_digit(peek()); advance()) digits += static_cast<char>(peek());
  return digits;
}

bool Parser::parse_decimal(Json& out, bool negative, const SourcePos& start) {
  std::string int_digits = read_digits(), frac_digits, exp_digits;
  if (int_digits.size() > 1 && int_digits[0] == '0') return fail(start, "leading zeros are not allowed");
  bool has_point = peek() == '.';
  if (has_point) {
    advance();
    frac_digits = read_digits();
  }
  if (int_digits.empty() && frac_digits.empty()) return fail(start, "invalid number (expected digits around '.')");
  bool has_exponent = peek() == 'e' || peek() == 'E';
  bool exp_negative = false;
  if (has_exponent) {
    advance();
    exp_negative = peek() == '-';
    if (peek() == '-' || peek() == '+') advance();
    exp_digits = read_digits();
    if (exp_digits.empty()) return fail_unexpected("expected digits in the exponent");
  }
  if (peek() == '\\' || is_identifier_start(peek()))
    return fail(here(), "invalid number (unexpected " + describe(peek()) + ")");

  std::string sign = negative ? "-" : "";
  if (!has_point && !has_exponent) {
    std::string s = sign + int_digits;
    int64_t i;
    uint64_t u;
    if (std::from_chars(s.data(), s.data() + s.size(), i).ec == std::errc()) return out = i, true;
    if (!negative && std::from_chars(s.data(), s.data() + s.size(), u).ec == std::errc()) return out = u, true;
  }
  std::string s = sign + (int_digits.empty() ? "0" : int_digits) + "." + (frac_digits.empty() ? "0" : frac_digits) +
                  "e" + (exp_negative ? "-" : "") + (exp_digits.empty() ? "0" : exp_digits);
  double d;
  if (std::from_chars(s.data(), s.data() + s.size(), d).ec == std::errc()) return out = d, true;
  // Out of range: like JavaScript, too large becomes Infinity and too small 0.
  long long exponent = exp_digits.size() > 9 ? 1'000'000'000 : (exp_digits.empty() ? 0 : std::stoll(exp_digits));
  bool too_large = magnitude(int_digits, frac_digits, exp_negative ? -exponent : exponent) >= 0;
  d = too_large ? std::numeric_limits<double>::infinity() : 0.0;
  out = negative ? -d : d;
  return true;
}

}  // namespace

SourcePos Document::pos_of(const std::string& pointer) const {
  std::string p = pointer;
  for (;;) {
    if (auto it = value_pos.find(p); it != value_pos.end()) return it->second;
    if (p.empty()) return SourcePos{file, 1, 1};
    size_t slash = p.rfind('/');
    p.resize(slash == std::string::npos ? 0 : slash);
  }
}

std::string pointer_token(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

Result<Document> parse(std::string_view text, std::string file) { return Parser(text, std::move(file)).run(); }

}  // namespace autopilot::json5
