// App: wires every area together for one run of the supervisor: the event
// loop, the OS layer, the log, the bus and the jobs; owns the shutdown order
// and turns signals into actions:
//   SIGTERM, SIGINT  graceful shutdown
//   SIGHUP           reload the config (a bad one is refused, the old keeps
//                    running), then publish the SIGHUP signal event
//   SIGUSR1          reopen the log file; with a ContainerPilot v2 config,
//                    toggle maintenance instead, as v2 did
//   SIGUSR2          publish the SIGUSR2 signal event
// and serves the control socket (control/control_server.h), whose reload,
// maintenance and environment requests are the same actions.
#pragma once

#include <string>

#include "config/config.h"

namespace autopilot::app {

struct RunOptions {
  std::string config_path;
  config::Env env;
  config::LoadOptions load;
};

// Runs the jobs of `config` until they are done; returns the exit status.
int run(config::Config config, const RunOptions& options);

}  // namespace autopilot::app
