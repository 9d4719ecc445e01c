// UTF-8 encoding shared by the JSON5 reader and the template engine.
#pragma once

#include <string>

namespace autopilot {

// Appends `cp` (a Unicode scalar value, <= U+10FFFF) to `out` as UTF-8.
void append_utf8(std::string& out, char32_t cp);

}  // namespace autopilot
