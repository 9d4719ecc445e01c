// `autopilot render`: consul-template's command line, built in. Renders
// templates from the configured catalog without running any job:
//
//   autopilot render -template "in.ctmpl:out.conf[:command]" [-template ...] [-once] [-dry]
//                    [-config FILE | --discovery-dir DIR]
//
// -once: render every template once its data has arrived (and run its
// command), then exit: 0 when every file was written or already up to date,
// 1 when a template failed to execute, a check or command failed or a write
// failed. Without -once it keeps
// rendering on every change until SIGINT/SIGTERM. -dry prints "> DEST" and
// the content on stdout instead of writing, and runs no command. The same
// safety as the `templates` config key: temp file, rename, never from an
// unavailable catalog, a missing catalog directory is an error (nothing is
// created). Bad templates exit 2 with their file:line:col.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"

namespace autopilot::app {

struct RenderRequest {
  std::vector<std::string> templates;  // "SRC:DEST[:COMMAND]"
  bool once = false;
  bool dry = false;
  std::string discovery_dir;
  std::string etcd;  // endpoints, comma separated
  std::string config_flag;
  bool strict = false;
};

int run_render_command(const RenderRequest& request, const config::Env& env);

}  // namespace autopilot::app
