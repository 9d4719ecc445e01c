#include "tmpl/string_funcs.h"

#include <cctype>
#include <regex>
#include <vector>

#include "tmpl/go_format.h"

namespace autopilot::tmpl::funcs {
namespace {

// Length of the UTF-8 sequence at s[i]; 1 for an invalid byte, as Go's
// utf8.DecodeRuneInString steps over it.
size_t rune_len(std::string_view s, size_t i) {
  auto cont = [&](size_t k) { return i + k < s.size() && (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80; };
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c >= 0xC2 && c <= 0xDF && cont(1)) return 2;
  if (c >= 0xE0 && c <= 0xEF && cont(1) && cont(2)) return 3;
  if (c >= 0xF0 && c <= 0xF4 && cont(1) && cont(2) && cont(3)) return 4;
  return 1;
}

// unicode.IsSpace for the rune encoded at s[i] (n bytes); invalid UTF-8 is
// not space.
bool is_space_at(const std::string& s, size_t i, size_t n) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  if (n == 1) return std::string_view(" \t\r\n\v\f").find(s[i]) != std::string_view::npos;
  if (n == 2) return b(0) == 0xC2 && (b(1) == 0x85 || b(1) == 0xA0);  // U+0085, U+00A0
  if (n != 3) return false;
  uint32_t r = ((b(0) & 0x0Fu) << 12) | ((b(1) & 0x3Fu) << 6) | (b(2) & 0x3Fu);
  return r == 0x1680 || (r >= 0x2000 && r <= 0x200A) || r == 0x2028 || r == 0x2029 || r == 0x202F || r == 0x205F ||
         r == 0x3000;
}

// strings.TrimSpace: Unicode white space (U+2028, U+00A0, ...) too.
std::string trim_space(const std::string& s) {
  size_t first = s.size(), last = 0;
  for (size_t i = 0, n; i < s.size(); i += n) {
    n = rune_len(s, i);
    if (is_space_at(s, i, n)) continue;
    if (first == s.size()) first = i;
    last = i + n;
  }
  return first == s.size() ? "" : s.substr(first, last - first);
}

// --- RE2 -> ECMAScript ---------------------------------------------------------

struct GoRegex {
  std::regex re;
  std::vector<std::string> names;  // names[i]: group i's name, "" when unnamed
};

std::string regex_error_words(std::regex_constants::error_type code) {
  using namespace std::regex_constants;
  switch (code) {
    case error_paren:
      return "missing or unexpected parenthesis";
    case error_brack:
      return "missing closing ]";
    case error_brace:
      return "invalid repeat count";
    case error_badbrace:
      return "invalid repeat count";
    case error_escape:
      return "invalid escape sequence";
    case error_badrepeat:
      return "missing argument to repetition operator";
    case error_range:
      return "invalid character class range";
    case error_ctype:
      return "invalid character class";
    case error_backref:
      return "invalid backreference";
    case error_complexity:  // what the breadth-first executor says of \1
      return "backreferences are not supported";
    case error_stack:
      return "expression too complex for the input";
    default:
      return "invalid syntax";
  }
}

Error regex_error(std::string_view fn, std::string_view pattern, const std::string& why) {
  return make_error(std::string(fn) + ": invalid regular expression \"" + std::string(pattern) + "\": " + why);
}

// Reads a leading "(?flags)" group; returns its length, 0 when there is none.
size_t leading_flags(std::string_view p, std::regex::flag_type& flags, bool& dot_all) {
  if (p.size() < 4 || p.substr(0, 2) != "(?") return 0;
  size_t close = p.find(')');
  if (close == std::string_view::npos || close == 2) return 0;
  std::regex::flag_type f = flags;
  bool s = dot_all;
  for (size_t i = 2; i < close; ++i) {
    if (p[i] == 'i')
      f |= std::regex::icase;
    else if (p[i] == 'm')
      f |= std::regex::multiline;
    else if (p[i] == 's')
      s = true;
    else
      return 0;
  }
  flags = f;
  dot_all = s;
  return close + 1;
}

// Rewrites an RE2 pattern as ECMAScript, one construct at a time. Each step
// consumes from p_ at i_ and appends to out_; errors are for people.
class Translator {
 public:
  explicit Translator(std::string_view pattern) : p_(pattern) {}

