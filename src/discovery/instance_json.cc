#include "discovery/instance_json.h"

#include <fmt/format.h>

namespace autopilot::discovery {

using nlohmann::json;

Result<Instance> instance_from_json(const json& j) {
  try {
    if (!j.is_object()) return make_error("instance record is not a JSON object");
    Instance in;
    in.id = j.at("id").get<std::string>();
    in.name = j.at("name").get<std::string>();
    in.address = j.at("address").get<std::string>();
    in.port = j.at("port").get<int>();
    in.tags = j.at("tags").get<std::vector<std::string>>();
    in.meta = j.at("meta").get<std::map<std::string, std::string>>();
    in.node = j.at("node").get<std::string>();
    auto status = parse_status(j.at("status").get<std::string>());
    if (!status) return status.error();
    in.status = *status;
    if (auto valid = validate_instance(in); !valid) return valid.error();
    return in;
  } catch (const json::exception& e) {
    return make_error(fmt::format("malformed instance record: {}", e.what()));
  }
}

}  // namespace autopilot::discovery
