// `autopilot catalog ...`: read-only inspection of the service catalog, for
// people and scripts. Prints JSON on stdout and nothing else there (warnings
// go to stderr):
//
//   autopilot catalog services             ["app","nginx"]: services with a live instance
//   autopilot catalog service NAME [--all] its instances, healthy ones only unless --all
//
// The catalog is the one given by --discovery-dir DIR or --etcd ENDPOINTS,
// else the one of the config (-config FILE, $AUTOPILOT or $CONTAINERPILOT),
// else the default embedded directory. Reading never creates a catalog: a missing directory is
// an error. Exit status: 0 ok, 1 no catalog or it failed, 2 bad input.
#pragma once

#include <string>

#include "config/config.h"
#include "discovery/discovery_config.h"

namespace autopilot::app {

struct CatalogQuery {
  enum class Kind { kServices, kService };
  Kind kind = Kind::kServices;
  std::string service;        // with kService
  bool all = false;           // with kService: unhealthy instances too
  std::string discovery_dir;  // --discovery-dir; wins over the config
  std::string etcd;           // --etcd "http://a:2379,http://b:2379"; wins over the config
  std::string config_flag;    // -config
  bool strict = false;        // -strict, for the config template
};

// The catalog a command reads: `discovery_dir` or `etcd` (endpoints, comma
// separated), else the config's (the flag, $AUTOPILOT or $CONTAINERPILOT),
// else the default. Config errors and bad endpoints are errors (exit 2).
Result<discovery::DiscoveryConfig> choose_catalog(const std::string& discovery_dir, const std::string& etcd,
                                                  const std::string& config_flag, bool strict, const config::Env& env);
// Opening an embedded catalog creates its directory; a reader must not, so
// commands check first: "no catalog at DIR (directory does not exist)".
// Nothing to check for etcd.
Result<void> require_existing_catalog(const discovery::DiscoveryConfig& chosen, os::Files& files);

// Runs the query and returns the process exit status.
int run_catalog_command(const CatalogQuery& query, const config::Env& env);

}  // namespace autopilot::app
