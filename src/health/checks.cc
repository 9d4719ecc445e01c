#include "health/checks.h"

#include "events/source.h"
#include "health/exec_check.h"
#include "health/http_check.h"
#include "health/tcp_check.h"

namespace autopilot::health {

std::unique_ptr<Check> make_check(const HealthConfig& config, const std::string& job, const Wiring& wiring) {
  switch (config.kind) {
    case Kind::kHeartbeat:
      return nullptr;
    case Kind::kExec:
      return std::make_unique<ExecCheck>(ExecCheckSpec{events::Source::check(job).str(), config.exec, config.raw_logging, wiring.child_env},
                                         wiring.processes, wiring.timers, wiring.log);
    case Kind::kHttp: {
      auto target = parse_http_target(config.url, config.status ? std::optional<int>(config.status) : std::nullopt);
      if (!target) return nullptr;  // validated at load time
      return std::make_unique<HttpCheck>(wiring.loop, *target);
    }
    case Kind::kTcp: {
      auto target = parse_tcp_target(config.address);
      if (!target) return nullptr;
      return std::make_unique<TcpCheck>(wiring.loop, *target);
    }
  }
  return nullptr;
}

}  // namespace autopilot::health
