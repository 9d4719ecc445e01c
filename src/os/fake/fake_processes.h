// FakeProcesses: records what would be spawned and signalled; the test ends
// children and feeds their output by hand. Linked into tests only.
#pragma once

#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include "os/processes.h"

namespace autopilot::os {

class FakeProcesses : public Processes {
 public:
  struct Spawned {
    int pid;
    SpawnSpec spec;
  };
  struct SentSignal {
    int pid;
    int sig;
    bool operator==(const SentSignal&) const = default;
  };

  // Pids are handed out from 1000 up, never reused. No callback fires inline.
  Result<int> spawn(const SpawnSpec& spec, SpawnCallbacks callbacks) override;
  // Records every call, also for pids that are not running (the real one
  // ignores those); it never ends a child by itself.
  void signal_group(int pid, int sig) override { signals_.push_back({pid, sig}); }
  size_t running() const override { return running_.size(); }

  // Every successful spawn, in order.
  const std::vector<Spawned>& spawned() const { return spawned_; }
  const std::vector<SentSignal>& signals() const { return signals_; }
  bool is_running(int pid) const { return running_.count(pid) != 0; }

  // Ends a running child: calls its on_exit. A no-op for unknown pids.
  void exit_for_test(int pid, ExitStatus status);
  // Calls on_line of a running child. A no-op for unknown pids.
  void output_for_test(int pid, std::string_view line);
  // The next spawn() fails with `error`, records nothing, and uses no pid.
  void fail_next_spawn_for_test(Error error) { next_error_ = std::move(error); }

 private:
  int next_pid_ = 1000;
  std::vector<Spawned> spawned_;
  std::vector<SentSignal> signals_;
  std::map<int, SpawnCallbacks> running_;
  std::optional<Error> next_error_;
};

}  // namespace autopilot::os
