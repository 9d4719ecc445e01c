#include "os/fake/fake_processes.h"

#include <utility>

namespace autopilot::os {

Result<int> FakeProcesses::spawn(const SpawnSpec& spec, SpawnCallbacks callbacks) {
  if (next_error_) {
    Error error = std::move(*next_error_);
    next_error_.reset();
    return error;
  }
  int pid = next_pid_++;
  spawned_.push_back({pid, spec});
  running_.emplace(pid, std::move(callbacks));
  return pid;
}

void FakeProcesses::exit_for_test(int pid, ExitStatus status) {
  auto it = running_.find(pid);
  if (it == running_.end()) return;
  // Erase first: on_exit may spawn again or look at running().
  SpawnCallbacks callbacks = std::move(it->second);
  running_.erase(it);
  if (callbacks.on_exit) callbacks.on_exit(status);
}

void FakeProcesses::output_for_test(int pid, std::string_view line) {
  auto it = running_.find(pid);
  if (it == running_.end() || !it->second.on_line) return;
  auto on_line = it->second.on_line;  // a copy: the callback may end the child
  on_line(line);
}

}  // namespace autopilot::os
