#include "jobs/service.h"

#include <fmt/format.h>

namespace autopilot::jobs {

using discovery::Status;
using events::Code;

std::string_view health_name(Health h) {
  switch (h) {
    case Health::kUnknown: return "unknown";
    case Health::kHealthy: return "healthy";
    case Health::kUnhealthy: return "unhealthy";
    case Health::kMaintenance: return "maintenance";
  }
  return "?";
}

Service::Service(const JobConfig& job, const Wiring& wiring, std::unique_ptr<health::Check> check)
    : job_(job.name),
      health_config_(job.health.value_or(health::HealthConfig{})),
      service_config_(job.service),
      exec_check_(health_config_.kind == health::Kind::kExec),
      wiring_(wiring),
      check_(std::move(check)) {
  if (service_config_.is_registered()) instance_ = instance_of(job);
}

Service::~Service() { halt(); }

void Service::start() {
  if (started_ || halted_) return;
  started_ = true;
  if (service_config_.is_registered() && service_config_.initial_status) {
    want_registered_ = true;
    want_status_ = *service_config_.initial_status;
    sync();
  }
  schedule_tick(Duration{0});
}

void Service::schedule_tick(Duration delay) {
  tick_timer_.after(delay, [this] { tick(); });
}

void Service::tick() {
  if (halted_ || withdrawing_) return;
  schedule_tick(health_config_.interval);
  if (maintenance_) {
    // Keep the maintenance record alive; checks are paused.
    need_heartbeat_ = true;
    return sync();
  }
  if (checking_) {
    wiring_.log.warn(fmt::format("check.{}: still running at its next interval; skipping this run", job_));
    return;
  }
  run_check();
}

void Service::run_check() {
  if (!check_) return on_result({true, ""});
  checking_ = true;
  check_->run(health_config_.timeout, lifetime_.bind([this, start = wiring_.timers.now()](health::CheckResult r) {
    checking_ = false;
    if (auto* m = wiring_.operator_metrics) {
      m->health_checks->with({job_, r.healthy ? "healthy" : "unhealthy"}).inc();
      m->health_check_duration->with({job_}).observe(metrics::seconds_between(start, wiring_.timers.now()));
    }
    on_result(r);
  }));
}

void Service::on_result(const health::CheckResult& result) {
  if (halted_ || withdrawing_ || maintenance_) return;
  if (exec_check_) publish(result.healthy ? Code::kExitSuccess : Code::kExitFailed, events::Source::check(job_));
  Health before = health_;
  if (result.healthy) {
    health_ = Health::kHealthy;
    if (before != Health::kHealthy) wiring_.log.info(fmt::format("check.{}: healthy", job_));
    publish(Code::kStatusHealthy, events::Source::job(job_));
    if (service_config_.is_registered()) {
      want_registered_ = true;
      want_status_ = Status::kPassing;
      need_heartbeat_ = true;
    }
  } else {
    health_ = Health::kUnhealthy;
    auto level = before == Health::kUnhealthy ? log::Level::kDebug : log::Level::kWarn;
    wiring_.log.write(level, fmt::format("check.{}: unhealthy: {}", job_, result.detail));
    publish(Code::kStatusUnhealthy, events::Source::job(job_));
    if (service_config_.is_registered()) {
      want_status_ = Status::kCritical;
      need_heartbeat_ = false;
    }
  }
  sync();
}

void Service::enter_maintenance() {
  if (maintenance_ || halted_ || withdrawing_) return;
  maintenance_ = true;
  health_ = Health::kMaintenance;
  if (check_ && checking_) {
    check_->cancel();
    checking_ = false;
  }
  wiring_.log.info(fmt::format("job {}: entering maintenance", job_));
  if (service_config_.is_registered()) {
    want_status_ = Status::kMaintenance;
    sync();
  }
}

void Service::exit_maintenance() {
  if (!maintenance_ || halted_ || withdrawing_) return;
  maintenance_ = false;
  health_ = Health::kUnknown;
  wiring_.log.info(fmt::format("job {}: leaving maintenance; checking at once", job_));
  if (!started_) return;
  schedule_tick(Duration{0});  // replaces the pending tick
}

// Issues the next catalog operation towards the wanted state, one at a time.
void Service::sync() {
  if (busy_ || halted_ || !service_config_.is_registered() || !wiring_.catalog) return;
  auto then = [this](const char* what) {
    return lifetime_.bind([this, what](Result<void> r) {
      busy_ = false;
      after_op(r, what);
    });
  };
  if (withdrawing_) {
    if (!registered_ && !was_registered_) return finish_withdraw();
    busy_ = true;
    wiring_.catalog->deregister(instance_.id, lifetime_.bind([this](Result<void> r) {
      busy_ = false;
      registered_ = false;
      if (!r) wiring_.log.warn(fmt::format("job {}: deregistering {}: {}", job_, instance_.id, r.error().message));
      else wiring_.log.info(fmt::format("job {}: deregistered {}", job_, instance_.id));
      finish_withdraw();
    }));
    return;
  }
  if (!want_registered_) return;
  if (!registered_) {
    // A failing check only registers an instance that was registered before.
    if (want_status_ == Status::kCritical && !was_registered_) return;
    busy_ = true;
    discovery::Instance instance = instance_;
    instance.status = want_status_;
    auto status = want_status_;
    wiring_.catalog->register_instance(instance, health_config_.ttl, lifetime_.bind([this, status](Result<void> r) {
      busy_ = false;
      if (r) {
        if (!registered_)
          wiring_.log.info(fmt::format("job {}: registered {} at {}:{} ({})", job_, instance_.id, instance_.address,
                                    instance_.port, discovery::status_name(status)));
        registered_ = was_registered_ = true;
        catalog_status_ = status;
        need_heartbeat_ = false;
      }
      after_op(r, "registering");
    }));
    return;
  }
  if (catalog_status_ != want_status_) {
    busy_ = true;
    Status status = want_status_;
    wiring_.catalog->set_status(instance_.id, status, lifetime_.bind([this, status](Result<void> r) {
      busy_ = false;
      if (r) {
        wiring_.log.info(fmt::format("job {}: {} is now {}", job_, instance_.id, discovery::status_name(status)));
        catalog_status_ = status;
      }
      after_op(r, "setting the status of");
    }));
    return;
  }
  if (need_heartbeat_) {
    busy_ = true;
    need_heartbeat_ = false;
    wiring_.catalog->heartbeat(instance_.id, then("heartbeating"));
  }
}

void Service::after_op(const Result<void>& r, const char* what) {
  if (withdrawing_) return sync();  // deregister whatever the last operation did
  if (r) {
    if (!last_error_.empty()) wiring_.log.info(fmt::format("job {}: the catalog answers again", job_));
    last_error_.clear();
    return sync();
  }
  if (r.error().kind == ErrorKind::kNotFound) {
    // Expired or forgotten: register again (with the status we want).
    wiring_.log.warn(fmt::format("job {}: {} is no longer in the catalog; registering it again", job_, instance_.id));
    registered_ = false;
    return sync();
  }
  // Retried at the next tick; say it once per outage.
  if (last_error_ != r.error().message)
    wiring_.log.warn(fmt::format("job {}: {} {}: {}", job_, what, instance_.id, r.error().message));
  last_error_ = r.error().message;
}

void Service::withdraw(Duration limit, std::function<void()> done) {
  if (halted_ || withdrawing_) {
    if (done) done();
    return;
  }
  withdrawing_ = true;
  withdrawn_ = std::move(done);
  tick_timer_.cancel();
  if (check_) check_->cancel();
  checking_ = false;
  if (!service_config_.is_registered() || !wiring_.catalog || (!registered_ && !busy_ && !was_registered_))
    return finish_withdraw();
  withdraw_timer_.after(limit, [this, limit] {
    wiring_.log.warn(fmt::format("job {}: the catalog did not confirm deregistering {} within {}; stopping anyway",
                              job_, instance_.id, format_duration(limit)));
    auto done = std::move(withdrawn_);
    withdrawn_ = nullptr;
    if (done) done();
  });
  sync();  // a running operation calls sync() again when it ends
}

void Service::finish_withdraw() {
  withdraw_timer_.cancel();
  auto done = std::move(withdrawn_);
  withdrawn_ = nullptr;
  if (!done) return;
  if (!was_registered_ || service_config_.drain.count() <= 0) return done();
  wiring_.log.info(fmt::format("job {}: draining for {} before stopping", job_, format_duration(service_config_.drain)));
  withdraw_timer_.after(service_config_.drain, [done] { done(); });
}

void Service::halt() {
  halted_ = true;
  withdrawn_ = nullptr;
  tick_timer_.cancel();
  withdraw_timer_.cancel();
  if (check_) check_->cancel();
  checking_ = false;
}

}  // namespace autopilot::jobs
