#include "log/log_config.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <string>
#include <vector>

namespace autopilot::log {
namespace {

const std::vector<std::string> kLoggingKeys{"level", "format", "output"};

}  // namespace

Result<LogConfig> decode_logging(const decode::Decoder& d, const decode::Node& n) {
  if (auto r = d.only_keys(n, kLoggingKeys); !r) return r.error();
  LogConfig c;
  if (auto level = d.field(n, "level")) {
    auto s = d.string(*level);
    if (!s) return s.error();
    std::string l = *s;
    std::transform(l.begin(), l.end(), l.begin(), ::toupper);
    if (l == "DEBUG") c.level = Level::kDebug;
    else if (l == "INFO") c.level = Level::kInfo;
    else if (l == "WARN" || l == "WARNING") c.level = Level::kWarn;
    else if (l == "ERROR" || l == "FATAL" || l == "PANIC") c.level = Level::kError;
    else return d.error(*level, "\"" + *s + "\" is not a log level (DEBUG, INFO, WARN, ERROR)");
  }
  if (auto format = d.field(n, "format")) {
    auto s = d.string(*format);
    if (!s) return s.error();
    if (*s == "default") c.format = Format::kDefault;
    else if (*s == "text") c.format = Format::kText;
    else if (*s == "json") c.format = Format::kJson;
    else return d.error(*format, "\"" + *s + "\" is not a log format (default, text, json)");
  }
  if (auto output = d.field(n, "output")) {
    auto s = d.string(*output);
    if (!s) return s.error();
    if (s->empty()) return d.error(*output, "must be stdout, stderr or a file path");
    // Found here, with a position, rather than when the log is opened at run.
    if (*s != "stdout" && *s != "stderr") {
      std::error_code ec;
      auto dir = std::filesystem::path(*s).parent_path();
      if (!dir.empty() && !std::filesystem::is_directory(dir, ec))
        return d.error(*output, "the directory " + dir.string() + " does not exist");
    }
    c.output = *s;
  }
  return c;
}

}  // namespace autopilot::log
