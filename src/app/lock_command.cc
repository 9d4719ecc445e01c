#include "app/lock_command.h"

#include <fmt/format.h>

#include <csignal>
#include <utility>

#include "app/catalog_command.h"
#include "app/linux_wiring.h"
#include "discovery/deferred_release.h"
#include "os/linux/signals.h"

namespace autopilot::app {
namespace {

constexpr int kNotTaken = 1;
constexpr int kBadInput = 2;
constexpr int kCannotStart = 127;

void print_error(const std::string& message) { fmt::print(stderr, "autopilot: {}\n", message); }

}  // namespace

LockedCommand::LockedCommand(const Wiring& wiring, LockOptions options, std::function<void(int)> done)
    : wiring_(wiring), options_(std::move(options)), done_(std::move(done)), deadline_(wiring.timers) {}

void LockedCommand::start() {
  auto on_lock = lifetime_.bind([this](Result<std::unique_ptr<discovery::Lock>> got) {
    if (!done_) return;  // gave up meanwhile: a late lock is released as it goes
    if (!got) {
      wiring_.log.error(fmt::format("lock {}: {}", options_.name, got.error().message));
      return finish(kNotTaken);
    }
    if (!*got) {
      wiring_.log.error(fmt::format("lock {}: held by another holder", options_.name));
      return finish(kNotTaken);
    }
    locked(std::move(*got));
  });
  if (options_.no_wait) return wiring_.catalog->try_lock(options_.name, options_.ttl, std::move(on_lock));
  wait_ = wiring_.catalog->lock(options_.name, options_.ttl, std::move(on_lock));
  if (options_.timeout) {
    deadline_.after(*options_.timeout, [this] {
      wait_.cancel();
      wiring_.log.error(fmt::format("lock {}: still held by another holder after {}", options_.name,
                                    format_duration(*options_.timeout)));
      finish(kNotTaken);
    });
  }
}

void LockedCommand::locked(std::unique_ptr<discovery::Lock> lock) {
  deadline_.cancel();
  lock_ = std::move(lock);
  lock_->on_lost(lifetime_.bind([this] {
    if (!pid_) return;
    lost_ = true;
    wiring_.log.error(fmt::format("lock {}: lost while {} ran; stopping it", options_.name, options_.command[0]));
    wiring_.processes.signal_group(pid_, SIGTERM);
  }));
  wiring_.log.info(fmt::format("lock {}: taken; running {}", options_.name, options_.command[0]));
  os::SpawnSpec spec{options_.command, wiring_.child_env ? wiring_.child_env() : os::Environment{}, false};
  auto pid = wiring_.processes.spawn(spec, {nullptr, lifetime_.bind([this](os::ExitStatus status) {
                                              pid_ = 0;
                                              if (!status.exec_error.empty())
                                                wiring_.log.error(fmt::format("lock {}: {}", options_.name,
                                                                              status.exec_error));
                                              int code = lost_ ? kNotTaken : status.shell_code();
                                              // Exits once the lock is free, not while etcd still holds it.
                                              auto* deferred = dynamic_cast<discovery::DeferredRelease*>(lock_.get());
                                              if (!deferred) {
                                                lock_->release();
                                                return finish(code);
                                              }
                                              deferred->release_then(lifetime_.bind([this, code] { finish(code); }));
                                            })});
  if (!pid) {
    lock_->release();
    wiring_.log.error(fmt::format("lock {}: {}", options_.name, pid.error().message));
    return finish(kCannotStart);
  }
  pid_ = *pid;
}

void LockedCommand::signal(int sig) {
  if (pid_) return wiring_.processes.signal_group(pid_, sig);
  if (sig != SIGTERM && sig != SIGINT) return;
  wait_.cancel();
  deadline_.cancel();
  finish(128 + sig);
}

void LockedCommand::finish(int status) {
  if (!done_) return;
  auto done = std::move(done_);
  done_ = nullptr;
  done(status);
}

int run_lock_command(const LockOptions& options, const config::Env& env) {
  if (auto valid = discovery::validate_service_name(options.name); !valid) {
    print_error("lock: " + valid.error().message);
    return kBadInput;
  }
  if (options.command.empty()) {
    print_error("lock: give the command to run after --: autopilot lock NAME -- COMMAND [ARGS...]");
    return kBadInput;
  }
  if (options.ttl <= Duration::zero()) {
    print_error("lock: --ttl must be positive");
    return kBadInput;
  }
  if (options.no_wait && options.timeout) {
    print_error("lock: give --no-wait or --timeout, not both");
    return kBadInput;
  }
  auto chosen = choose_catalog(options.discovery_dir, options.etcd, options.config_flag, options.strict, env);
  if (!chosen) {
    print_error(chosen.error().format());
    return kBadInput;
  }
  LinuxWiring os(log::LogConfig{log::Level::kInfo, log::Format::kDefault, "stderr"}, env);
  if (auto exists = require_existing_catalog(*chosen, os.files()); !exists) {
    print_error(exists.error().message);
    return kNotTaken;
  }
  if (auto opened = os.log().open(); !opened) {
    print_error(opened.error().message);
    return kNotTaken;
  }
  if (auto opened = os.open_catalog(*chosen); !opened) {
    print_error(fmt::format("opening the {}: {}", chosen->describe(), opened.error().message));
    return kNotTaken;
  }
  int status = kNotTaken;
  LockedCommand command(os.wiring(), options, [&](int s) {
    status = s;
    os.loop().stop();
  });
  os::SignalSource signals(os.loop(), [&](int sig) { command.signal(sig); });
  command.start();
  os.loop().run();
  return status;
}

}  // namespace autopilot::app
