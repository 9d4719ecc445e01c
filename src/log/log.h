// Log: autopilot's own log and its children's output, one line per record.
// Format `default` ("<RFC3339 time> [job] [pid] msg"), `text` (logfmt) or
// `json`; output to stdout, stderr or a file that SIGUSR1 reopens (logrotate).
// Each record is one write(2), so lines from several sources never interleave.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>
#include <utility>

#include "base/result.h"

namespace autopilot::log {

enum class Level { kDebug, kInfo, kWarn, kError };
enum class Format { kDefault, kText, kJson };

struct LogConfig {
  Level level = Level::kInfo;
  Format format = Format::kDefault;
  std::string output = "stdout";  // "stdout", "stderr" or a file path

  bool operator==(const LogConfig&) const = default;
};

class Log {
 public:
  explicit Log(LogConfig config = {});
  ~Log();
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  // Opens the output (a file is created 0644 and appended to).
  Result<void> open();
  // Closes and reopens a file output; no-op for stdout/stderr.
  Result<void> reopen();
  // Switches to a new config (reload); on failure keeps the old output.
  Result<void> reconfigure(LogConfig config);

  bool enabled(Level level) const { return level >= config_.level; }
  // `job` and `pid` are optional fields (empty / 0 to omit).
  void write(Level level, std::string_view msg, std::string_view job = {}, int pid = 0);

  // Formats the message only when `level` is enabled: for lines on paths that
  // run often (every periodic run) and are usually filtered out.
  template <class... Args>
  void writef(Level level, fmt::format_string<Args...> format, Args&&... args) {
    if (enabled(level)) write(level, fmt::format(format, std::forward<Args>(args)...));
  }

  void debug(std::string_view msg) { write(Level::kDebug, msg); }
  void info(std::string_view msg) { write(Level::kInfo, msg); }
  void warn(std::string_view msg) { write(Level::kWarn, msg); }
  void error(std::string_view msg) { write(Level::kError, msg); }

  std::string format_for_test(Level level, std::string_view msg, std::string_view job, int pid,
                              std::string_view time) const;

 private:
  std::string format(Level level, std::string_view msg, std::string_view job, int pid, std::string_view time) const;
  static Result<int> open_output(const std::string& output);

  LogConfig config_;
  int fd_ = 1;
  bool owns_fd_ = false;
};

}  // namespace autopilot::log
