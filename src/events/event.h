// Events: what jobs, health checks and watches tell each other. An event is a
// (code, source) pair, as in ContainerPilot v3; `when` clauses match both.
// This area knows nothing about processes or the catalog.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/source.h"

namespace autopilot::events {

enum class Code {
  kStartup,           // source "global", once, after every job is subscribed
  kShutdown,          // source "global", on SIGTERM/SIGINT
  kExitSuccess,       // source job name: its exec exited 0
  kExitFailed,        // source job name: non-zero, killed, timed out or failed to start
  kStopping,          // source job name: first step of its stop
  kStopped,           // source job name: last step of its stop; source "global" when autopilot is done
  kStatusHealthy,     // "healthy": a passing health check, or a watch that gained its first healthy instance
  kStatusUnhealthy,   // "unhealthy"
  kStatusChanged,     // "changed": a watched service changed
  kTimerExpired,      // source job name: its when.timeout elapsed before its start event
  kEnterMaintenance,  // source "global"
  kExitMaintenance,   // source "global"
  kSignal,            // source "SIGHUP" / "SIGUSR2"
  kError,             // source: the error text
};

struct Event {
  Code code;
  Source source;

  bool operator==(const Event&) const = default;
};

// The name a `when.once` / `when.each` uses ("exitSuccess", "healthy", ...).
std::string_view when_name(Code code);
// The name ContainerPilot's metric label uses ("ExitSuccess", "StatusHealthy", ...).
std::string_view code_name(Code code);
// Parses a `when` event name; accepts ContainerPilot's names and the code
// names' lower-camel forms ("statusHealthy"). nullopt for unknown names.
std::optional<Code> parse_when_name(std::string_view name);
// Every accepted `when` event name, for "did you mean" suggestions.
const std::vector<std::string>& when_names();

std::string describe(const Event& e);  // "exitSuccess from db-migrate"

}  // namespace autopilot::events
