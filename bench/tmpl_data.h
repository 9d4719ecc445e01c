// The benchmark's data, shared with bench/go_tmpl: N service instances.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

inline nlohmann::json bench_services(int n) {
  nlohmann::json services = nlohmann::json::array();
  for (int i = 0; i < n; ++i) {
    services.push_back({{"ID", "app-" + std::to_string(i)},
                        {"Address", "10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256)},
                        {"Port", 8000 + i % 1000},
                        {"Status", i % 10 == 0 ? "critical" : "passing"},
                        {"Tags", {"web", "v" + std::to_string(i % 3)}}});
  }
  return {{"Services", services}, {"Port", 80}, {"SSL", true}};
}
