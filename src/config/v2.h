// ContainerPilot v2 configs (as of 2.7.8, the last v2), translated at load
// into the v3 job and watch model. The translation is a v3 document whose every value keeps the
// position of the v2 value it came from, so the v3 decoders' errors still
// name the v2 file's line and column:
//
//   the app (command line)  job <service it runs, else "app">, the mainJob
//   preStart (onStart)      job "preStart"; the app, services and coprocesses
//                           wait for its exitSuccess
//   preStop, postStop       jobs on the app's stopping / stopped
//   services[]              the app job's registration when the app runs it
//                           (the only service, or the one named "app"), else
//                           a job without exec: {name, port, health}
//   backends[]              watches + job "onChange-<name>" on each change
//   coprocesses[], tasks[]  jobs (restarts; when.interval = frequency)
//                           tasks and backends start after preStart
//                           succeeded (when.after, see JobConfig::gate)
//                           and pause in maintenance (no v3 key)
//   stopTimeout             seconds; -1: SIGKILL at once, no SIGTERM
//   consul, logging         as in v3; etcd -> discovery.etcd
//   telemetry               v3's block (port, interfaces, tags); each of
//                           its sensors a metric of the block and a job
//                           "sensor-<metric>" running `check` every `poll`
//                           (with `timeout`) whose output sets the metric
//                           (jobs::JobConfig::sensor_metric, no v3 key)
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "decode/decoder.h"
#include "json5/json5.h"

namespace autopilot::config {

struct V2Translation {
  json5::Document doc;  // a v3 config; positions are the v2 file's
  // The v2 path of each translated value, by its pointer in `doc`.
  std::map<std::string, std::string> shown_paths;
  // The job whose failure gives autopilot its exit status (v2's postStop).
  std::string exit_status_job;
  // Indexes of the jobs paused in maintenance (tasks, backends' onChange),
  // see jobs::JobConfig::pauses_in_maintenance.
  std::vector<size_t> paused_in_maintenance;
  // The sensors' jobs: index in `doc`'s jobs and the metric each sets.
  std::vector<std::pair<size_t, std::string>> sensors;
  // For `autopilot migrate`: JSON pointers of translated blocks and what
  // each came from.
  std::vector<std::pair<std::string, std::string>> notes;
};

// `d` reads the v2 document `v2`; `app` is the command line's app, each
// argument already rendered. `started`: a reload of a running config, where
// only the app still waits for preStart (v2 restarts the rest on SIGHUP).
Result<V2Translation> translate_v2(const decode::Decoder& d, const json5::Document& v2,
                                   const std::vector<std::string>& app, bool started = false);

}  // namespace autopilot::config
