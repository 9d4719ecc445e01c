// An Instance as a JSON object: the one shape every backend stores and
// `autopilot catalog` prints ({"id","name","address","port","tags","meta",
// "status","node"}). Records come from other processes and are untrusted:
// instance_from_json checks types and validate_instance() and never throws.
#pragma once

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "discovery/catalog.h"

namespace autopilot::discovery {

nlohmann::json instance_to_json(const Instance& instance);
Result<Instance> instance_from_json(const nlohmann::json& j);

}  // namespace autopilot::discovery
