#include "config/schema.h"

#include <algorithm>
#include <vector>

#include "base/strings.h"

namespace autopilot::config {
namespace {

const std::vector<std::string> kV2Only{"services", "backends", "preStart", "onStart", "preStop",
                                       "postStop", "coprocesses", "tasks", "etcd"};
// `files` is autopilot's own, read in the v3 form only (migrate a v2 config to add it).
const std::vector<std::string> kV3Only{"jobs", "watches", "templates", "discovery", "control", "mainJob", "files"};

bool in(const std::vector<std::string>& keys, const std::string& k) {
  return std::find(keys.begin(), keys.end(), k) != keys.end();
}

// The top-level key, with the nested one that marks it when that is what
// decides (`telemetry.sensors` is v2, `telemetry.metrics` v3).
struct Marker {
  std::string name;
  decode::Node node;
};

std::optional<Marker> first_marker(const decode::Decoder& d, const std::vector<std::string>& keys,
                                   const char* telemetry_key) {
  decode::Node root = d.root();
  for (const auto& [key, value] : root->items()) {
    if (in(keys, key)) return Marker{key, *d.field(root, key)};
    if (key == "telemetry" && value.is_object() && value.contains(telemetry_key)) {
      auto telemetry = *d.field(root, key);
      return Marker{"telemetry." + std::string(telemetry_key), *d.field(telemetry, telemetry_key)};
    }
  }
  return std::nullopt;
}

}  // namespace

std::string SchemaReading::note() const {
  std::string version = schema == Schema::kV2 ? "v2" : "v3";
  if (because.empty()) return "read as a ContainerPilot v3 config (it has no v2 key such as `services`)";
  return "read as a ContainerPilot " + version + " config because of `" + because + "`";
}

Result<SchemaReading> detect_schema(const decode::Decoder& d) {
  if (!d.root()->is_object()) return SchemaReading{};
  auto v2 = first_marker(d, kV2Only, "sensors");
  auto v3 = first_marker(d, kV3Only, "metrics");
  if (v2 && v3) {
    decode::Node at{v3->node.json, v3->node.pointer, ""};
    if (v3->name == "files")
      return d.key_error(at, "`files` is autopilot's own key, read in the v3 form only, but this file has `" +
                                 v2->name + "`, a ContainerPilot v2 key: run `autopilot migrate` on it, then add "
                                 "`files` to the v3 config it prints (README, \"Files before the jobs start\")");
    return d.key_error(at, "`" + v3->name + "` is a ContainerPilot v3 key, but this file also has `" +
                                     v2->name + "`, a v2 key: a config is written in one or the other "
                                     "(the README's \"ContainerPilot v2 configs\" shows both)");
  }
  if (v2) return SchemaReading{Schema::kV2, v2->name};
  if (v3) return SchemaReading{Schema::kV3, v3->name};
  return SchemaReading{};
}

Result<void> check_unmarked_keys(const decode::Decoder& d, const std::vector<std::string>& v3_keys) {
  decode::Node root = d.root();
  if (!root->is_object()) return {};
  for (const auto& [key, value] : root->items()) {
    if (in(v3_keys, key)) continue;
    auto hint = suggest(key, kV2Only);
    if (!hint || suggest(key, v3_keys)) continue;
    decode::Node at{&value, "/" + json5::pointer_token(key), ""};
    return d.key_error(at, "unknown key \"" + key + "\" (did you mean \"" + *hint +
                               "\", a ContainerPilot v2 key?); read as a ContainerPilot v3 config, as it has no v2 key");
  }
  return {};
}

}  // namespace autopilot::config
