// The helper functions ContainerPilot adds to its config template:
// default, env, split, join, replaceAll, regexReplaceAll, loop.
#pragma once

#include "config/config.h"
#include "tmpl/template.h"

namespace autopilot::config {

// `env` reads from `env`, which must outlive the returned functions.
tmpl::FuncMap containerpilot_funcs(const Env& env);

}  // namespace autopilot::config
