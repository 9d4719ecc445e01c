#include "health/tcp_check.h"
#include "health/check_testing.h"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <optional>
#include <vector>

namespace autopilot::health {
namespace {

using namespace std::chrono_literals;
using boost::asio::ip::tcp;

using os::run_until;

const tcp::endpoint kLoopback(boost::asio::ip::make_address("127.0.0.1"), 0);

TcpTarget target_of(const tcp::acceptor& acceptor) {
  return TcpTarget{acceptor.local_endpoint().address(), acceptor.local_endpoint().port()};
}

class TcpCheckTest : public ::testing::Test {
 protected:
  CheckResult probe(TcpTarget target, Duration timeout = 5s) {
    TcpCheck check(io_, target);
    return probe_once(io_, check, timeout);
  }

  boost::asio::io_context io_;
};

TEST_F(TcpCheckTest, ListeningPortIsHealthy) {
  // The kernel completes the handshake from the backlog; nobody needs to accept.
  tcp::acceptor acceptor(io_, kLoopback);
  CheckResult r = probe(target_of(acceptor));
  EXPECT_TRUE(r.healthy);
  EXPECT_EQ(r.detail, "");
}

TEST_F(TcpCheckTest, RefusedPortIsUnhealthy) {
  TcpTarget target;
  {
    tcp::acceptor acceptor(io_, kLoopback);
    target = target_of(acceptor);
  }
  CheckResult r = probe(target);
  EXPECT_FALSE(r.healthy);
  EXPECT_EQ(r.detail, "connection refused");
}

TEST_F(TcpCheckTest, ConnectThatHangsTimesOut) {
  // A listener with a full accept queue drops new SYNs (Linux), so the
  // connect neither succeeds nor fails: only the deadline ends it.
  tcp::acceptor acceptor(io_, kLoopback.protocol());
  acceptor.bind(kLoopback);
  acceptor.listen(0);
  std::vector<std::unique_ptr<tcp::socket>> fillers;
  for (int i = 0; i < 2; ++i) {
    fillers.push_back(std::make_unique<tcp::socket>(io_));
    fillers.back()->async_connect(acceptor.local_endpoint(), [](boost::system::error_code) {});
  }
  CheckResult r = probe(target_of(acceptor), 200ms);
  EXPECT_FALSE(r.healthy);
  EXPECT_EQ(r.detail, "timed out after 200ms");
}

TEST_F(TcpCheckTest, CancelledProbeNeverReports) {
  tcp::acceptor acceptor(io_, kLoopback);
  TcpCheck check(io_, target_of(acceptor));
  bool called = false;
  check.run(5s, [&](CheckResult) { called = true; });
  check.cancel();
  io_.run_for(5s);  // returns once the abandoned connect has completed
  EXPECT_FALSE(called);
}

TEST_F(TcpCheckTest, DestroyedWhileRunningNeverReports) {
  tcp::acceptor acceptor(io_, kLoopback);
  bool called = false;
  {
    TcpCheck check(io_, target_of(acceptor));
    check.run(5s, [&](CheckResult) { called = true; });
  }
  io_.run_for(5s);
  EXPECT_FALSE(called);
}

TEST_F(TcpCheckTest, RunsAgainAfterAResult) {
  tcp::acceptor acceptor(io_, kLoopback);
  TcpCheck check(io_, target_of(acceptor));
  int healthy = 0;
  check.run(5s, [&](CheckResult r) { healthy += r.healthy; });
  ASSERT_TRUE(run_until(io_, [&] { return healthy == 1; }));
  check.run(5s, [&](CheckResult r) { healthy += r.healthy; });
  ASSERT_TRUE(run_until(io_, [&] { return healthy == 2; }));
}

}  // namespace
}  // namespace autopilot::health
