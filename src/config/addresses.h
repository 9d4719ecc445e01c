// Addresses: the address each registered job advertises, picked from its
// `interfaces` (net/interfaces.h) among the machine's addresses when the
// config is loaded, as ContainerPilot does, so a bad spec stops the start.
#pragma once

#include <vector>

#include "base/result.h"
#include "decode/decoder.h"
#include "jobs/job_config.h"

namespace autopilot::config {

// For each job with a registered service: sets its address and node (the
// host name) and adds the address to the job's fingerprint, then checks the
// instance it will register. `jobs_node` is the `jobs` array the configs were
// decoded from; errors point into it.
Result<void> resolve_addresses(const decode::Decoder& d, const decode::Node& jobs_node,
                               std::vector<jobs::JobConfig>& jobs);

}  // namespace autopilot::config
