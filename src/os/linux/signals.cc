#include "os/linux/signals.h"

#include <csignal>
#include <utility>

namespace autopilot::os {

SignalSource::SignalSource(boost::asio::io_context& io, std::function<void(int)> on_signal)
    : signals_(io, SIGTERM, SIGINT, SIGHUP), on_signal_(std::move(on_signal)) {
  signals_.add(SIGUSR1);
  signals_.add(SIGUSR2);
  ::signal(SIGPIPE, SIG_IGN);
  wait();
}

SignalSource::~SignalSource() {
  boost::system::error_code ignored;
  signals_.cancel(ignored);
}

void SignalSource::wait() {
  signals_.async_wait(lifetime_.bind([this](boost::system::error_code ec, int sig) {
    if (ec) return;
    wait();  // re-arm first: on_signal_ may take a while, and asio queues meanwhile
    on_signal_(sig);
  }));
}

}  // namespace autopilot::os
