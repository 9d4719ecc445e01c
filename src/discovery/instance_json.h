// An Instance as a JSON object: the one shape every backend stores and
// `autopilot catalog` prints ({"id","name","address","port","tags","meta",
// "status","node"}). Records come from other processes and are untrusted:
// instance_from_json checks types and validate_instance() and never throws.
#pragma once

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "discovery/catalog.h"

namespace autopilot::discovery {

// In this key order for nlohmann::ordered_json (what `autopilot catalog` prints).
template <class Json = nlohmann::json>
Json instance_to_json(const Instance& in) {
  Json j;
  j["id"] = in.id;
  j["name"] = in.name;
  j["address"] = in.address;
  j["port"] = in.port;
  j["tags"] = in.tags;
  j["meta"] = Json::object();
  for (const auto& [k, v] : in.meta) j["meta"][k] = v;
  j["status"] = std::string(status_name(in.status));
  j["node"] = in.node;
  return j;
}
Result<Instance> instance_from_json(const nlohmann::json& j);

}  // namespace autopilot::discovery
