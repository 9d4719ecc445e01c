// The default main job: which job is "the app" when the config names none.
//
// Read from what the config says about each job, not from its position:
//   never the main job:  a job without exec; a periodic, signal or `each`
//                        job; a hook on another job's stopping/stopped or on
//                        shutdown; a job another job waits for with
//                        `exitSuccess` (a step that must finish first, such
//                        as the Autopilot pattern's preStart).
//   then, preferred in this order: a job registered in the catalog (it
//   serves); one started by startup or by another job's progress
//   (`exitSuccess`, `healthy`) rather than by a failure or a status change (a
//   job on the app's `exitFailed` is a reaction); one nothing else waits for
//   (a consul-agent coprocess the app waits `healthy` on is a helper); one
//   that starts after another job (the end of a preStart -> app chain); the
//   first in the file.
// "" when no job qualifies: autopilot then runs until every job is done.
#pragma once

#include <string>
#include <vector>

#include "jobs/job_config.h"

namespace autopilot::jobs {

std::string choose_main_job(const std::vector<JobConfig>& configs);

}  // namespace autopilot::jobs
