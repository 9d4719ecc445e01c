#include "os/linux/signals.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <vector>

namespace autopilot::os {
namespace {

using namespace std::chrono_literals;

TEST(SignalSourceTest, DeliversSignalsOnTheLoop) {
  boost::asio::io_context io;
  std::vector<int> got;
  SignalSource source(io, [&](int sig) { got.push_back(sig); });
  ::kill(::getpid(), SIGUSR1);
  EXPECT_TRUE(got.empty()) << "delivered inline, not on the loop";
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (got.empty() && std::chrono::steady_clock::now() < deadline) io.run_one_for(50ms);
  ::kill(::getpid(), SIGHUP);
  while (got.size() < 2 && std::chrono::steady_clock::now() < deadline) io.run_one_for(50ms);
  EXPECT_EQ(got, (std::vector<int>{SIGUSR1, SIGHUP}));
}

TEST(SignalSourceTest, IgnoresSigpipe) {
  boost::asio::io_context io;
  SignalSource source(io, [](int) {});
  struct sigaction current;
  ::sigaction(SIGPIPE, nullptr, &current);
  EXPECT_EQ(current.sa_handler, SIG_IGN);
}

}  // namespace
}  // namespace autopilot::os
