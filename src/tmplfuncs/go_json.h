// Go's encoding/json output for template values, as consul-template's
// toJSON, toJSONPretty, toUnescapedJSON and toUnescapedJSONPretty write it:
// maps with their keys sorted, records (tmplfuncs/records.h) as objects with
// their fields in Go's declaration order, ints as integers, floats the way
// Go formats a float64 (shortest round-trip digits, exponent form below 1e-6
// and from 1e21), strings with Go's escapes (\u003c \u003e \u0026 for < > &
// unless unescaped, \u2028 \u2029 always, invalid UTF-8 as \ufffd, \b \f \n
// \r \t short forms as Go 1.22+ writes them). Pretty output indents by two
// spaces and keeps empty lists and maps as [] and {}.
#pragma once

#include <string>

#include "base/result.h"
#include "tmpl/value.h"

namespace autopilot::tmplfuncs {

struct JsonStyle {
  bool escape_html = true;
  bool pretty = false;
};

// Errors use Go's words: `json: unsupported value: NaN`, `json: unsupported
// type: T` (records that are not struct records, complex numbers).
Result<std::string> to_go_json(const tmpl::Value& v, JsonStyle style);

}  // namespace autopilot::tmplfuncs
