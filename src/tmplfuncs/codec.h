// Byte encodings behind consul-template's base64Encode, base64Decode and
// sha256Hex, matching Go's encoding/base64 (StdEncoding) and crypto/sha256.
#pragma once

#include <string>
#include <string_view>

#include "base/base64.h"
#include "base/result.h"

namespace autopilot::tmplfuncs {

using autopilot::base64_decode;  // base/base64.h
using autopilot::base64_encode;
// The SHA-256 digest of `data` as 64 lowercase hex digits.
std::string sha256_hex(std::string_view data);

}  // namespace autopilot::tmplfuncs
