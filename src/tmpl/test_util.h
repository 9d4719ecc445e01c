// Helpers shared by the tmpl unit tests.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "tmpl/template.h"
#include "tmpl/value.h"

namespace autopilot::tmpl::testing {

// The output, or "PARSE: message" / "EXEC: message" when it fails.
inline std::string render(std::string_view text, const Value& data = Value(), MissingKey missing = MissingKey::kDefault,
                          FuncMap funcs = {}, Limits limits = {}) {
  auto t = Template::parse("t", text, std::move(funcs));
  if (!t) return "PARSE: " + t.error().message;
  auto out = t->execute(data, missing, limits);
  if (!out) return "EXEC: " + out.error().message;
  return *out;
}

// render() over JSON data.
inline std::string render_json(std::string_view text, std::string_view json,
                               MissingKey missing = MissingKey::kDefault) {
  return render(text, Value::from_json(nlohmann::json::parse(json)), missing);
}

}  // namespace autopilot::tmpl::testing
