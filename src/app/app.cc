#include "app/app.h"

#include <unistd.h>

#include <cctype>
#include <csignal>

#include <fmt/format.h>

#include "app/linux_wiring.h"
#include "discovery/discovery_config.h"
#include "events/bus.h"
#include "jobs/supervisor.h"
#include "log/log.h"
#include "os/linux/signals.h"
#include "render/renderer.h"
#include "watches/watch.h"

namespace autopilot::app {
namespace {

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
        config_(std::move(config)),
        os_(config_.logging, options_.env),
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
    start_jobs();
    os_.loop().run();
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

  void start_jobs() {
    os_.set_child_env(child_environment(options_.env, config_));
    const Wiring wiring = os_.wiring();
    if (os_.catalog()) {
      watches_ = std::make_unique<watches::Watches>(wiring);
      watches_->start(config_.watches);
      renderers_ = std::make_unique<render::Renderers>(wiring);
      renderers_->start(config_.templates);
    }
    supervisor_ = std::make_unique<jobs::Supervisor>(
        wiring, jobs::JobOptions{.default_stop_timeout = config_.stop_timeout}, config_.jobs, config_.main_job);
    supervisor_->on_all_done = [this] { os_.loop().stop(); };
    log_.info(fmt::format("autopilot {} started (pid {}){}", AUTOPILOT_VERSION_STRING, ::getpid(),
                          config_.main_job.empty() ? "" : "; main job: " + config_.main_job));
    supervisor_->start();
  }

  void on_signal(int sig) {
    switch (sig) {
      case SIGTERM:
      case SIGINT:
        if (supervisor_->is_shutting_down()) {
          log_.warn(fmt::format("received {} again while shutting down; still waiting for jobs", strsignal(sig)));
        }
        if (watches_) watches_->stop();
        if (renderers_) renderers_->stop();
        supervisor_->shutdown();
        break;
      case SIGHUP:
        reload();
        bus_.publish({events::Code::kSignal, events::Source::signal("SIGHUP")});
        break;
      case SIGUSR1:
        if (auto r = log_.reopen(); !r) log_.error("reopening the log: " + r.error().message);
        break;
      case SIGUSR2:
        bus_.publish({events::Code::kSignal, events::Source::signal("SIGUSR2")});
        break;
    }
  }

  void reload() {
    if (supervisor_->is_shutting_down()) return;
    auto fresh = config::load(options_.config_path, options_.env, options_.load);
    if (!fresh) {
      log_.error("reload refused, keeping the running config: " + fresh.error().format());
      return;
    }
    if (auto r = log_.reconfigure(fresh->logging); !r) log_.error("reload: logging: " + r.error().message);
    if (os_.catalog() && fresh->discovery != catalog_config_) {
      log_.warn("reload: the catalog cannot change while running; keeping the " + catalog_config_.describe() +
                " (restart autopilot to switch)");
      fresh->discovery = catalog_config_;
    }
    if (!os_.catalog() && fresh->needs_catalog()) {
      log_.error("reload refused: the new config registers or watches services, which needs the catalog; "
                 "restart autopilot to open it");
      return;
    }
    config_ = std::move(*fresh);
    os_.set_child_env(child_environment(options_.env, config_));
    log_.info("reloading " + options_.config_path);
    if (watches_) watches_->reload(config_.watches);
    if (renderers_) renderers_->reload(config_.templates);
    supervisor_->reload(config_.jobs, config_.main_job);
  }

  const RunOptions& options_;
  config::Config config_;
  // Declared before its users, so it is destroyed after them.
  LinuxWiring os_;
  log::Log& log_;
  events::Bus& bus_;
  os::SignalSource signals_;
  discovery::DiscoveryConfig catalog_config_;
  std::unique_ptr<watches::Watches> watches_;
  std::unique_ptr<render::Renderers> renderers_;
  std::unique_ptr<jobs::Supervisor> supervisor_;
};

}  // namespace

int run(config::Config config, const RunOptions& options) {
  Runner runner(std::move(config), options);
  return runner.run();
}

}  // namespace autopilot::app
