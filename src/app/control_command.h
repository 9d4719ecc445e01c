// The control socket's clients on the command line, ContainerPilot's flags:
//
//   autopilot -reload                         POST /v3/reload
//   autopilot -maintenance enable|disable     POST /v3/maintenance/...
//   autopilot -putenv K=V [-putenv K=V ...]   POST /v3/environ, all pairs at once
//   autopilot -putmetric K=V [...]            POST /v3/metric, values as strings
//   autopilot -ping                           GET /v3/ping, prints "ok"
//   autopilot status [--json]                 GET /v3/status, a table (or the JSON)
//
// With several, the first of this list wins (ContainerPilot's precedence).
// The socket is the config's `control.socket` (-config FILE, $AUTOPILOT or
// $CONTAINERPILOT; the config must load), else the default. Exit status 0,
// or 1 with one line on stderr.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"

namespace autopilot::app {

struct ControlFlags {
  bool reload = false;
  std::string maintenance;  // "" when not given
  std::vector<std::string> putenv, putmetric;
  bool ping = false;
  bool status = false;  // `autopilot status`
  bool json = false;    // with status

  // Whether any of them is given (then the command is a client, not a run).
  bool any() const { return reload || !maintenance.empty() || !putenv.empty() || !putmetric.empty() || ping || status; }
};

// Sends the request the flags ask for; returns the exit status.
int run_control_command(const ControlFlags& flags, const std::string& config_flag, const config::Env& env,
                        const config::LoadOptions& load);

// `autopilot status`'s table, from the /status JSON; an error when the JSON
// is not that shape.
Result<std::string> status_table(const std::string& json);

}  // namespace autopilot::app
