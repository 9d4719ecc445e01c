// consul-template's number helpers: parse*, loop and the arithmetic family.
// Arithmetic follows consul-template's reflect-based rules: int op int is an
// int64 (wrapping on overflow, as Go's), anything with a float is a float64,
// and other kinds (strings included) are errors. minimum and maximum return
// the winner as it came. Argument order is pipe-friendly: `subtract A B` is
// B - A, `divide A B` is B / A, `modulo A B` is B mod A.

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <system_error>

#include "tmpl/string_funcs.h"
#include "tmplfuncs/helpers.h"

namespace autopilot::tmplfuncs {
namespace {

using tmpl::Value;
using tmpl::funcs::text_of;
using tmpl::funcs::wrong_args;

using Args = std::span<const Value>;

constexpr int64_t kMaxLoop = 100000;

// strconv's errors: `strconv.ParseInt: parsing "x": invalid syntax`.
Error strconv_error(std::string_view fn, std::string_view go_fn, std::string_view s, std::string_view why) {
  return make_error(std::string(fn) + ": strconv." + std::string(go_fn) + ": parsing \"" + std::string(s) +
                    "\": " + std::string(why));
}

// strconv.ParseUint(s, 10, 64) into a uint64; `max` bounds the value.
Result<uint64_t> parse_digits(std::string_view fn, std::string_view go_fn, std::string_view whole, std::string_view d,
                              uint64_t max) {
  if (d.empty() || d.find_first_not_of("0123456789") != std::string_view::npos)
    return strconv_error(fn, go_fn, whole, "invalid syntax");
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(d.data(), d.data() + d.size(), v);
  if (ec == std::errc::result_out_of_range || v > max) return strconv_error(fn, go_fn, whole, "value out of range");
  return v;
}

Result<int64_t> parse_int(std::string_view fn, std::string_view s) {
  std::string_view d = s;
  bool negative = !d.empty() && d[0] == '-';
  if (!d.empty() && (d[0] == '-' || d[0] == '+')) d.remove_prefix(1);
  uint64_t limit = static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + (negative ? 1 : 0);
  auto v = parse_digits(fn, "ParseInt", s, d, limit);
  if (!v) return v.error();
  return negative ? static_cast<int64_t>(0 - *v) : static_cast<int64_t>(*v);
}

Result<Value> parse_float(std::string_view s) {
  std::string_view d = s;
  bool negative = !d.empty() && d[0] == '-';
  if (!d.empty() && (d[0] == '-' || d[0] == '+')) d.remove_prefix(1);
  std::string lower;
  for (char c : d) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  double sign = negative ? -1.0 : 1.0;
  if (lower == "inf" || lower == "infinity") return Value(sign * std::numeric_limits<double>::infinity());
  if (lower == "nan" && d.size() == s.size()) return Value(std::numeric_limits<double>::quiet_NaN());
  auto format = std::chars_format::general;
  std::string_view allowed = "0123456789.e+-";
  if (lower.rfind("0x", 0) == 0) {  // Go's hex floats need a p exponent
    if (lower.find('p') == std::string::npos) return strconv_error("parseFloat", "ParseFloat", s, "invalid syntax");
    d.remove_prefix(2);
    lower.erase(0, 2);
    format = std::chars_format::hex;
    allowed = "0123456789abcdef.p+-";
  }
  if (lower.find_first_not_of(allowed) != std::string::npos)  // from_chars also reads nan(...) and the like
    return strconv_error("parseFloat", "ParseFloat", s, "invalid syntax");
  double v = 0;
  auto [ptr, ec] = std::from_chars(d.data(), d.data() + d.size(), v, format);
  if (d.empty() || ptr != d.data() + d.size() || (ec != std::errc() && ec != std::errc::result_out_of_range))
    return strconv_error("parseFloat", "ParseFloat", s, "invalid syntax");
  if (ec == std::errc::result_out_of_range) {
    // Overflow is Go's range error; underflow rounds to zero without one.
    std::string text(d);
    v = format == std::chars_format::hex ? std::strtod(("0x" + text).c_str(), nullptr)
                                         : std::strtod(text.c_str(), nullptr);
    if (std::isinf(v)) return strconv_error("parseFloat", "ParseFloat", s, "value out of range");
  }
  return Value(sign * v);
}

Result<Value> parse_bool(std::string_view s) {
  for (std::string_view t : {"1", "t", "T", "TRUE", "true", "True"})
    if (s == t) return Value(true);
  for (std::string_view f : {"0", "f", "F", "FALSE", "false", "False"})
    if (s == f) return Value(false);
  return strconv_error("parseBool", "ParseBool", s, "invalid syntax");
}

// parseBool, parseInt, parseUint, parseFloat: "" is the zero value, as
// consul-template's wrappers make it.
void add_parse_funcs(tmpl::FuncMap& funcs) {
  funcs.add("parseBool", [](Args args) -> Result<Value> {
    if (args.size() != 1) return wrong_args("parseBool", 1, args.size());
    std::string s = text_of(args[0]);
    return s.empty() ? Value(false) : parse_bool(s);
  });
  funcs.add("parseInt", [](Args args) -> Result<Value> {
    if (args.size() != 1) return wrong_args("parseInt", 1, args.size());
    std::string s = text_of(args[0]);
    if (s.empty()) return Value(int64_t{0});
    auto v = parse_int("parseInt", s);
    if (!v) return v.error();
    return Value(*v);
  });
  funcs.add("parseUint", [](Args args) -> Result<Value> {
    if (args.size() != 1) return wrong_args("parseUint", 1, args.size());
    std::string s = text_of(args[0]);
    if (s.empty()) return Value(int64_t{0});
    auto v = parse_digits("parseUint", "ParseUint", s, s, std::numeric_limits<uint64_t>::max());
    if (!v) return v.error();
    if (*v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return make_error("parseUint: \"" + s + "\" is larger than the largest int64 (9223372036854775807)");
    return Value(static_cast<int64_t>(*v));
  });
  funcs.add("parseFloat", [](Args args) -> Result<Value> {
    if (args.size() != 1) return wrong_args("parseFloat", 1, args.size());
    std::string s = text_of(args[0]);
    return s.empty() ? Value(0.0) : parse_float(s);
  });
}

// loop N: 0..N-1; loop A B: A..B-1 (nothing when B <= A).
Result<Value> loop(Args args) {
  if (args.empty() || args.size() > 2)
    return make_error("loop: wrong number of arguments, expected 1 or 2, but got " + std::to_string(args.size()));
  int64_t start = 0;
  auto stop = int_arg(args.back(), "loop");
  if (!stop) return stop.error();
  if (args.size() == 2) {
    auto a = int_arg(args[0], "loop");
    if (!a) return a.error();
    start = *a;
  }
  std::vector<Value> out;
  if (*stop > start && static_cast<uint64_t>(*stop) - static_cast<uint64_t>(start) > kMaxLoop)
    return make_error("loop: too many iterations (at most " + std::to_string(kMaxLoop) + ")");
  for (int64_t i = start; i < *stop; ++i) out.emplace_back(i);
  return Value::list(std::move(out));
}

// --- arithmetic -------------------------------------------------------------------

struct Num {
  bool is_int;
  int64_t i;
  double f;
  double as_float() const { return is_int ? static_cast<double>(i) : f; }
};

Result<Num> num_arg(const Value& v, const std::string& fn) {
  if (v.kind() == Value::Kind::kInt) return Num{true, v.as_int(), 0};
  if (v.kind() == Value::Kind::kFloat && !v.is_complex()) return Num{false, 0, v.as_float()};
  return make_error(fn + ": unknown type for \"" + text_of(v) + "\" (" + v.type_name() + ")");
}

using IntOp = Result<int64_t> (*)(int64_t a, int64_t b);
using FloatOp = Result<double> (*)(double a, double b);

// A binary operation called as `FN B A` (A piped): computes op(A, B).
tmpl::Function arithmetic(std::string name, IntOp int_op, FloatOp float_op) {
  return [name, int_op, float_op](Args args) -> Result<Value> {
    if (args.size() != 2) return wrong_args(name, 2, args.size());
    auto b = num_arg(args[0], name);
    if (!b) return b.error();
    auto a = num_arg(args[1], name);
    if (!a) return a.error();
    if (a->is_int && b->is_int) {
      auto r = int_op(a->i, b->i);
      if (!r) return make_error(name + ": " + r.error().message);
      return Value(*r);
    }
    auto r = float_op(a->as_float(), b->as_float());
    if (!r) return make_error(name + ": " + r.error().message);
    return Value(*r);
  };
}

// Go's wrapping int64 arithmetic, without C++'s signed-overflow UB.
int64_t wrap(uint64_t v) { return static_cast<int64_t>(v); }
uint64_t u(int64_t v) { return static_cast<uint64_t>(v); }

tmpl::Function pick(std::string name, bool want_smaller) {
  return [name, want_smaller](Args args) -> Result<Value> {
    if (args.size() != 2) return wrong_args(name, 2, args.size());
    auto b = num_arg(args[0], name);
    if (!b) return b.error();
    auto a = num_arg(args[1], name);
    if (!a) return a.error();
    bool a_wins;
    if (a->is_int && b->is_int)
      a_wins = want_smaller ? a->i < b->i : a->i > b->i;
    else
      a_wins = want_smaller ? a->as_float() < b->as_float() : a->as_float() > b->as_float();
    return a_wins ? args[1] : args[0];
  };
}

}  // namespace

Result<int64_t> int_arg(const Value& v, std::string_view fn) {
  if (v.kind() == Value::Kind::kInt) return v.as_int();
  if (v.kind() == Value::Kind::kString) return parse_int(fn, v.as_string());
  return make_error(std::string(fn) + ": bad argument type: " + v.type_name());
}

void add_number_funcs(tmpl::FuncMap& funcs) {
  add_parse_funcs(funcs);
  funcs.add("loop", loop);
  funcs.add("add", arithmetic(
                       "add", [](int64_t a, int64_t b) -> Result<int64_t> { return wrap(u(a) + u(b)); },
                       [](double a, double b) -> Result<double> { return a + b; }));
  funcs.add("subtract", arithmetic(
                            "subtract", [](int64_t a, int64_t b) -> Result<int64_t> { return wrap(u(a) - u(b)); },
                            [](double a, double b) -> Result<double> { return a - b; }));
  funcs.add("multiply", arithmetic(
                            "multiply", [](int64_t a, int64_t b) -> Result<int64_t> { return wrap(u(a) * u(b)); },
                            [](double a, double b) -> Result<double> { return a * b; }));
  funcs.add("divide", arithmetic(
                          "divide",
                          [](int64_t a, int64_t b) -> Result<int64_t> {
                            if (b == 0) return make_error("division by zero");
                            if (b == -1) return wrap(0 - u(a));  // MinInt64 / -1 wraps in Go
                            return a / b;
                          },
                          [](double a, double b) -> Result<double> {
                            if (b == 0) return make_error("division by zero");
                            return a / b;
                          }));
  funcs.add("modulo", arithmetic(
                          "modulo",
                          [](int64_t a, int64_t b) -> Result<int64_t> {
                            if (b == 0) return make_error("division by zero");
                            return b == -1 ? 0 : a % b;
                          },
                          [](double a, double b) -> Result<double> {
                            if (b == 0) return make_error("division by zero");
                            return std::fmod(a, b);
                          }));
  funcs.add("minimum", pick("minimum", true));
  funcs.add("maximum", pick("maximum", false));
}

}  // namespace autopilot::tmplfuncs
