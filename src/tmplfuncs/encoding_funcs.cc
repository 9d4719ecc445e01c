// consul-template's encoding helpers: JSON in and out, base64, SHA-256, and
// timestamp (Go time layouts).

#include <algorithm>
#include <nlohmann/json.hpp>

#include "tmpl/string_funcs.h"
#include "tmplfuncs/codec.h"
#include "tmplfuncs/go_json.h"
#include "tmplfuncs/go_time.h"
#include "tmplfuncs/helpers.h"

namespace autopilot::tmplfuncs {
namespace {

using tmpl::Value;
using tmpl::funcs::text_of;
using tmpl::funcs::wrong_args;

using Args = std::span<const Value>;

tmpl::Function to_json(std::string name, JsonStyle style) {
  return [name, style](Args args) -> Result<Value> {
    if (args.size() != 1) return wrong_args(name, 1, args.size());
    auto text = to_go_json(args[0], style);
    if (!text) return make_error(name + ": " + text.error().message);
    return Value(std::move(*text));
  };
}

constexpr int kMaxJsonDepth = 1000;

// The deepest nesting of arrays and objects in JSON text `s` (brackets
// inside strings ignored). Value::from_json recurses once per level, so
// deeper input must be refused before it reaches it.
int json_depth(std::string_view s) {
  int depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

// parseJSON S: the decoded value; "" gives an empty map (consul-template),
// so `{{ (key "cfg" | parseJSON).x }}` survives a first pass without data.
Result<Value> parse_json(Args args) {
  if (args.size() != 1) return wrong_args("parseJSON", 1, args.size());
  std::string s = text_of(args[0]);
  if (s.empty()) return Value::from_json_object_tag(Value::map({}));
  if (json_depth(s) > kMaxJsonDepth)
    return make_error("parseJSON: nested too deeply (more than " + std::to_string(kMaxJsonDepth) + " levels)");
  try {
    return Value::from_json(nlohmann::json::parse(s));
  } catch (const nlohmann::json::exception& e) {
    std::string why = e.what();
    if (size_t bracket = why.find("] "); why.rfind("[json.exception", 0) == 0 && bracket != std::string::npos)
      why.erase(0, bracket + 2);  // drop nlohmann's "[json.exception.parse_error.101] "
    return make_error("parseJSON: " + why);
  }
}

Result<Value> base64_encode_func(Args args) {
  if (args.size() != 1) return wrong_args("base64Encode", 1, args.size());
  return Value(base64_encode(text_of(args[0])));
}

Result<Value> base64_decode_func(Args args) {
  if (args.size() != 1) return wrong_args("base64Decode", 1, args.size());
  auto data = base64_decode(text_of(args[0]));
  if (!data) return make_error("base64Decode: " + data.error().message);
  return Value(std::move(*data));
}

Result<Value> sha256_hex_func(Args args) {
  if (args.size() != 1) return wrong_args("sha256Hex", 1, args.size());
  return Value(sha256_hex(text_of(args[0])));
}

}  // namespace

void add_encoding_funcs(tmpl::FuncMap& funcs, WallClock now) {
  funcs.add("toJSON", to_json("toJSON", {.escape_html = true, .pretty = false}));
  funcs.add("toJSONPretty", to_json("toJSONPretty", {.escape_html = true, .pretty = true}));
  funcs.add("toUnescapedJSON", to_json("toUnescapedJSON", {.escape_html = false, .pretty = false}));
  funcs.add("toUnescapedJSONPretty", to_json("toUnescapedJSONPretty", {.escape_html = false, .pretty = true}));
  funcs.add("parseJSON", parse_json);
  funcs.add("base64Encode", base64_encode_func);
  funcs.add("base64Decode", base64_decode_func);
  funcs.add("sha256Hex", sha256_hex_func);
  // timestamp: RFC 3339 in UTC; "unix": seconds since the epoch; else a Go layout.
  funcs.add("timestamp", [now = std::move(now)](Args args) -> Result<Value> {
    if (args.size() > 1)
      return make_error("timestamp: wrong number of arguments, expected 0 or 1, but got " +
                        std::to_string(args.size()));
    auto t = now();
    std::string layout = args.empty() ? std::string(kRfc3339) : text_of(args[0]);
    if (layout == "unix") {
      auto secs = std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
      return Value(std::to_string(secs));
    }
    return Value(format_go_time(t, layout));
  });
}

}  // namespace autopilot::tmplfuncs
