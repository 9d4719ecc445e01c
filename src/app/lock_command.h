// `autopilot lock`: runs a command while holding a catalog lock, for scripts
// (the reference stack's Redis election), as `flock FILE CMD` does for a
// file and `etcdctl lock NAME CMD` for etcd, on whichever catalog the stack
// uses:
//
//   autopilot lock NAME [--ttl 15s] [--timeout D | --no-wait]
//                  [-config FILE | --discovery-dir DIR | --etcd URLS] -- COMMAND [ARGS...]
//
// The lock is the catalog's own (discovery/catalog.h: Catalog::lock), so a
// job's and a script's locks of one name exclude each other: on the embedded
// catalog a flock(2) on DIR/locks/NAME.lock, on etcd a key bound to a lease
// of --ttl (a dead holder keeps it at most that long). The command starts
// once the lock is ours, writes straight to our stdout and stderr, and the
// lock is released when it exits. All of it runs on one event loop: waiting
// for the lock, the command's exit, the timeout and signals are events.
//
// Exit status: the command's (128 + N when killed by signal N); 127 when it
// cannot be started; 1 when the lock was not taken (held, with --no-wait;
// still held after --timeout; the catalog failed) or was lost while the
// command ran (etcd: the lease expired; the command gets SIGTERM); 2 bad
// input. SIGTERM or SIGINT while waiting gives up (128 + N); while the
// command runs, it is forwarded to the command's process group.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/duration.h"
#include "base/lifetime.h"
#include "config/config.h"
#include "discovery/catalog.h"
#include "os/timers.h"
#include "wiring/wiring.h"

namespace autopilot::app {

struct LockOptions {
  std::string name;
  std::vector<std::string> command;
  Duration ttl{std::chrono::seconds(15)};
  std::optional<Duration> timeout;  // nullopt: wait as long as it takes
  bool no_wait = false;
  std::string discovery_dir;  // --discovery-dir
  std::string etcd;           // --etcd
  std::string config_flag;    // -config
  bool strict = false;
};

// The command of `autopilot lock` on a Wiring (its catalog, processes,
// timers, log): testable on fakes. Build it, start() it, and feed it the
// signals the process receives; `done` runs once, on the loop, with the
// exit status.
class LockedCommand {
 public:
  LockedCommand(const Wiring& wiring, LockOptions options, std::function<void(int status)> done);
  LockedCommand(const LockedCommand&) = delete;
  LockedCommand& operator=(const LockedCommand&) = delete;

  void start();
  // SIGTERM or SIGINT to this process.
  void signal(int sig);

  // The command's pid while it runs, else 0.
  int pid() const { return pid_; }

 private:
  void locked(std::unique_ptr<discovery::Lock> lock);
  void finish(int status);

  Wiring wiring_;
  LockOptions options_;
  std::function<void(int)> done_;
  discovery::Handle wait_;
  os::Timer deadline_;
  std::unique_ptr<discovery::Lock> lock_;
  int pid_ = 0;
  bool lost_ = false;
  Lifetime lifetime_;  // last: ends first
};

// Runs `autopilot lock` and returns the process exit status.
int run_lock_command(const LockOptions& options, const config::Env& env);

}  // namespace autopilot::app
