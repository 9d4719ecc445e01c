#include "config/template_funcs.h"

#include <charconv>
#include <limits>

#include "tmpl/string_funcs.h"

namespace autopilot::config {
namespace {

using tmpl::ParamType;
using tmpl::Signature;
using tmpl::Value;

constexpr ParamType kAny = ParamType::kAny;
constexpr ParamType kString = ParamType::kString;
constexpr ParamType kStrings = ParamType::kStringList;

// The engine's loops are bounded; ContainerPilot's are not (a larger range is
// the one deliberate difference).
constexpr long long kMaxLoop = 100000;

// fmt.Sprintf("%v", v) for an interface{} value: nil prints "<nil>".
std::string sprint_v(const Value& v) { return v.is_null() ? "<nil>" : tmpl::funcs::text_of(v); }

// strconv.Atoi, with its error text.
Result<long long> atoi(const std::string& s) {
  auto fail = [&](const char* why) {
    return make_error("strconv.Atoi: parsing " + tmpl::funcs::go_quote(s) + ": " + why);
  };
  std::string_view d = s;
  bool negative = !d.empty() && d[0] == '-';
  if (!d.empty() && (d[0] == '-' || d[0] == '+')) d.remove_prefix(1);
  if (d.empty() || d.find_first_not_of("0123456789") != std::string_view::npos) return fail("invalid syntax");
  unsigned long long mag = 0;
  auto [ptr, ec] = std::from_chars(d.data(), d.data() + d.size(), mag);
  unsigned long long limit =
      static_cast<unsigned long long>(std::numeric_limits<long long>::max()) + (negative ? 1 : 0);
  if (ec == std::errc::result_out_of_range || mag > limit) return fail("value out of range");
  return negative ? static_cast<long long>(0 - mag) : static_cast<long long>(mag);
}

// ContainerPilot's ensureInt: a string goes through Atoi; anything else must
// be a Go int, or the type assertion intv.(int) panics, which text/template
// reports as the call's error.
Result<long long> ensure_int(const Value& v) {
  if (v.kind() == Value::Kind::kString) return atoi(v.as_string());
  if (v.kind() == Value::Kind::kInt && v.type_name() == "int") return v.as_int();
  return make_error("interface conversion: interface {} is " + (v.is_null() ? std::string("nil") : v.type_name()) +
                    ", not int");
}

// default DEFAULT VALUE: VALUE when it is a non-empty string, else DEFAULT,
// printed with %v unless it is a string. Always a string, as ContainerPilot's
// func(interface{}, interface{}) string: `{{ 3 | default "d" }}` is "d".
Result<Value> default_value(std::span<const Value> args) {
  const Value& value = args[1];
  if (value.kind() == Value::Kind::kString && !value.as_string().empty()) return value;
  if (args[0].kind() == Value::Kind::kString) return args[0];
  return Value(sprint_v(args[0]));
}

// loop N -> [0..N-1]; loop A B -> [A..B-1], counting down when B < A. A []int.
Result<Value> loop(std::span<const Value> args) {
  if (args.empty() || args.size() > 2)
    return make_error("loop: wrong number of arguments, expected 1 or 2, but got " + std::to_string(args.size()));
  auto a = ensure_int(args[0]);
  if (!a) return a.error();
  long long from = 0, to = *a;
  if (args.size() == 2) {
    auto b = ensure_int(args[1]);
    if (!b) return b.error();
    from = *a;
    to = *b;
  }
  // Compared as unsigned distances so that extreme bounds cannot overflow.
  unsigned long long span = from <= to ? static_cast<unsigned long long>(to) - static_cast<unsigned long long>(from)
                                       : static_cast<unsigned long long>(from) - static_cast<unsigned long long>(to);
  if (span > static_cast<unsigned long long>(kMaxLoop))
    return make_error("loop: range too large (at most " + std::to_string(kMaxLoop) + " items)");
  std::vector<Value> out;
  if (from <= to)
    for (long long i = from; i < to; ++i) out.push_back(Value::go_int(i, Value::GoType::kInt));
  else
    for (long long i = from; i > to; --i) out.push_back(Value::go_int(i, Value::GoType::kInt));
  return Value::typed_list(Value::GoType::kIntSlice, std::move(out));
}

}  // namespace

// Registered with ContainerPilot's Go signatures, so that the evaluator
// types arguments as text/template does for them.
tmpl::FuncMap containerpilot_funcs(const Env& env) {
  tmpl::FuncMap funcs;
  funcs.add("default", Signature{{kAny, kAny}}, default_value);
  funcs.add("env", Signature{{kString}}, [&env](std::span<const Value> args) -> Result<Value> {
    auto it = env.find(args[0].as_string());
    return Value(it == env.end() ? std::string() : it->second);
  });
  // The string work is shared with consul-template's library
  // (tmpl/string_funcs.h); the signatures make the arguments strings.
  funcs.add("split", Signature{{kString, kString}}, [](std::span<const Value> args) -> Result<Value> {
    auto r = tmpl::funcs::split(args);
    if (!r) return r;
    return Value::typed_list(Value::GoType::kStringSlice, r->as_list());
  });
  funcs.add("join", Signature{{kString, kStrings}}, tmpl::funcs::join);
  funcs.add("replaceAll", Signature{{kString, kString, kString}}, tmpl::funcs::replace_all);
  funcs.add("regexReplaceAll", Signature{{kString, kString, kString}}, tmpl::funcs::regex_replace_all);
  funcs.add("loop", Signature{{kAny}, /*variadic=*/true}, loop);
  return funcs;
}

}  // namespace autopilot::config