  // The ECMAScript text, or the reason the pattern cannot be translated.
  Result<std::string> run(size_t start, bool dot_all) {
    i_ = start;
    dot_all_ = dot_all;
    while (i_ < p_.size()) {
      Result<void> step = p_[i_] == '\\' && i_ + 1 < p_.size() ? escape()
                          : in_class_                          ? class_char()
                          : p_[i_] == '('                      ? group()
                                                               : plain();
      if (!step) return step.error();
    }
    return out_;
  }

  std::vector<std::string> names{""};  // names[g]: capture group g's name, "" when unnamed

 private:
  Result<void> escape() {
    char d = p_[i_ + 1];
    if (d == 'p' || d == 'P') return make_error("Unicode classes (\\p) are not supported");
    if (d == 'Q') {  // \Q...\E: literal text
      size_t end = p_.find("\\E", i_ + 2);
      for (char c : p_.substr(i_ + 2, end == std::string_view::npos ? end : end - i_ - 2)) {
        if (std::string_view("\\^$.|?*+()[]{}/").find(c) != std::string_view::npos) out_ += '\\';
        out_ += c;
      }
      i_ = end == std::string_view::npos ? p_.size() : end + 2;
      return {};
    }
    if (!in_class_ && d == 'A')
      out_ += '^';
    else if (!in_class_ && d == 'z')
      out_ += '$';
    else
      out_ += p_.substr(i_, 2);
    i_ += 2;
    return {};
  }

  Result<void> class_char() {
    if (p_.substr(i_, 2) == "[:") {  // [:alpha:] inside a class: copied whole
      size_t end = p_.find(":]", i_ + 2);
      if (end != std::string_view::npos) {
        out_ += p_.substr(i_, end + 2 - i_);
        i_ = end + 2;
        return {};
      }
    }
    if (p_[i_] == ']') in_class_ = false;
    out_ += p_[i_++];
    return {};
  }

  Result<void> group() {
    std::string_view rest = p_.substr(i_);
    size_t name_at = rest.substr(0, 4) == "(?P<"                                                         ? 4
                     : rest.substr(0, 3) == "(?<" && rest.size() > 3 && rest[3] != '=' && rest[3] != '!' ? 3
                                                                                                         : 0;
    if (name_at) {  // (?P<name>re) and (?<name>re): a plain group, its name remembered
      size_t close = rest.find('>');
      if (close == std::string_view::npos) return make_error("invalid named capture");
      names.emplace_back(rest.substr(name_at, close - name_at));
      out_ += '(';
      i_ += close + 1;
      return {};
    }
    if (rest.substr(0, 2) != "(?")
      names.emplace_back();
    else if (rest.size() > 2 && std::string_view("imsU-").find(rest[2]) != std::string_view::npos)
      return make_error("only a leading (?i), (?m) or (?s) flag group is supported");
    out_ += p_[i_++];
    return {};
  }

  Result<void> plain() {
    char c = p_[i_++];
    if (c == '.' && dot_all_) {
      out_ += "[\\s\\S]";
      return {};
    }
    out_ += c;
    if (c == '[') {
      in_class_ = true;
      if (i_ < p_.size() && p_[i_] == '^') out_ += p_[i_++];
      if (i_ < p_.size() && p_[i_] == ']') {  // a leading ] is literal in RE2 (so "[]" is unclosed)
        out_ += "\\]";
        ++i_;
      }
    }
    return {};
  }

