// libFuzzer target for the text/template engine (src/tmpl): parses the input
// as a template and, when it parses, executes it over fixed data with every
// missingkey mode and small limits. Any crash, sanitizer report, hang or
// unbounded memory use is a bug: parse and execute must return an Error for
// every input. Build and run with fuzz/run.sh.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tmpl/template.h"
#include "tmpl/value.h"

namespace {

using autopilot::tmpl::Limits;
using autopilot::tmpl::MissingKey;
using autopilot::tmpl::Template;
using autopilot::tmpl::Value;

// Keys and shapes that the seed corpus (tests/tmpl_diff/corpus) refers to.
const Value& fuzz_data() {
  static const Value data = Value::from_json(nlohmann::json::parse(R"({
    "a": 1, "b": 2.5, "c": "str", "n": null, "t": true, "f": false, "zero": 0, "s": "héllo <&>",
    "name": "web", "port": 8080, "big": 9223372036854775807, "neg": -7, "e": 1e21, "tiny": 1e-7,
    "l": [1, "two", 3.0, null, [4, 5], {"k": "v"}],
    "m": {"a": 1, "b": {"c": [1, 2]}, "k": "v", "": 0},
    "items": [{"name": "x", "port": 1}, {"name": "y", "port": 2}],
    "svcs": [{"name": "a", "port": 80}], "nodes": [{"addr": "10.0.0.1", "port": 80}],
    "rows": [[1, 2], [], [3]], "env": {"HOME": "/root", "PATH": "/bin"},
    "empty": [], "emptym": {}, "x": {"y": {"z": "deep"}}
  })"));
  return data;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(bytes), size);
  auto parsed = Template::parse("fuzz", text);
  if (!parsed.ok()) {
    (void)parsed.error().format();
    return 0;
  }
  Limits limits;
  limits.max_output_bytes = 1 << 16;
  limits.max_depth = 100;
  for (MissingKey mode : {MissingKey::kDefault, MissingKey::kZero, MissingKey::kError}) {
    auto out = parsed->execute(fuzz_data(), mode, limits);
    if (out.ok() && out->size() > limits.max_output_bytes) __builtin_trap();  // limit not enforced
    if (!out.ok()) (void)out.error().format();
  }
  return 0;
}
