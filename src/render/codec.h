// Byte encodings behind consul-template's base64Encode, base64Decode and
// sha256Hex, matching Go's encoding/base64 (StdEncoding) and crypto/sha256.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace autopilot::render {

std::string base64_encode(std::string_view data);
// Strict, as Go's StdEncoding.DecodeString: padding required, '\r' and '\n'
// skipped, anything else outside the alphabet is an error in Go's words:
// `illegal base64 data at input byte N`.
Result<std::string> base64_decode(std::string_view text);
// The SHA-256 digest of `data` as 64 lowercase hex digits.
std::string sha256_hex(std::string_view data);

}  // namespace autopilot::render
