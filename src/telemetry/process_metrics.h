// ProcessMetrics: the Prometheus client's process collector, computed from
// /proc when scraped (nothing runs between scrapes):
// process_resident_memory_bytes, process_cpu_seconds_total,
// process_open_fds and process_start_time_seconds. /proc is in memory, so the
// reads do not wait on a disk.
#pragma once

#include <optional>
#include <string>

#include "base/result.h"
#include "metrics/registry.h"

namespace autopilot::telemetry {

struct ProcessStats {
  double cpu_seconds = 0;    // user + system
  double start_time = 0;     // seconds since the epoch
  double resident_bytes = 0;
  double open_fds = 0;
};

// Parses /proc/<pid>/stat text. `ticks_per_second` is sysconf(_SC_CLK_TCK),
// `boot_time` the btime of /proc/stat, `page_size` in bytes.
Result<ProcessStats> parse_proc_stat(std::string_view stat, double ticks_per_second, double boot_time,
                                     double page_size);

// Registers the four gauges/counters in `registry` and a scrape collector
// that fills them from this process's /proc entries.
Result<void> add_process_metrics(metrics::Registry& registry);

}  // namespace autopilot::telemetry
