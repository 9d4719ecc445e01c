#include "app/app.h"

#include <unistd.h>

#include <cctype>
#include <csignal>
#include <functional>

#include <fmt/format.h>

#include "app/linux_wiring.h"
#include "control/control_server.h"
#include "discovery/discovery_config.h"
#include "events/bus.h"
#include "files/materializer.h"
#include "jobs/supervisor.h"
#include "log/log.h"
#include "os/linux/signals.h"
#include "render/renderer.h"
#include "telemetry/telemetry.h"
#include "watches/watch.h"

namespace autopilot::app {
namespace {

// How long shutdown waits for the catalog to confirm the telemetry
// endpoint's deregistration.
constexpr Duration kTelemetryWithdrawLimit = std::chrono::seconds(5);

// AUTOPILOT_APP_IP for job "app": the env var name part of a job name.
std::string env_name(const std::string& job) {
  std::string out;
  for (char c : job) out += std::isalnum(static_cast<unsigned char>(c)) ? std::toupper(c) : '_';
  return out;
}

// Every child's environment: ours, plus our pid and the address each
// registered job advertises (ContainerPilot's CONTAINERPILOT_<JOB>_IP).
os::Environment child_environment(const config::Env& env, const config::Config& config) {
  config::Env vars = env;
  std::string pid = std::to_string(::getpid());
  vars["AUTOPILOT_PID"] = vars["CONTAINERPILOT_PID"] = pid;
  for (const auto& job : config.jobs) {
    if (!job.service.is_registered()) continue;
    vars["AUTOPILOT_" + env_name(job.name) + "_IP"] = vars["CONTAINERPILOT_" + env_name(job.name) + "_IP"] =
        job.service.address;
  }
  return environment_of(vars);
}

class Runner {
 public:
  Runner(config::Config config, const RunOptions& options)
      : options_(options),
        env_vars_(options.env),
        config_(std::move(config)),
        os_(config_.logging, env_vars_),
        log_(os_.log()),
        bus_(os_.bus()),
        signals_(os_.loop(), [this](int sig) { on_signal(sig); }) {}

  int run() {
    if (auto r = log_.open(); !r) {
      fmt::print(stderr, "autopilot: {}\n", r.error().message);
      return 2;
    }
    if (auto r = open_catalog(); !r) {
      log_.error(r.error().message);
      return 1;
    }
    if (auto r = start_telemetry(); !r) {
      log_.error("telemetry: " + r.error().message);
      return 1;
    }
    if (config_.files.empty()) {
      if (!start_control_then_jobs()) return 1;
    } else {
      write_files_then_start_jobs();
    }
    os_.loop().run();
    if (control_) control_->stop();  // the socket file goes before we report the exit
    if (!supervisor_) return stopped_before_jobs_;
    int code = supervisor_->exit_code();
    log_.info(fmt::format("reaped {} orphaned processes", os_.processes().orphans_reaped()));
    log_.info(fmt::format("autopilot exiting with status {}", code));
    return code;
  }

 private:
  Result<void> open_catalog() {
    if (config_.consul_given)
      log_.warn("the `consul` key is ignored: autopilot uses its own catalog (" + config_.discovery.describe() + ")");
    if (os_.catalog() || !config_.needs_catalog()) return {};
    if (auto opened = os_.open_catalog(config_.discovery); !opened)
      return make_error("opening the " + config_.discovery.describe() + ": " + opened.error().message);
    catalog_config_ = config_.discovery;
    log_.debug("using the " + config_.discovery.describe());
    return {};
  }

  // Before the jobs, so that their first events are counted.
  Result<void> start_telemetry() {
    if (!config_.telemetry) return {};
    if (auto r = os_.enable_operator_metrics(); !r) return r;
    telemetry::TelemetryOptions options{.version = AUTOPILOT_VERSION_STRING,
                                        .status = [this] { return status_report(); },
                                        .watch_instances = [this] { return watch_instances(); }};
    telemetry_ = std::make_unique<telemetry::Telemetry>(*config_.telemetry, os_.wiring(), std::move(options));
    if (auto r = telemetry_->start(); !r) return r;
    log_.info(fmt::format("telemetry: serving /metrics and /status on {}:{}", config_.telemetry->address,
                          telemetry_->port()));
    return {};
  }

