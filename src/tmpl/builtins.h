// Go's built-in template functions other than and/or (which the evaluator
// short-circuits). Internal header.
#pragma once

#include <span>

#include "base/result.h"
#include "tmpl/ast.h"
#include "tmpl/value.h"

namespace autopilot::tmpl {

// How many arguments a built-in takes: `fixed`, or at least `fixed` when
// variadic (Go's signatures in text/template/funcs.go).
struct BuiltinSignature {
  int fixed;
  bool variadic;
};
BuiltinSignature builtin_signature(Builtin b);

// Calls `b` with evaluated arguments. Missing values arrive as
// Value::missing(), nil interface values as null, as Go's reflect.Value
// arguments do. The error message is Go's (without "error calling X: ").
Result<Value> call_builtin(Builtin b, std::span<const Value> args);

// Go's HTMLEscapeString, JSEscapeString and url.QueryEscape.
std::string html_escape(std::string_view s);
std::string js_escape(std::string_view s);
std::string query_escape(std::string_view s);

}  // namespace autopilot::tmpl