  std::string_view p_;
  size_t i_ = 0;
  bool dot_all_ = false;
  bool in_class_ = false;
  std::string out_;
};

Result<GoRegex> compile(std::string_view fn, std::string_view p) {
  std::regex::flag_type flags = std::regex::ECMAScript;
  bool dot_all = false;
  size_t start = leading_flags(p, flags, dot_all);
  Translator t(p);
  auto text = t.run(start, dot_all);
  if (!text) return regex_error(fn, p, text.error().message);
  try {
    // __polynomial (a libstdc++ extension) selects the breadth-first
    // executor: the default depth-first one recurses once per input
    // character (a segfault past ~12k characters) and backtracks
    // exponentially on patterns like (a+)+$, which would hang the loop.
    return GoRegex{std::regex(*text, flags | std::regex_constants::__polynomial), std::move(t.names)};
  } catch (const std::regex_error& e) {
    return regex_error(fn, p, regex_error_words(e.code()));
  }
}

// Go's Regexp.expand: appends `repl` with $-references to `m` resolved.
void expand(std::string& out, std::string_view repl, const std::smatch& m, const std::vector<std::string>& names) {
  auto is_name_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || static_cast<unsigned char>(c) >= 0x80;
  };
  while (!repl.empty()) {
    size_t dollar = repl.find('$');
    out += repl.substr(0, dollar);
    if (dollar == std::string_view::npos) return;
    repl.remove_prefix(dollar + 1);
    if (!repl.empty() && repl[0] == '$') {
      out += '$';
      repl.remove_prefix(1);
      continue;
    }
    bool brace = !repl.empty() && repl[0] == '{';
    size_t start = brace ? 1 : 0, end = start;
    while (end < repl.size() && is_name_char(repl[end])) ++end;
    if (end == start || (brace && (end >= repl.size() || repl[end] != '}'))) {
      out += '$';  // malformed: the $ is plain text
      continue;
    }
    std::string name(repl.substr(start, end - start));
    repl.remove_prefix(end + (brace ? 1 : 0));
    int num = -1;
    if (name.size() < 9 && name.find_first_not_of("0123456789") == std::string::npos &&
        (name[0] != '0' || name.size() == 1))
      num = std::stoi(name);
    for (size_t g = 0; g < m.size(); ++g) {
      if (num >= 0 ? static_cast<size_t>(num) == g : (g < names.size() && names[g] == name)) {
        if (m[g].matched) out += m[g].str();
        break;
      }
    }
  }
}

// Go's Regexp.ReplaceAllString match walk: an empty match right after a
// match is not replaced, and the search always advances by at least a rune.
std::string replace_all_matches(const GoRegex& g, const std::string& s, std::string_view repl) {
  std::string out;
  size_t last_end = 0, search = 0;
  while (search <= s.size()) {
    std::smatch m;
    auto flags = search > 0 ? std::regex_constants::match_prev_avail : std::regex_constants::match_default;
    if (!std::regex_search(s.cbegin() + static_cast<std::ptrdiff_t>(search), s.cend(), m, g.re, flags)) break;
    size_t a0 = static_cast<size_t>(m[0].first - s.cbegin()), a1 = static_cast<size_t>(m[0].second - s.cbegin());
    out.append(s, last_end, a0 - last_end);
    if (a1 > last_end || a0 == 0) expand(out, repl, m, g.names);
    last_end = a1;
    size_t width = search < s.size() ? rune_len(s, search) : 0;
    if (search + width > a1)
      search += width;
    else if (search + 1 > a1)
      ++search;
    else
      search = a1;
  }
  out.append(s, last_end);
  return out;
}

// Matching is quadratic in the text for patterns that can run far and then
// fail (.*x), so long texts are refused rather than stalling the loop.
constexpr size_t kMaxRegexText = 16 * 1024;

Result<std::string> regex_text(std::string_view fn, const Value& v) {
  std::string s = text_of(v);
  if (s.size() > kMaxRegexText)
    return make_error(std::string(fn) + ": text too long for a regular expression (" + std::to_string(s.size()) +
                      " bytes, at most " + std::to_string(kMaxRegexText) + ")");
  return s;
}

}  // namespace

