#include "telemetry/process_metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

namespace autopilot::telemetry {
namespace {

std::string read_all(const char* path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

double boot_time() {
  std::istringstream in(read_all("/proc/stat"));
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime" && (in >> value)) return value;
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

double count_open_fds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) return 0;
  double n = 0;
  while (auto* e = ::readdir(dir))
    if (e->d_name[0] != '.') ++n;
  ::closedir(dir);
  return n - 1;  // the directory handle itself
}

}  // namespace

Result<ProcessStats> parse_proc_stat(std::string_view stat, double ticks_per_second, double boot_time,
                                     double page_size) {
  // The command name (field 2) is in parentheses and may hold spaces: fields
  // are counted from the last ')'.
  auto close = stat.rfind(')');
  if (close == std::string_view::npos) return make_error("unexpected /proc stat format");
  std::istringstream in(std::string(stat.substr(close + 1)));
  std::vector<std::string> fields;  // fields[0] is field 3 (state)
  for (std::string f; in >> f;) fields.push_back(f);
  if (fields.size() < 22) return make_error("unexpected /proc stat format");
  auto field = [&](int n) { return std::strtod(fields[static_cast<size_t>(n - 3)].c_str(), nullptr); };
  ProcessStats s;
  s.cpu_seconds = (field(14) + field(15)) / ticks_per_second;
  s.start_time = boot_time + field(22) / ticks_per_second;
  s.resident_bytes = field(24) * page_size;
  return s;
}

Result<void> add_process_metrics(metrics::Registry& registry) {
  auto rss = registry.gauge("process_resident_memory_bytes", "Resident memory size in bytes.");
  if (!rss) return rss.error();
  auto cpu = registry.counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.");
  if (!cpu) return cpu.error();
  auto fds = registry.gauge("process_open_fds", "Number of open file descriptors.");
  if (!fds) return fds.error();
  auto start = registry.gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.");
  if (!start) return start.error();
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  const double boot = boot_time();
  registry.on_scrape([=, rss = *rss, cpu = *cpu, fds = *fds, start = *start] {
    auto s = parse_proc_stat(read_all("/proc/self/stat"), ticks, boot, page);
    if (!s) return;
    rss->get().set(s->resident_bytes);
    // The counter only follows the kernel's figure, which never goes down.
    auto& c = cpu->get();
    if (s->cpu_seconds > c.value()) (void)c.add(s->cpu_seconds - c.value());
    fds->get().set(count_open_fds());
    start->get().set(s->start_time);
  });
  return {};
}

}  // namespace autopilot::telemetry
