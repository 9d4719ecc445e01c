#include "config/template_funcs.h"

#include <regex>

#include "base/strings.h"

namespace autopilot::config {
namespace {

using tmpl::Value;

Error wrong_args(const char* name, size_t want, size_t got) {
  return make_error("wrong number of args for " + std::string(name) + ": want " + std::to_string(want) + " got " +
                    std::to_string(got));
}

std::string as_text(const Value& v) {
  if (v.kind() == Value::Kind::kString) return v.as_string();
  if (v.kind() == Value::Kind::kInt) return std::to_string(v.as_int());
  if (v.kind() == Value::Kind::kBool) return v.as_bool() ? "true" : "false";
  if (v.kind() == Value::Kind::kNull) return "";
  return "";
}

Result<long long> as_int(const Value& v, const char* fn) {
  if (v.kind() == Value::Kind::kInt) return v.as_int();
  if (v.kind() == Value::Kind::kString) {
    const std::string& s = v.as_string();
    size_t start = !s.empty() && s[0] == '-' ? 1 : 0;
    if (s.size() > start && s.size() < 18 && s.find_first_not_of("0123456789", start) == std::string::npos)
      return std::stoll(s);
  }
  return make_error(std::string(fn) + ": \"" + as_text(v) + "\" is not an integer");
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// Go regexp replacement syntax ($1, ${1}, ${name}) mapped onto ECMAScript's.
std::string ecma_replacement(const std::string& go) {
  std::string out;
  for (size_t i = 0; i < go.size(); ++i) {
    if (go[i] == '$' && i + 1 < go.size() && go[i + 1] == '{') {
      size_t end = go.find('}', i);
      if (end != std::string::npos) {
        out += "$" + go.substr(i + 2, end - i - 2);
        i = end;
        continue;
      }
    }
    if (go[i] == '$' && i + 1 < go.size() && go[i + 1] == '$') {
      out += "$$";
      ++i;
      continue;
    }
    out += go[i];
  }
  return out;
}

}  // namespace

tmpl::FuncMap containerpilot_funcs(const Env& env) {
  tmpl::FuncMap funcs;
  // {{ .X | default "d" }}: the value when it is a non-empty string.
  funcs.add("default", [](std::span<const Value> args) -> Result<Value> {
    if (args.size() != 2) return wrong_args("default", 2, args.size());
    const Value& v = args[1];
    if (v.kind() == Value::Kind::kString && !v.as_string().empty()) return v;
    if (v.kind() != Value::Kind::kString && v.kind() != Value::Kind::kNull && v.truthy()) return v;
    return args[0];
  });
  funcs.add("env", [&env](std::span<const Value> args) -> Result<Value> {
    if (args.size() != 1) return wrong_args("env", 1, args.size());
    auto it = env.find(as_text(args[0]));
    return Value(it == env.end() ? std::string() : it->second);
  });
  funcs.add("split", [](std::span<const Value> args) -> Result<Value> {
    if (args.size() != 2) return wrong_args("split", 2, args.size());
    std::string s = trim(as_text(args[1]));
    std::vector<Value> out;
    if (!s.empty()) {
      std::string sep = as_text(args[0]);
      size_t start = 0;
      for (;;) {
        size_t at = sep.empty() ? std::string::npos : s.find(sep, start);
        out.emplace_back(s.substr(start, at == std::string::npos ? std::string::npos : at - start));
        if (at == std::string::npos) break;
        start = at + sep.size();
      }
    }
    return Value::list(std::move(out));
  });
  funcs.add("join", [](std::span<const Value> args) -> Result<Value> {
    if (args.size() != 2) return wrong_args("join", 2, args.size());
    if (args[1].kind() != Value::Kind::kList) return make_error("join: the value is not a list");
    std::vector<std::string> parts;
    for (const auto& v : args[1].as_list()) parts.push_back(as_text(v));
    return Value(join(parts, as_text(args[0])));
  });
  funcs.add("replaceAll", [](std::span<const Value> args) -> Result<Value> {
    if (args.size() != 3) return wrong_args("replaceAll", 3, args.size());
    std::string from = as_text(args[0]), to = as_text(args[1]), s = as_text(args[2]);
    if (from.empty()) return Value(s);
    std::string out;
    size_t start = 0;
    for (size_t at; (at = s.find(from, start)) != std::string::npos; start = at + from.size())
      out += s.substr(start, at - start) + to;
    return Value(out + s.substr(start));
  });
  funcs.add("regexReplaceAll", [](std::span<const Value> args) -> Result<Value> {
    if (args.size() != 3) return wrong_args("regexReplaceAll", 3, args.size());
    try {
      std::regex re(as_text(args[0]), std::regex::ECMAScript);
      return Value(std::regex_replace(as_text(args[2]), re, ecma_replacement(as_text(args[1]))));
    } catch (const std::regex_error& e) {
      return make_error("regexReplaceAll: invalid regular expression \"" + as_text(args[0]) + "\"");
    }
  });
  // loop N -> 0..N-1; loop A B -> A..B-1, counting down when B < A.
  funcs.add("loop", [](std::span<const Value> args) -> Result<Value> {
    if (args.empty() || args.size() > 2) return make_error("loop: want 1 or 2 arguments, got " + std::to_string(args.size()));
    auto a = as_int(args[0], "loop");
    if (!a) return a.error();
    long long from = 0, to = *a;
    if (args.size() == 2) {
      auto b = as_int(args[1], "loop");
      if (!b) return b.error();
      from = *a;
      to = *b;
    }
    if (std::llabs(to - from) > 100000) return make_error("loop: range too large");
    std::vector<Value> out;
    if (from <= to)
      for (long long i = from; i < to; ++i) out.emplace_back(static_cast<int64_t>(i));
    else
      for (long long i = from; i > to; --i) out.emplace_back(static_cast<int64_t>(i));
    return Value::list(std::move(out));
  });
  return funcs;
}

}  // namespace autopilot::config
