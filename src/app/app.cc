#include "app/app.h"

#include <unistd.h>

#include <csignal>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include "events/bus.h"
#include "jobs/supervisor.h"
#include "log/log.h"
#include "os/linux/asio_timers.h"
#include "os/linux/linux_processes.h"
#include "os/linux/signals.h"

namespace autopilot::app {
namespace {

std::vector<std::string> child_environment(const config::Env& env) {
  std::vector<std::string> out;
  for (const auto& [k, v] : env) {
    if (k == "AUTOPILOT_PID" || k == "CONTAINERPILOT_PID") continue;
    out.push_back(k + "=" + v);
  }
  std::string pid = std::to_string(::getpid());
  out.push_back("AUTOPILOT_PID=" + pid);
  out.push_back("CONTAINERPILOT_PID=" + pid);
  return out;
}

class Runner {
 public:
  Runner(config::Config config, const RunOptions& options)
      : options_(options),
        config_(std::move(config)),
        log_(config_.logging),
        processes_(loop_),
        timers_(loop_),
        bus_([this](std::function<void()> f) { boost::asio::post(loop_, std::move(f)); }),
        signals_(loop_, [this](int sig) { on_signal(sig); }) {}

  int run() {
    if (auto r = log_.open(); !r) {
      fmt::print(stderr, "autopilot: {}\n", r.error().message);
      return 2;
    }
    start_jobs();
    loop_.run();
    int code = supervisor_->exit_code();
    log_.info(fmt::format("reaped {} orphaned processes", processes_.orphans_reaped()));
    log_.info(fmt::format("autopilot exiting with status {}", code));
    return code;
  }

 private:
  void start_jobs() {
    jobs::JobContext ctx{bus_, processes_, timers_, log_, [env = child_environment(options_.env)] { return env; },
                         nullptr, config_.stop_timeout};
    supervisor_ = std::make_unique<jobs::Supervisor>(ctx, config_.jobs, config_.main_job);
    supervisor_->on_all_done = [this] { loop_.stop(); };
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
        supervisor_->shutdown();
        break;
      case SIGHUP:
        reload();
        bus_.publish({events::Code::kSignal, "SIGHUP"});
        break;
      case SIGUSR1:
        if (auto r = log_.reopen(); !r) log_.error("reopening the log: " + r.error().message);
        break;
      case SIGUSR2:
        bus_.publish({events::Code::kSignal, "SIGUSR2"});
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
    config_ = std::move(*fresh);
    log_.info("reloading " + options_.config_path);
    supervisor_->reload(config_.jobs, config_.main_job);
  }

  const RunOptions& options_;
  config::Config config_;
  boost::asio::io_context loop_;
  log::Log log_;
  os::LinuxProcesses processes_;
  os::AsioTimers timers_;
  events::Bus bus_;
  os::SignalSource signals_;
  std::unique_ptr<jobs::Supervisor> supervisor_;
};

}  // namespace

int run(config::Config config, const RunOptions& options) {
  Runner runner(std::move(config), options);
  return runner.run();
}

}  // namespace autopilot::app
