// SignalSource: the signals the supervisor reacts to, delivered as loop events.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <functional>
#include <memory>

#include "base/lifetime.h"

namespace autopilot::os {

// Catches SIGTERM, SIGINT, SIGHUP, SIGUSR1 and SIGUSR2 and calls on_signal
// with the signal number on the loop (never in the signal handler). Signals
// that arrive while the loop is busy are not lost, but repeats of the same
// signal may be coalesced. Also ignores SIGPIPE process-wide, so that writes
// to a closed pipe or socket fail with EPIPE instead of killing us; children
// get default dispositions back (see LinuxProcesses).
//
// Together with LinuxProcesses (SIGCHLD) this is the only code that changes
// signal dispositions. Create at most one per process. Destroying it restores
// the default dispositions of the five signals.
class SignalSource {
 public:
  SignalSource(boost::asio::io_context& io, std::function<void(int)> on_signal);
  ~SignalSource();

  SignalSource(const SignalSource&) = delete;
  SignalSource& operator=(const SignalSource&) = delete;

 private:
  void wait();

  boost::asio::signal_set signals_;
  std::function<void(int)> on_signal_;
  Lifetime lifetime_;  // last: a signal queued before our destruction is dropped
};

}  // namespace autopilot::os
