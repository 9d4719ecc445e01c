// `autopilot migrate`: a ContainerPilot v2 config written out as the v3
// config it is translated into (config/v2.h), in JSON5 with a short comment
// over each translated block. The output loads as the same jobs and watches.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "config/config.h"

namespace autopilot::config {

// `text` is the v2 file as written; its templates are kept when it is JSON
// as it stands (the v3 config is rendered over the environment too), else
// it is rendered over `env` first and the output says so. `app` is the v2
// command line's app, kept unrendered for the same reason.
Result<std::string> migrate_v2(const std::string& file, const std::string& text, const std::vector<std::string>& app,
                               const Env& env);

}  // namespace autopilot::config
