// Go's time.Time.Format for a UTC time, for consul-template's `timestamp`.
// The layout is Go's reference time, Mon Jan 2 15:04:05 MST 2006, and every
// token of Go's layout language is recognised the way Go's nextStdChunk
// scans it: 2006 06 | January Jan 01 1 | Monday Mon | 02 _2 2 002 __2 |
// 15 03 3 | 04 4 | 05 5 | PM pm | MST | Z07:00 Z0700 Z07 Z07:00:00 Z070000
// -07:00 -0700 -07 -07:00:00 -070000 | .000 (fixed digits) .999 (trailing
// zeros dropped), also with ',' . Anything else is copied. The zone is always
// UTC: MST prints "UTC", the Z forms "Z" and the numeric forms +00:00.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace autopilot::tmplfuncs {

std::string format_go_time(std::chrono::system_clock::time_point t, std::string_view layout);

// Go's time.RFC3339.
inline constexpr std::string_view kRfc3339 = "2006-01-02T15:04:05Z07:00";

}  // namespace autopilot::tmplfuncs
