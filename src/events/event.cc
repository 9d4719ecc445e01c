#include "events/event.h"

#include <array>

namespace autopilot::events {
namespace {

struct Names {
  Code code;
  std::string_view when;
  std::string_view code_name;
};

constexpr std::array kNames{
    Names{Code::kStartup, "startup", "Startup"},
    Names{Code::kShutdown, "shutdown", "Shutdown"},
    Names{Code::kExitSuccess, "exitSuccess", "ExitSuccess"},
    Names{Code::kExitFailed, "exitFailed", "ExitFailed"},
    Names{Code::kStopping, "stopping", "Stopping"},
    Names{Code::kStopped, "stopped", "Stopped"},
    Names{Code::kStatusHealthy, "healthy", "StatusHealthy"},
    Names{Code::kStatusUnhealthy, "unhealthy", "StatusUnhealthy"},
    Names{Code::kStatusChanged, "changed", "StatusChanged"},
    Names{Code::kTimerExpired, "timerExpired", "TimerExpired"},
    Names{Code::kEnterMaintenance, "enterMaintenance", "EnterMaintenance"},
    Names{Code::kExitMaintenance, "exitMaintenance", "ExitMaintenance"},
    Names{Code::kSignal, "signal", "Signal"},
    Names{Code::kError, "error", "Error"},
};

const Names& lookup(Code code) { return kNames[static_cast<size_t>(code)]; }

}  // namespace

std::string_view when_name(Code code) { return lookup(code).when; }
std::string_view code_name(Code code) { return lookup(code).code_name; }

std::optional<Code> parse_when_name(std::string_view name) {
  for (const auto& n : kNames) {
    if (n.when == name) return n.code;
  }
  // Lower-camel code names ("statusHealthy") name the same events.
  for (const auto& n : kNames) {
    std::string lower(n.code_name);
    lower[0] = static_cast<char>(lower[0] - 'A' + 'a');
    if (lower == name) return n.code;
  }
  return std::nullopt;
}

const std::vector<std::string>& when_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& n : kNames) out.emplace_back(n.when);
    out.emplace_back("statusHealthy");
    out.emplace_back("statusUnhealthy");
    out.emplace_back("statusChanged");
    return out;
  }();
  return names;
}

std::string describe(const Event& e) { return std::string(when_name(e.code)) + " from " + e.source.str(); }

}  // namespace autopilot::events