std::string text_of(const Value& v) {
  if (v.kind() == Value::Kind::kString) return v.as_string();
  if (v.is_null()) return "";
  std::string out;
  gofmt::sprint(out, std::span<const Value>(&v, 1));
  return out;
}

std::string go_quote(std::string_view s) {
  std::string out;
  gofmt::append_quoted(out, s, false);
  return out;
}

Error wrong_args(std::string_view fn, size_t want, size_t got) {
  return make_error("wrong number of args for " + std::string(fn) + ": want " + std::to_string(want) + " got " +
                    std::to_string(got));
}

Result<Value> default_value(std::span<const Value> args) {
  if (args.size() != 2) return wrong_args("default", 2, args.size());
  return args[1].truthy() ? args[1] : args[0];
}

Result<Value> split(std::span<const Value> args) {
  if (args.size() != 2) return wrong_args("split", 2, args.size());
  std::string s = trim_space(text_of(args[1]));
  std::string sep = text_of(args[0]);
  std::vector<Value> out;
  if (sep.empty()) {
    for (size_t i = 0, n; i < s.size(); i += n) out.emplace_back(s.substr(i, n = rune_len(s, i)));
  } else if (!s.empty()) {
    size_t start = 0;
    for (size_t at; (at = s.find(sep, start)) != std::string::npos; start = at + sep.size())
      out.emplace_back(s.substr(start, at - start));
    out.emplace_back(s.substr(start));
  }
  return Value::list(std::move(out));
}

Result<Value> join(std::span<const Value> args) {
  if (args.size() != 2) return wrong_args("join", 2, args.size());
  if (args[1].is_null()) return Value("");
  if (args[1].kind() != Value::Kind::kList)
    return make_error("join: wrong type for value; expected a list; got " + args[1].type_name());
  std::string sep = text_of(args[0]), out;
  bool first = true;
  for (const Value& v : args[1].as_list()) {
    if (!first) out += sep;
    out += text_of(v);
    first = false;
  }
  return Value(std::move(out));
}

Result<Value> replace_all(std::span<const Value> args) {
  if (args.size() != 3) return wrong_args("replaceAll", 3, args.size());
  std::string from = text_of(args[0]), to = text_of(args[1]), s = text_of(args[2]), out;
  if (from.empty()) {
    for (size_t i = 0, n; i < s.size(); i += n) out += to + s.substr(i, n = rune_len(s, i));
    return Value(out + to);
  }
  size_t start = 0;
  for (size_t at; (at = s.find(from, start)) != std::string::npos; start = at + from.size())
    out.append(s, start, at - start).append(to);
  return Value(out.append(s, start));
}

Result<Value> regex_replace_all(std::span<const Value> args) {
  if (args.size() != 3) return wrong_args("regexReplaceAll", 3, args.size());
  auto re = compile("regexReplaceAll", text_of(args[0]));
  if (!re) return re.error();
  auto s = regex_text("regexReplaceAll", args[2]);
  if (!s) return s.error();
  try {
    return Value(replace_all_matches(*re, *s, text_of(args[1])));
  } catch (const std::regex_error& e) {  // error_stack on pathological input
    return regex_error("regexReplaceAll", text_of(args[0]), regex_error_words(e.code()));
  }
}

Result<Value> regex_match(std::span<const Value> args) {
  if (args.size() != 2) return wrong_args("regexMatch", 2, args.size());
  auto re = compile("regexMatch", text_of(args[0]));
  if (!re) return re.error();
  auto s = regex_text("regexMatch", args[1]);
  if (!s) return s.error();
  try {
    return Value(std::regex_search(*s, re->re));
  } catch (const std::regex_error& e) {
    return regex_error("regexMatch", text_of(args[0]), regex_error_words(e.code()));
  }
}

}  // namespace autopilot::tmpl::funcs
