// make_check: the probe a job's `health` block asks for.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "health/check.h"
#include "health/health_config.h"
#include "wiring/wiring.h"

namespace autopilot::health {


// Null for a heartbeat-only block (no exec, http or tcp). The config was
// validated at load time, so the targets parse.
std::unique_ptr<Check> make_check(const HealthConfig& config, const std::string& job, const Wiring& wiring);

}  // namespace autopilot::health
