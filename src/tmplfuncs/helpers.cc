// consul-template's collection and string helpers (see tmplfuncs/functions.h
// for the list and the differences from consul-template).

#include "tmplfuncs/helpers.h"

#include <map>
#include <vector>

#include "tmpl/string_funcs.h"
#include "tmplfuncs/records.h"

namespace autopilot::tmplfuncs {
namespace {

using tmpl::Value;
using tmpl::funcs::text_of;
using tmpl::funcs::wrong_args;

using Args = std::span<const Value>;

// --- collections -----------------------------------------------------------------

// consul-template's `in`: a list holds an int, float or string equal to `v`
// (same kind), or a string contains the string `v`.
bool go_in(const Value& l, const Value& v) {
  if (l.kind() == Value::Kind::kString)
    return v.kind() == Value::Kind::kString && l.as_string().find(v.as_string()) != std::string::npos;
  if (l.kind() != Value::Kind::kList) return false;
  for (const Value& e : l.as_list()) {
    if (e.kind() != v.kind()) continue;
    if (e.kind() == Value::Kind::kInt && e.as_int() == v.as_int()) return true;
    if (e.kind() == Value::Kind::kFloat && e.as_float() == v.as_float()) return true;
    if (e.kind() == Value::Kind::kString && e.as_string() == v.as_string()) return true;
  }
  return false;
}

// containsAll/Any/None/NotAll NEEDLES LIST, consul-template's
// containsSomeFunc: stop at the first needle whose membership != invert.
tmpl::Function contains_some(std::string name, bool result_when_done, bool invert) {
  return [name, result_when_done, invert](Args args) -> Result<Value> {
    if (args.size() != 2) return wrong_args(name, 2, args.size());
    if (args[0].is_null()) return Value(result_when_done);
    if (args[0].kind() != Value::Kind::kList)
      return make_error(name + ": wrong type for value; expected a list; got " + args[0].type_name());
    for (const Value& needle : args[0].as_list())
      if (go_in(args[1], needle) != invert) return Value(!result_when_done);
    return Value(result_when_done);
  };
}

Result<const std::vector<Value>*> list_arg(const Value& v, const std::string& fn) {
  static const std::vector<Value> kEmpty;
  if (v.is_null()) return &kEmpty;
  if (v.kind() != Value::Kind::kList) return make_error(fn + ": wrong argument type " + v.type_name());
  return &v.as_list();
}

Result<Value> by_tag(Args args) {
  if (args.size() != 1) return wrong_args("byTag", 1, args.size());
  auto items = list_arg(args[0], "byTag");
  if (!items) return items.error();
  std::map<std::string, std::vector<Value>> groups;
  for (const Value& item : **items) {
    std::optional<Value> tags;
    if (item.kind() == Value::Kind::kRecord) tags = item.as_record().field("Tags");
    if (!tags || tags->kind() != Value::Kind::kList)
      return make_error("byTag: wrong argument type: " + item.type_name() + " has no .Tags");
    for (const Value& tag : tags->as_list()) groups[text_of(tag)].push_back(item);
  }
  std::map<std::string, Value> out;
  for (auto& [tag, members] : groups) out.emplace(tag, Value::list(std::move(members)));
  return Value::map(std::move(out));
}

// byKey: top-level folder -> (rest of the key -> pair with .Key = rest);
// pairs with nothing left after the folder are dropped.
Result<Value> by_key(Args args) {
  if (args.size() != 1) return wrong_args("byKey", 1, args.size());
  auto items = list_arg(args[0], "byKey");
  if (!items) return items.error();
  std::map<std::string, std::map<std::string, Value>> groups;
  for (const Value& item : **items) {
    const StructRecord* pair = as_struct(item, kKeyPairType);
    if (!pair) return make_error("byKey: wrong argument type: " + item.type_name() + " is not a KV pair");
    std::string key = text_of(pair->field("Key").value_or(Value()));
    size_t slash = key.find('/');
    if (slash == std::string::npos || slash + 1 == key.size()) continue;
    std::string rest = key.substr(slash + 1);
    groups[key.substr(0, slash)][rest] = with_field(*pair, "Key", Value(rest));
  }
  std::map<std::string, Value> out;
  for (auto& [top, pairs] : groups) out.emplace(top, Value::map(std::move(pairs)));
  return Value::map(std::move(out));
}

// --- strings ---------------------------------------------------------------------

// Length of the UTF-8 sequence at s[i] (1 for an invalid byte).
size_t rune_len(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
  for (size_t k = 1; k < n; ++k)
    if (i + k >= s.size() || (static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 1;
  return n;
}

std::vector<std::string_view> runes(std::string_view s) {
  std::vector<std::string_view> out;
  for (size_t i = 0, n; i < s.size(); i += n) out.push_back(s.substr(i, n = rune_len(s, i)));
  return out;
}

// unicode.IsSpace.
bool is_space(std::string_view r) {
  static constexpr std::string_view kSpaces[] = {
      "\xC2\x85",     "\xC2\xA0",     "\xE1\x9A\x80", "\xE2\x80\x80", "\xE2\x80\x81", "\xE2\x80\x82", "\xE2\x80\x83",
      "\xE2\x80\x84", "\xE2\x80\x85", "\xE2\x80\x86", "\xE2\x80\x87", "\xE2\x80\x88", "\xE2\x80\x89", "\xE2\x80\x8A",
      "\xE2\x80\xA8", "\xE2\x80\xA9", "\xE2\x80\xAF", "\xE2\x81\x9F", "\xE3\x80\x80"};
  if (r.size() == 1) return std::string_view(" \t\n\v\f\r").find(r[0]) != std::string_view::npos;
  for (std::string_view s : kSpaces)
    if (r == s) return true;
  return false;
}

// strings.TrimFunc: drops leading and trailing runes for which `cut` holds.
template <class Pred>
std::string trim_runes(std::string_view s, Pred cut) {
  auto rs = runes(s);
  size_t b = 0, e = rs.size();
  while (b < e && cut(rs[b])) ++b;
  while (e > b && cut(rs[e - 1])) --e;
  if (b == e) return "";
  return std::string(rs[b].data(), rs[e - 1].data() + rs[e - 1].size());
}

tmpl::Function map_ascii(std::string name, char (*f)(char)) {
  return [name, f](Args args) -> Result<Value> {
    if (args.size() != 1) return wrong_args(name, 1, args.size());
    std::string s = text_of(args[0]);
    for (char& c : s) c = f(c);
    return Value(std::move(s));
  };
}

char to_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
char to_upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }
bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '\'' ||
         static_cast<unsigned char>(c) >= 0x80;
}

Result<Value> to_title(Args args) {
  if (args.size() != 1) return wrong_args("toTitle", 1, args.size());
  std::string s = text_of(args[0]);
  for (size_t i = 0; i < s.size(); ++i)
    if (i == 0 || !is_word_char(s[i - 1])) s[i] = to_upper(s[i]);
  return Value(std::move(s));
}

Result<Value> trim_space(Args args) {
  if (args.size() != 1) return wrong_args("trimSpace", 1, args.size());
  return Value(trim_runes(text_of(args[0]), is_space));
}

Result<Value> trim(Args args) {
  if (args.size() != 2) return wrong_args("trim", 2, args.size());
  std::string cutset = text_of(args[0]);
  auto cut = runes(cutset);
  return Value(trim_runes(text_of(args[1]), [&](std::string_view r) {
    for (std::string_view c : cut)
      if (c == r) return true;
    return false;
  }));
}

Result<Value> trim_prefix(Args args) {
  if (args.size() != 2) return wrong_args("trimPrefix", 2, args.size());
  std::string prefix = text_of(args[0]), s = text_of(args[1]);
  return Value(s.compare(0, prefix.size(), prefix) == 0 ? s.substr(prefix.size()) : s);
}

Result<Value> trim_suffix(Args args) {
  if (args.size() != 2) return wrong_args("trimSuffix", 2, args.size());
  std::string suffix = text_of(args[0]), s = text_of(args[1]);
  bool ends = s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
  return Value(ends ? s.substr(0, s.size() - suffix.size()) : s);
}

// indent N S: N spaces before every line that is not empty.
Result<Value> indent(Args args) {
  if (args.size() != 2) return wrong_args("indent", 2, args.size());
  auto spaces = int_arg(args[0], "indent");
  if (!spaces) return spaces.error();
  if (*spaces < 0 || *spaces > 10000) return make_error("indent: indent value must be a positive integer");
  std::string s = text_of(args[1]), out, pad(static_cast<size_t>(*spaces), ' ');
  bool line_start = true;
  for (char c : s) {
    if (line_start && c != '\n') out += pad;
    out += c;
    line_start = c == '\n';
  }
  return Value(std::move(out));
}

}  // namespace

void add_collection_funcs(tmpl::FuncMap& funcs) {
  funcs.add("in", [](Args args) -> Result<Value> {
    if (args.size() != 2) return wrong_args("in", 2, args.size());
    return Value(go_in(args[0], args[1]));
  });
  funcs.add("contains", [](Args args) -> Result<Value> {
    if (args.size() != 2) return wrong_args("contains", 2, args.size());
    return Value(go_in(args[1], args[0]));
  });
  funcs.add("containsAll", contains_some("containsAll", true, true));
  funcs.add("containsAny", contains_some("containsAny", false, false));
  funcs.add("containsNone", contains_some("containsNone", true, false));
  funcs.add("containsNotAll", contains_some("containsNotAll", false, true));
  funcs.add("byTag", by_tag);
  funcs.add("byKey", by_key);
}

void add_string_funcs(tmpl::FuncMap& funcs) {
  funcs.add("default", tmpl::funcs::default_value);
  funcs.add("split", tmpl::funcs::split);
  funcs.add("join", tmpl::funcs::join);
  funcs.add("replaceAll", tmpl::funcs::replace_all);
  funcs.add("regexMatch", tmpl::funcs::regex_match);
  funcs.add("regexReplaceAll", tmpl::funcs::regex_replace_all);
  funcs.add("toLower", map_ascii("toLower", to_lower));
  funcs.add("toUpper", map_ascii("toUpper", to_upper));
  funcs.add("toTitle", to_title);
  funcs.add("trimSpace", trim_space);
  funcs.add("trim", trim);
  funcs.add("trimPrefix", trim_prefix);
  funcs.add("trimSuffix", trim_suffix);
  funcs.add("indent", indent);
}

}  // namespace autopilot::tmplfuncs
