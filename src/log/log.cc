#include "log/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace autopilot::log {
namespace {

std::string_view level_name(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warning";
    case Level::kError: return "error";
  }
  return "info";
}

std::string now_rfc3339() {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() % 1000000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:06d}Z", buf, micros);
}

// logfmt quoting: bare when safe, else a JSON-style quoted string.
std::string logfmt_value(std::string_view v) {
  bool bare = !v.empty();
  for (char c : v) bare = bare && c > ' ' && c != '"' && c != '=' && c != '\\';
  return bare ? std::string(v) : nlohmann::json(std::string(v)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere left to report a failing log
    off += static_cast<size_t>(n);
  }
}

}  // namespace

Log::Log(LogConfig config) : config_(std::move(config)) {}

Log::~Log() {
  if (owns_fd_) ::close(fd_);
}

Result<int> Log::open_output(const std::string& output) {
  if (output == "stdout" || output.empty()) return 1;
  if (output == "stderr") return 2;
  int fd = ::open(output.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return make_error(fmt::format("open {}: {}", output, std::strerror(errno)));
  return fd;
}

Result<void> Log::open() {
  auto fd = open_output(config_.output);
  if (!fd) return fd.error();
  if (owns_fd_) ::close(fd_);
  fd_ = *fd;
  owns_fd_ = fd_ > 2;
  return {};
}

Result<void> Log::reopen() {
  if (!owns_fd_) return {};
  return open();
}

Result<void> Log::reconfigure(LogConfig config) {
  if (config == config_) return {};
  auto fd = open_output(config.output);
  if (!fd) return fd.error();
  if (owns_fd_) ::close(fd_);
  config_ = std::move(config);
  fd_ = *fd;
  owns_fd_ = fd_ > 2;
  return {};
}

std::string Log::format(Level level, std::string_view msg, std::string_view job, int pid,
                        std::string_view time) const {
  switch (config_.format) {
    case Format::kJson: {
      nlohmann::ordered_json j;
      j["time"] = time;
      j["level"] = level_name(level);
      if (!job.empty()) j["job"] = job;
      if (pid) j["pid"] = pid;
      j["msg"] = msg;
      return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    }
    case Format::kText: {
      std::string out = fmt::format("time={} level={}", time, level_name(level));
      if (!job.empty()) out += " job=" + logfmt_value(job);
      if (pid) out += fmt::format(" pid={}", pid);
      return out + " msg=" + logfmt_value(msg) + "\n";
    }
    case Format::kDefault: {
      std::string out(time);
      if (!job.empty()) out += fmt::format(" {}", job);
      if (pid) out += fmt::format(" {}", pid);
      if (level >= Level::kWarn) out += fmt::format(" {}:", level_name(level));
      return out + " " + std::string(msg) + "\n";
    }
  }
  return std::string(msg) + "\n";
}

void Log::write(Level level, std::string_view msg, std::string_view job, int pid) {
  if (!enabled(level)) return;
  write_all(fd_, format(level, msg, job, pid, now_rfc3339()));
}

std::string Log::format_for_test(Level level, std::string_view msg, std::string_view job, int pid,
                                 std::string_view time) const {
  return format(level, msg, job, pid, time);
}

}  // namespace autopilot::log
