// Go-style durations ("1500ms", "1m30s", "5") as ContainerPilot accepts them.
#pragma once

#include <chrono>
#include <string_view>

#include "base/result.h"

namespace autopilot {

using Duration = std::chrono::nanoseconds;

// Parses a Go duration string (units ns us µs ms s m h, optional sign and
// fractions, "0"). When `bare_seconds` is true a plain integer means seconds,
// as ContainerPilot's job durations do ("5" -> 5s). Errors use Go's words:
// `time: invalid duration "x"`, `time: missing unit in duration "5"`.
Result<Duration> parse_duration(std::string_view text, bool bare_seconds);

// Formats like Go's time.Duration.String(): "1.5s", "100ms", "1m30s", "0s".
std::string format_duration(Duration d);

// A retry's wait with "equal jitter": half of `base` fixed, the other half
// scaled by `u` in [0, 1] (clamped), in whole milliseconds. Clients that
// fail together (containers started at once, watches cut by one outage)
// spread their retries, and the fixed half keeps a bounded number of tries
// a predictable patience. The etcd mirror's and the files' back-off.
Duration equal_jitter(Duration base, double u);
// A pseudo-random u for equal_jitter (one generator for the process, seeded
// at first use; the loop is single-threaded).
double jitter_uniform();

}  // namespace autopilot
