// The helper functions ContainerPilot adds to its config template:
// default, env, split, join, replaceAll, regexReplaceAll, loop. They carry
// ContainerPilot's Go signatures (tmpl::Signature), so arguments are typed as
// there: split, join, replaceAll, regexReplaceAll and env take strings (join
// a []string), and a wrong type fails with text/template's words; default
// takes anything and returns a string.
#pragma once

#include "config/config.h"
#include "tmpl/template.h"

namespace autopilot::config {

// `env` reads from `env`, which must outlive the returned functions.
tmpl::FuncMap containerpilot_funcs(const Env& env);

}  // namespace autopilot::config