  // Before the jobs, so that nothing starts when a `control.socket` cannot be
  // listened on. Without a `control` block the default socket is only tried
  // (ContainerPilot always listens there): a second autopilot on the host or
  // a user who may not write /var/run still runs, without the socket.
  Result<void> start_control() {
    std::vector<std::string> user_metrics;
    if (config_.telemetry)
      for (const auto& m : config_.telemetry->metrics) user_metrics.push_back(m.name);
    control::ControlOptions options{
        .reload =
            [this] {
              auto r = reload();
              if (!r) log_.error(r.error().message);
              return r;
            },
        .set_maintenance = [this](bool enable) { set_maintenance(enable, "control"); },
        .putenv = [this](const std::map<std::string, std::string>& vars) { putenv(vars); },
        .status_json = [this] { return telemetry::status_json(AUTOPILOT_VERSION_STRING, status_report()); },
        .user_metrics = std::move(user_metrics)};
    control_ = std::make_unique<control::ControlServer>(config_.control, os_.wiring(), std::move(options));
    if (auto r = control_->start(); !r) {
      control_.reset();
      if (config_.control.is_given) return r;
      log_.warn("control: " + r.error().message + "; running without the control socket (give `control.socket` "
                "a path this process can use)");
      return {};
    }
    log_.info("control: serving the control API on " + config_.control.socket);
    return {};
  }

  // POST /v3/environ: ContainerPilot sets its own environment, so every
  // later child inherits it and the next reload renders the config over it;
  // we keep it in env_vars_ instead (no setenv) and rebuild the children's.
  void putenv(const std::map<std::string, std::string>& vars) {
    for (const auto& [k, v] : vars) env_vars_[k] = v;
    env_ = child_environment(env_vars_, config_);
    log_.info(fmt::format("control: {} environment variable(s) set for later jobs", vars.size()));
  }

  // What /status shows: ContainerPilot's Services are the jobs with a port.
  telemetry::StatusReport status_report() const {
    telemetry::StatusReport report;
    if (supervisor_) {
      for (const jobs::Job* job : supervisor_->jobs()) {
        const jobs::Service* service = job->service();
        std::string status(service ? jobs::health_name(service->health()) : "unknown");
        const auto& svc = job->config().service;
        if (svc.is_registered())
          report.services.push_back({job->name(), svc.address, svc.port, status});
        else
          report.jobs.push_back({job->name(), status});
      }
    }
    for (const auto& w : config_.watches) report.watches.push_back(w.name);
    return report;
  }

  std::vector<std::pair<std::string, size_t>> watch_instances() const {
    std::vector<std::pair<std::string, size_t>> out;
    if (!watches_) return out;
    for (const auto& w : config_.watches)
      if (const auto* watch = watches_->find(w.name)) out.emplace_back(w.name, watch->instances().size());
    return out;
  }

  // The `files` entries are written before any job starts; a failure is a
  // config error (exit 2, its file:line:col), and no job starts.
  void write_files_then_start_jobs() {
    materializer_ = std::make_unique<files::Materializer>(os_.wiring());
    materializer_->run(config_.files, [this](Result<std::vector<files::Outcome>> written) {
      if (!written) {
        fmt::print(stderr, "autopilot: {}\n", written.error().format());
        stopped_before_jobs_ = 2;
        os_.loop().stop();
        return;
      }
      if (!start_control_then_jobs()) {
        stopped_before_jobs_ = 1;
        os_.loop().stop();
        return;
      }
      files::publish_changes(bus_, config_.files, *written);
    });
  }

  // The control socket once the files are there (a config error in them
  // exits 2 first); false when it stopped the start (exit 1, no job ran).
  bool start_control_then_jobs() {
    if (auto r = start_control(); !r) {
      log_.error("control: " + r.error().message);
      return false;
    }
    start_jobs();
    return true;
  }

  void start_jobs() {
    env_ = child_environment(env_vars_, config_);
    os_.set_child_env([this] { return child_env(); });
    const Wiring wiring = os_.wiring();
    if (os_.catalog()) {
      watches_ = std::make_unique<watches::Watches>(wiring);
      watches_->start(config_.watches);
      renderers_ = std::make_unique<render::Renderers>(wiring);
      renderers_->start(config_.templates);
    }
    supervisor_ = std::make_unique<jobs::Supervisor>(
        wiring, jobs::JobOptions{.default_stop_timeout = config_.stop_timeout}, config_.jobs, config_.main_job);
    supervisor_->on_all_done = [this] { end_descendants_then([this] { withdraw_telemetry_then_stop(); }); };
    supervisor_->exit_status_job = config_.exit_status_job;
    log_.info(fmt::format("autopilot {} started (pid {}){}", AUTOPILOT_VERSION_STRING, ::getpid(),
                          config_.main_job.empty() ? "" : "; main job: " + config_.main_job));
    supervisor_->start();
  }

