// JSON5 reader (https://spec.json5.org/, version 1.0.0) for autopilot's config
// files. It turns text into an nlohmann::ordered_json value and remembers where
// every key and value came from, so that later stages (decode/, config/) can
// point at the exact line and column of a bad setting. It knows nothing about
// jobs, templates or files: the caller reads and renders the text first.
//
// Differences from the JSON5 reference implementation, chosen for configs:
//   - a duplicate key in one object is an error (the reference keeps the last);
//   - "\uD800"-style unpaired surrogate escapes are errors (they have no UTF-8
//     form);
//   - the input must be valid UTF-8;
//   - objects and arrays nest at most kMaxDepth levels.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace autopilot::json5 {

inline constexpr int kMaxDepth = 512;

struct Document {
  // The file name given to parse(), used by pos_of() when nothing closer is known.
  std::string file;
  // Objects keep the order of the file. Numbers: integers that fit int64 (or,
  // if positive, uint64) are integers; hexadecimal integers too; everything
  // else, including Infinity and NaN, is a double.
  nlohmann::ordered_json value;
  // Where every value starts, keyed by its JSON pointer (RFC 6901): "" is the
  // root, "/jobs/0/name" a nested one; '~' and '/' in keys appear as ~0 and ~1.
  std::unordered_map<std::string, SourcePos> value_pos;
  // Where every object key starts, keyed by the JSON pointer of its value.
  std::unordered_map<std::string, SourcePos> key_pos;

  // The position of the value at `pointer`, else of its nearest ancestor that
  // has one, else {file, 1, 1}.
  SourcePos pos_of(const std::string& pointer) const;
};

// Parses `text`; `file` names it in positions and errors. Lines end at \n,
// \r\n, \r, U+2028 and U+2029; columns are 1-based and count code points.
// On failure the Error has file:line:col, the offending source line and a
// message such as `invalid character 'x' (expected a value)`.
Result<Document> parse(std::string_view text, std::string file);

// `key` escaped as one JSON-pointer reference token ("a/b~c" -> "a~1b~0c").
std::string pointer_token(std::string_view key);

}  // namespace autopilot::json5
