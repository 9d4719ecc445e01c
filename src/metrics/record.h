// Recording one value into a metric by name, the way ContainerPilot's
// sensors (v2) and `-putmetric` (v3) do: a counter adds it, a gauge is set
// to it, a histogram or summary observes it. Only for families without
// labels (the user metrics of the telemetry block).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "metrics/registry.h"

namespace autopilot::metrics {

// Fails on an unknown name, a family with labels, or a negative counter add.
Result<void> record_value(Registry& registry, const std::string& name, double value);

// `text` with surrounding whitespace trimmed, as one number (Go's
// strconv.ParseFloat: decimal, exponent, Inf, NaN); nullopt otherwise.
std::optional<double> parse_sample(std::string_view text);

}  // namespace autopilot::metrics