  // As a sub-reaper (not PID 1, whose exit ends its whole namespace), what
  // the jobs left behind would outlive us: SIGTERM, then SIGKILL after
  // stopTimeout; then `next`.
  void end_descendants_then(std::function<void()> next) {
    if (::getpid() == 1) return next();
    auto grace = std::max(config_.stop_timeout, Duration::zero());
    os_.processes().end_descendants(grace, [this, next = std::move(next)](size_t signalled) {
      if (signalled > 0) log_.info(fmt::format("ended {} processes left behind by jobs", signalled));
      next();
    });
  }

  // The endpoint stays registered while the jobs stop (it still serves), and
  // leaves the catalog last.
  void withdraw_telemetry_then_stop() {
    if (!telemetry_) return os_.loop().stop();
    telemetry_->withdraw(kTelemetryWithdrawLimit, [this] { os_.loop().stop(); });
  }

  void on_signal(int sig) {
    if (!supervisor_) return on_signal_before_jobs(sig);
    switch (sig) {
      case SIGTERM:
      case SIGINT:
        if (supervisor_->is_shutting_down()) {
          log_.warn(fmt::format("received {} again while shutting down; still waiting for jobs", strsignal(sig)));
        }
        if (materializer_) materializer_->cancel();
        if (watches_) watches_->stop();
        if (renderers_) renderers_->stop();
        supervisor_->shutdown();
        break;
      case SIGHUP:
        if (auto r = reload(); !r) log_.error(r.error().message);
        // With files to write, the reload ends later; it publishes SIGHUP then.
        if (!materializer_ || !materializer_->is_running()) publish_sighup();
        break;
      case SIGUSR1:
        if (config_.is_v2) {
          set_maintenance(!in_maintenance_, "SIGUSR1");
          break;
        }
        if (auto r = log_.reopen(); !r) log_.error("reopening the log: " + r.error().message);
        break;
      case SIGUSR2:
        bus_.publish({events::Code::kSignal, events::Source::signal("SIGUSR2")});
        break;
    }
  }

  // While the files are written: SIGTERM and SIGINT end autopilot before any
  // job starts; SIGHUP is ignored (the config being applied is the newest
  // loaded); the rest waits for the jobs.
  void on_signal_before_jobs(int sig) {
    if (sig != SIGTERM && sig != SIGINT) {
      log_.warn(fmt::format("{} ignored: the files are still being written, no job has started", strsignal(sig)));
      return;
    }
    log_.info(fmt::format("received {} while writing the files; exiting before any job starts", strsignal(sig)));
    materializer_->cancel();
    os_.loop().stop();
  }

  // A v2 config's children also get CONTAINERPILOT_APP_PID and
  // CONTAINERPILOT_PRESTART_PID while those run; rebuilt only when they change.
  os::Environment child_env() {
    if (!config_.is_v2 || !supervisor_) return env_;
    auto pid_of = [this](const std::string& job) {
      const jobs::Job* j = job.empty() ? nullptr : supervisor_->find(job);
      return j ? j->pid() : 0;
    };
    std::pair<int, int> pids{pid_of(config_.main_job), pid_of("preStart")};
    if (pids != v2_pids_ || v2_env_base_ != env_) {
      v2_pids_ = pids;
      v2_env_base_ = env_;
      std::vector<std::string> entries = env_.entries();
      if (pids.first) entries.push_back("CONTAINERPILOT_APP_PID=" + std::to_string(pids.first));
      if (pids.second) entries.push_back("CONTAINERPILOT_PRESTART_PID=" + std::to_string(pids.second));
      v2_env_ = os::Environment(std::move(entries));
    }
    return v2_env_;
  }

  // Every registered job leaves the healthy lists (its checks pause) until
  // maintenance ends, when it registers again (ContainerPilot's defect D3:
  // it never came back). From the control socket, or a v2 config's SIGUSR1
  // (a toggle). Asking for the state already in force changes nothing.
  void set_maintenance(bool enable, const char* by) {
    if (enable == in_maintenance_) return;
    in_maintenance_ = enable;
    log_.info(fmt::format("{}: {} maintenance", by, enable ? "entering" : "leaving"));
    bus_.publish({enable ? events::Code::kEnterMaintenance : events::Code::kExitMaintenance,
                  events::Source::global()});
  }

