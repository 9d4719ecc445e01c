// A direct port of the state machine in Go 1.19 text/template/parse/lex.go,
// run to completion into a vector instead of a channel.
#include "tmpl/lexer.h"

#include <cstdio>
#include <map>

namespace autopilot::tmpl {
namespace {

constexpr std::string_view kLeft = "{{", kRight = "}}", kLeftComment = "/*", kRightComment = "*/";

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
// Bytes of multi-byte UTF-8 sequences count as letters (Go: unicode.IsLetter).
bool is_alnum(char c) {
  unsigned char u = c;
  return c == '_' || (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u >= 0x80;
}

class Lexer {
 public:
  Lexer(std::string_view text, bool break_ok, bool continue_ok, std::string& err)
      : in_(text), break_ok_(break_ok), continue_ok_(continue_ok), err_(err) {}

  std::vector<Token> run() {
    bool inside = false;
    while (!done_) inside = inside ? lex_inside_action() : lex_text();
    return std::move(items_);
  }

 private:
  char peek(size_t ahead = 0) const { return pos_ + ahead < in_.size() ? in_[pos_ + ahead] : '\0'; }
  bool at_eof() const { return pos_ >= in_.size(); }
  void emit(Tok t) {
    items_.push_back({t, in_.substr(start_, pos_ - start_), start_});
    start_ = pos_;
  }
  bool fail(std::string msg) {
    err_ = std::move(msg);
    items_.push_back({Tok::kError, err_, start_});
    done_ = true;
    return false;
  }
  bool accept(std::string_view set) {
    if (!at_eof() && set.find(peek()) != std::string_view::npos) return ++pos_, true;
    return false;
  }
  void accept_run(std::string_view set) {
    while (accept(set)) {
    }
  }
  bool has_left_trim(size_t at) const { return at + 1 < in_.size() && in_[at] == '-' && is_space(in_[at + 1]); }
  bool has_right_trim(size_t at) const { return at + 1 < in_.size() && is_space(in_[at]) && in_[at + 1] == '-'; }
  // Returns 0 (no delimiter), 1 (plain "}}") or 2 (" -}}").
  int at_right_delim() const {
    if (has_right_trim(pos_) && in_.substr(pos_ + 2).starts_with(kRight)) return 2;
    return in_.substr(pos_).starts_with(kRight) ? 1 : 0;
  }
  bool at_terminator() const {
    char c = peek();
    return at_eof() || is_space(c) || c == '.' || c == ',' || c == '|' || c == ':' || c == ')' || c == '(' ||
           c == kRight[0];
  }
  void skip_left_trim_spaces() {
    while (!at_eof() && is_space(peek())) ++pos_;
  }
  std::string describe_rune(size_t at) const;

  bool lex_text();
  bool lex_left_delim();
  bool lex_comment();
  bool lex_inside_action();
  bool lex_right_delim(int kind);
  bool lex_space();
  bool lex_quote(char q, Tok t, const char* what);
  bool lex_raw_quote();
  bool lex_number();
  bool scan_number();
  bool lex_identifier();
  bool lex_field_or_variable(Tok t);

  std::string_view in_;
  bool break_ok_, continue_ok_;
  std::string& err_;
  size_t pos_ = 0, start_ = 0;
  int paren_depth_ = 0;
  bool done_ = false;
  std::vector<Token> items_;
};

// Go's %#U: U+0023 '#'.
std::string Lexer::describe_rune(size_t at) const {
  unsigned char c = at < in_.size() ? in_[at] : 0;
  uint32_t r = c;
  int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
  if (len > 1 && at + len <= in_.size()) {
    r = c & (0x7F >> len);
    for (int k = 1; k < len; ++k) r = (r << 6) | (static_cast<unsigned char>(in_[at + k]) & 0x3F);
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "U+%04X", r);
  std::string s = buf;
  if (r >= 0x20 && r != 0x7F) s += " '" + std::string(in_.substr(at, len)) + "'";
  return s;
}

bool Lexer::lex_text() {
  size_t x = in_.find(kLeft, pos_);
  if (x == std::string_view::npos) {
    pos_ = in_.size();
    if (pos_ > start_) emit(Tok::kText);
    emit(Tok::kEOF);
    done_ = true;
    return false;
  }
  pos_ = x;
  size_t trim = 0;
  if (has_left_trim(x + kLeft.size()))
    while (trim < x - start_ && is_space(in_[x - trim - 1])) ++trim;
  pos_ -= trim;
  if (pos_ > start_) emit(Tok::kText);
  pos_ += trim;
  start_ = pos_;
  return lex_left_delim();
}

bool Lexer::lex_left_delim() {
  pos_ += kLeft.size();
  size_t after = has_left_trim(pos_) ? 2 : 0;
  if (in_.substr(pos_ + after).starts_with(kLeftComment)) {
    pos_ += after;
    start_ = pos_;
    return lex_comment();
  }
  emit(Tok::kLeftDelim);
  pos_ += after;
  start_ = pos_;
  paren_depth_ = 0;
  return true;
}

bool Lexer::lex_comment() {
  pos_ += kLeftComment.size();
  size_t x = in_.find(kRightComment, pos_);
  if (x == std::string_view::npos) return fail("unclosed comment");
  pos_ = x + kRightComment.size();
  int delim = at_right_delim();
  if (!delim) return fail("comment ends before closing delimiter");
  pos_ += (delim == 2 ? 2 : 0) + kRight.size();
  if (delim == 2) skip_left_trim_spaces();
  start_ = pos_;
  return false;  // back to text
}

bool Lexer::lex_right_delim(int kind) {
  if (kind == 2) pos_ += 2, start_ = pos_;
  pos_ += kRight.size();
  emit(Tok::kRightDelim);
  if (kind == 2) skip_left_trim_spaces(), start_ = pos_;
  return false;
}

bool Lexer::lex_inside_action() {
  if (int delim = at_right_delim()) {
    if (paren_depth_ == 0) return lex_right_delim(delim);
    return fail("unclosed left paren");
  }
  if (at_eof()) return fail("unclosed action");
  char c = in_[pos_++];
  switch (c) {
    case ' ':
    case '\t':
    case '\r':
    case '\n':
      --pos_;
      return lex_space();
    case '=':
      emit(Tok::kAssign);
      return true;
    case ':':
      if (peek() != '=') return fail("expected :=");
      ++pos_;
      emit(Tok::kDeclare);
      return true;
    case '|':
      emit(Tok::kPipe);
      return true;
    case '"':
      return lex_quote('"', Tok::kString, "unterminated quoted string");
    case '`':
      return lex_raw_quote();
    case '$':
      return lex_field_or_variable(Tok::kVariable);
    case '\'':
      return lex_quote('\'', Tok::kCharConstant, "unterminated character constant");
    case '(':
      emit(Tok::kLeftParen);
      ++paren_depth_;
      return true;
    case ')':
      emit(Tok::kRightParen);
      if (--paren_depth_ < 0) return fail("unexpected right paren U+0029 ')'");
      return true;
    default:
      break;
  }
  if (c == '.' && !(peek() >= '0' && peek() <= '9') && !at_eof()) return lex_field_or_variable(Tok::kField);
  if (c == '.' || c == '+' || c == '-' || (c >= '0' && c <= '9')) {
    --pos_;
    return lex_number();
  }
  if (is_alnum(c)) {
    --pos_;
    return lex_identifier();
  }
  if (static_cast<unsigned char>(c) < 0x7F && c >= 0x20) {
    emit(Tok::kChar);
    return true;
  }
  return fail("unrecognized character in action: " + describe_rune(pos_ - 1));
}

bool Lexer::lex_space() {
  int n = 0;
  while (!at_eof() && is_space(peek())) ++pos_, ++n;
  // A space directly before "-}}" belongs to the trim marker.
  if (has_right_trim(pos_ - 1) && in_.substr(pos_ + 1).starts_with(kRight)) {
    --pos_;
    if (n == 1) return true;
  }
  emit(Tok::kSpace);
  return true;
}

bool Lexer::lex_quote(char q, Tok t, const char* what) {
  for (;;) {
    if (at_eof()) return fail(what);
    char c = in_[pos_++];
    if (c == '\\') {
      if (at_eof() || peek() == '\n') return fail(what);
      ++pos_;
    } else if (c == '\n') {
      return fail(what);
    } else if (c == q) {
      break;
    }
  }
  emit(t);
  return true;
}

bool Lexer::lex_raw_quote() {
  size_t x = in_.find('`', pos_);
  if (x == std::string_view::npos) return fail("unterminated raw quoted string");
  pos_ = x + 1;
  emit(Tok::kRawString);
  return true;
}

bool Lexer::scan_number() {
  accept("+-");
  std::string_view digits = "0123456789_";
  if (accept("0")) {
    if (accept("xX"))
      digits = "0123456789abcdefABCDEF_";
    else if (accept("oO"))
      digits = "01234567_";
    else if (accept("bB"))
      digits = "01_";
  }
  accept_run(digits);
  if (accept(".")) accept_run(digits);
  if (digits.size() == 11 && accept("eE")) accept("+-"), accept_run("0123456789_");
  if (digits.size() == 23 && accept("pP")) accept("+-"), accept_run("0123456789_");
  accept("i");
  if (!at_eof() && is_alnum(peek())) return ++pos_, false;
  return true;
}

bool Lexer::lex_number() {
  auto bad = [&] { return fail("bad number syntax: \"" + std::string(in_.substr(start_, pos_ - start_)) + "\""); };
  if (!scan_number()) return bad();
  if (peek() == '+' || peek() == '-') {
    if (!scan_number() || in_[pos_ - 1] != 'i') return bad();
    emit(Tok::kComplex);
    return true;
  }
  emit(Tok::kNumber);
  return true;
}

bool Lexer::lex_identifier() {
  while (!at_eof() && is_alnum(peek())) ++pos_;
  if (!at_terminator()) return fail("bad character " + describe_rune(pos_));
  static const std::map<std::string_view, Tok> kKeywords = {{"block", Tok::kBlock},
                                                            {"break", Tok::kBreak},
                                                            {"continue", Tok::kContinue},
                                                            {"define", Tok::kDefine},
                                                            {"else", Tok::kElse},
                                                            {"end", Tok::kEnd},
                                                            {"if", Tok::kIf},
                                                            {"range", Tok::kRange},
                                                            {"nil", Tok::kNil},
                                                            {"template", Tok::kTemplate},
                                                            {"with", Tok::kWith}};
  std::string_view word = in_.substr(start_, pos_ - start_);
  auto it = kKeywords.find(word);
  if (it != kKeywords.end()) {
    Tok t = it->second;
    if ((t == Tok::kBreak && !break_ok_) || (t == Tok::kContinue && !continue_ok_)) t = Tok::kIdentifier;
    emit(t);
  } else if (word == "true" || word == "false") {
    emit(Tok::kBool);
  } else {
    emit(Tok::kIdentifier);
  }
  return true;
}

bool Lexer::lex_field_or_variable(Tok t) {
  if (at_terminator()) {
    emit(t == Tok::kVariable ? Tok::kVariable : Tok::kDot);
    return true;
  }
  while (!at_eof() && is_alnum(peek())) ++pos_;
  if (!at_terminator()) return fail("bad character " + describe_rune(pos_));
  emit(t);
  return true;
}

}  // namespace

std::vector<Token> lex(std::string_view text, bool break_ok, bool continue_ok, std::string& error_storage) {
  return Lexer(text, break_ok, continue_ok, error_storage).run();
}

std::string token_string(const Token& t) {
  if (t.type == Tok::kEOF) return "EOF";
  if (t.type == Tok::kError) return std::string(t.val);
  // Go declares itemDot and itemNil among the keywords.
  if (t.type > Tok::kKeyword || t.type == Tok::kDot || t.type == Tok::kNil) return "<" + std::string(t.val) + ">";
  if (t.val.size() > 10) {
    // Go's %.10q: quote the first ten runes.
    std::string_view v = t.val;
    size_t i = 0;
    for (int n = 0; n < 10 && i < v.size(); ++n) {
      unsigned char c = v[i];
      i += c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;
    }
    return "\"" + std::string(v.substr(0, std::min(i, v.size()))) + "\"...";
  }
  return "\"" + std::string(t.val) + "\"";
}

}  // namespace autopilot::tmpl
