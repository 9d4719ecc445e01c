// Service: a job's health checks and its record in the catalog.
//
// Once the job has started, the check runs at once and then every
// health.interval (a run still going at the next tick makes that tick skip).
//   pass  -> publish `healthy` (source: the job); a job with a port is
//            registered (first pass), set passing, or heartbeated, so the
//            record lives another ttl.
//   fail  -> publish `unhealthy`; a registered instance is marked critical at
//            once (ContainerPilot lets the TTL run out, defect D9) and no
//            longer heartbeated, so it expires after ttl if failures go on.
//   exec checks also publish exitSuccess / exitFailed from `check.<job>`.
// `initial_status` registers the instance with that status when the job
// starts, before any check. A heartbeat or status change that finds the
// record gone (expired, catalog restarted) registers it again (defect D3).
//
// Maintenance (global enterMaintenance / exitMaintenance events): the
// instance is marked `maintenance` (out of every healthy list, still
// registered and heartbeated) and checks pause; leaving it runs a check at
// once, which registers the instance again as soon as it passes
// (ContainerPilot leaves it deregistered until Consul forgets, defect D3).
//
// withdraw() (the job is stopping): checks stop, the instance is
// deregistered, then the drain delay passes, then the caller continues with
// signalling the app, so proxies stop sending traffic before it goes away.
//
// Catalog operations are issued one at a time, towards the wanted state
// (reconciliation), so a slow catalog never piles up requests; a failure is
// logged and retried at the next tick. Nothing here blocks the loop.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "base/lifetime.h"
#include "discovery/catalog.h"
#include "events/bus.h"
#include "health/check.h"
#include "jobs/job_config.h"
#include "log/log.h"
#include "os/timers.h"
#include "wiring/wiring.h"

namespace autopilot::jobs {

enum class Health { kUnknown, kHealthy, kUnhealthy, kMaintenance };
std::string_view health_name(Health h);


class Service {
 public:
  // `check` is null for a heartbeat-only health block.
  Service(const JobConfig& job, const Wiring& wiring, std::unique_ptr<health::Check> check);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // The job has started: register with initial_status, begin checks.
  // Idempotent (a restarted job keeps its checks going).
  void start();
  void enter_maintenance();
  void exit_maintenance();
  // Stops checks, deregisters (giving up after `limit`), waits the drain
  // delay if the instance had been registered, then calls `done` (on the
  // loop, possibly inline when there is nothing to do).
  void withdraw(Duration limit, std::function<void()> done);
  // Stops everything at once; no catalog calls.
  void halt();

  Health health() const { return health_; }
  bool is_registered() const { return registered_; }
  const discovery::Instance& instance() const { return instance_; }

 private:
  void tick();
  void schedule_tick(Duration delay);
  void run_check();
  void on_result(const health::CheckResult& result);
  void sync();
  void after_op(const Result<void>& r, const char* what);
  void finish_withdraw();
  void publish(events::Code code, events::Source source) { wiring_.bus.publish({code, std::move(source)}); }

  const std::string job_;
  const health::HealthConfig health_config_;
  const ServiceConfig service_config_;
  const bool exec_check_;
  Wiring wiring_;
  std::unique_ptr<health::Check> check_;
  discovery::Instance instance_;

  Health health_ = Health::kUnknown;
  bool started_ = false;
  bool checking_ = false;
  bool maintenance_ = false;
  bool halted_ = false;
  os::Timer tick_timer_{wiring_.timers};
  os::Timer withdraw_timer_{wiring_.timers};

  // Catalog reconciliation.
  bool want_registered_ = false;
  discovery::Status want_status_ = discovery::Status::kPassing;
  bool need_heartbeat_ = false;
  bool registered_ = false;
  discovery::Status catalog_status_ = discovery::Status::kPassing;
  bool busy_ = false;
  bool withdrawing_ = false;
  bool was_registered_ = false;
  std::string last_error_;
  std::function<void()> withdrawn_;
  Lifetime lifetime_;  // last: ends the check and catalog callbacks
};

}  // namespace autopilot::jobs
