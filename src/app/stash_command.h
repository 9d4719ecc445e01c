// `autopilot stash`: a StashBox-compatible config server (stash/stash.h) run
// as a container's main process:
//
//   autopilot stash [-p PORT] [-c config.json] [--discovery-dir DIR | --etcd URLS]
//
// Its config is StashBox's (stash/stash_config.h). With a catalog it
// registers itself (service name from the config's `service.name`, default
// `stash`) with an http health check on its own /_stash/health (a tcp
// check when it serves TLS), heartbeated like a job's; TERM or INT
// deregisters it, closes the listener and every connection, and exits 0.
// A bad config or flag exits 2 before anything serves; a port that cannot be
// listened on exits 1.
#pragma once

#include <optional>
#include <string>

#include "config/config.h"

namespace autopilot::app {

struct StashOptions {
  std::string config_file;    // -c/--config
  std::optional<int> port;    // -p/--port
  std::string discovery_dir;  // --discovery-dir: the embedded catalog
  std::string etcd;           // --etcd URLS
};

int run_stash_command(const StashOptions& options, const config::Env& env);

}  // namespace autopilot::app
