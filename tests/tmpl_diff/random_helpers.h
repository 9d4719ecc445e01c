// A seeded generator of random cases for ContainerPilot's config-template
// helpers, run with funcs mode "containerpilot" on both sides (our
// config::containerpilot_funcs, and goref's copy of ContainerPilot's Go
// funcs). Same contract as generate_case: (seed, index) alone decide a case.
#pragma once

#include <cstdint>

#include "random_template.h"

namespace autopilot::tmpl_diff {

RandomCase generate_helper_case(uint64_t seed, uint64_t index);

}  // namespace autopilot::tmpl_diff
