// The data-free part of consul-template's function library, by theme;
// add_consul_template_funcs (tmplfuncs/functions.h) registers them all and
// documents the differences from consul-template. Internal header.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/result.h"
#include "tmpl/template.h"
#include "tmplfuncs/functions.h"

namespace autopilot::tmplfuncs {

// contains in containsAll containsAny containsNone containsNotAll byTag byKey
void add_collection_funcs(tmpl::FuncMap& funcs);
// split join replaceAll regexMatch regexReplaceAll toLower toUpper toTitle
// trimSpace trim trimPrefix trimSuffix indent default
void add_string_funcs(tmpl::FuncMap& funcs);
// parseBool parseInt parseUint parseFloat loop add subtract multiply divide
// modulo minimum maximum
void add_number_funcs(tmpl::FuncMap& funcs);
// toJSON toJSONPretty toUnescapedJSON toUnescapedJSONPretty parseJSON
// base64Encode base64Decode sha256Hex timestamp
void add_encoding_funcs(tmpl::FuncMap& funcs, WallClock now);

// An int argument: an int, or a string holding a base-10 int64.
Result<int64_t> int_arg(const tmpl::Value& v, std::string_view fn);

}  // namespace autopilot::tmplfuncs
