// `autopilot catalog ...`: read-only inspection of the service catalog, for
// people and scripts. Prints JSON on stdout and nothing else there (warnings
// go to stderr):
//
//   autopilot catalog services             ["app","nginx"]: services with a live instance
//   autopilot catalog service NAME [--all] its instances, healthy ones only unless --all
//
// The catalog is the one given by --discovery-dir DIR, else the one of the
// config (-config FILE, $AUTOPILOT or $CONTAINERPILOT), else the default
// embedded directory. Reading never creates a catalog: a missing directory is
// an error. Exit status: 0 ok, 1 no catalog or it failed, 2 bad input.
#pragma once

#include <string>

#include "config/config.h"

namespace autopilot::app {

struct CatalogQuery {
  enum class Kind { kServices, kService };
  Kind kind = Kind::kServices;
  std::string service;        // with kService
  bool all = false;           // with kService: unhealthy instances too
  std::string discovery_dir;  // --discovery-dir; wins over the config
  std::string config_flag;    // -config
  bool strict = false;        // -strict, for the config template
};

// Runs the query and returns the process exit status.
int run_catalog_command(const CatalogQuery& query, const config::Env& env);

}  // namespace autopilot::app
