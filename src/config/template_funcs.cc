#include "config/template_funcs.h"

#include "tmpl/string_funcs.h"

namespace autopilot::config {
namespace {

using tmpl::Value;
using tmpl::funcs::wrong_args;

std::string as_text(const Value& v) { return tmpl::funcs::text_of(v); }

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

}  // namespace

tmpl::FuncMap containerpilot_funcs(const Env& env) {
  tmpl::FuncMap funcs;
  funcs.add("env", [&env](std::span<const Value> args) -> Result<Value> {
    if (args.size() != 1) return wrong_args("env", 1, args.size());
    auto it = env.find(as_text(args[0]));
    return Value(it == env.end() ? std::string() : it->second);
  });
  // Shared with consul-template's library (tmpl/string_funcs.h).
  funcs.add("default", tmpl::funcs::default_value);
  funcs.add("split", tmpl::funcs::split);
  funcs.add("join", tmpl::funcs::join);
  funcs.add("replaceAll", tmpl::funcs::replace_all);
  funcs.add("regexReplaceAll", tmpl::funcs::regex_replace_all);
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