  // SIGHUP and POST /v3/reload. The error says why the new config was
  // refused (the caller logs it); the running one then stays.
  Result<void> reload() {
    if (!supervisor_) return make_error("reload refused: the config's files are still being written");
    if (supervisor_->is_shutting_down()) return make_error("reload refused: autopilot is shutting down");
    config::LoadOptions load = options_.load;
    load.v2_started = config_.is_v2;
    auto fresh = config::load(options_.config_path, env_vars_, load);
    if (!fresh) return make_error("reload refused, keeping the running config: " + fresh.error().format());
    if (auto r = log_.reconfigure(fresh->logging); !r) log_.error("reload: logging: " + r.error().message);
    if (os_.catalog() && fresh->discovery != catalog_config_) {
      log_.warn("reload: the catalog cannot change while running; keeping the " + catalog_config_.describe() +
                " (restart autopilot to switch)");
      fresh->discovery = catalog_config_;
    }
    if (!os_.catalog() && fresh->needs_catalog())
      return make_error("reload refused: the new config registers or watches services, which needs the catalog; "
                        "restart autopilot to open it");
    if (fresh->telemetry != config_.telemetry)
      log_.warn("reload: the telemetry block cannot change while running; keeping the running one (restart "
                "autopilot to apply it)");
    fresh->telemetry = config_.telemetry;
    if (fresh->control.socket != config_.control.socket)
      log_.warn("reload: the control socket cannot change while running; keeping " + config_.control.socket +
                " (restart autopilot to apply it)");
    fresh->control = config_.control;
    if (fresh->files.empty()) {
      if (materializer_) materializer_->cancel();  // an older reload's run
      apply(std::move(*fresh));
      return {};
    }
    // The files first, so that jobs the new config starts find them; a file
    // that cannot be written refuses the reload (files written before it stay).
    if (!materializer_) materializer_ = std::make_unique<files::Materializer>(os_.wiring());
    auto files = fresh->files;
    materializer_->run(std::move(files), [this, fresh = std::make_shared<config::Config>(std::move(*fresh))](
                                             Result<std::vector<files::Outcome>> written) {
      if (supervisor_->is_shutting_down()) return;
      if (!written) {
        log_.error("reload refused, keeping the running config: " + written.error().format());
      } else {
        apply(std::move(*fresh));
        files::publish_changes(bus_, config_.files, *written);
      }
      publish_sighup();
    });
    return {};
  }

  void publish_sighup() { bus_.publish({events::Code::kSignal, events::Source::signal("SIGHUP")}); }

  void apply(config::Config fresh) {
    config_ = std::move(fresh);
    env_ = child_environment(env_vars_, config_);
    log_.info("reloading " + options_.config_path);
    if (watches_) watches_->reload(config_.watches);
    if (renderers_) renderers_->reload(config_.templates);
    supervisor_->exit_status_job = config_.exit_status_job;
    supervisor_->reload(config_.jobs, config_.main_job);
  }

  const RunOptions& options_;
  // Our environment plus what /v3/environ set: the templates' `env`, the
  // children's and what a reload renders the config over.
  config::Env env_vars_;
  config::Config config_;
  os::Environment env_;  // children's environment (v2 adds the pids to it)
  os::Environment v2_env_, v2_env_base_;
  std::pair<int, int> v2_pids_{0, 0};
  // Declared before its users, so it is destroyed after them.
  LinuxWiring os_;
  log::Log& log_;
  events::Bus& bus_;
  os::SignalSource signals_;
  discovery::DiscoveryConfig catalog_config_;
  std::unique_ptr<telemetry::Telemetry> telemetry_;
  std::unique_ptr<files::Materializer> materializer_;
  int stopped_before_jobs_ = 0;  // the exit status when no job started
  std::unique_ptr<control::ControlServer> control_;
  std::unique_ptr<watches::Watches> watches_;
  std::unique_ptr<render::Renderers> renderers_;
  std::unique_ptr<jobs::Supervisor> supervisor_;
  bool in_maintenance_ = false;
};

}  // namespace

int run(config::Config config, const RunOptions& options) {
  Runner runner(std::move(config), options);
  return runner.run();
}

}  // namespace autopilot::app
