// Base64 with the standard alphabet and padding (RFC 4648 §4), matching Go's
// encoding/base64 StdEncoding: used by etcd's JSON gateway for every key and
// value, by consul-template's base64Encode/base64Decode, and for files and
// certificates passed in environment variables.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace autopilot {

std::string base64_encode(std::string_view data);
// Strict, as Go's StdEncoding.DecodeString: padding required, '\r' and '\n'
// skipped, anything else outside the alphabet is an error in Go's words:
// `illegal base64 data at input byte N`.
Result<std::string> base64_decode(std::string_view text);

}  // namespace autopilot
