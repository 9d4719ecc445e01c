// Tests of the harness's blocking HTTP client (blocking_http.h) that need no
// etcd; etcd_server_test.cc uses it against real members.
#include "discovery/etcd/blocking_http.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace autopilot::discovery::etcd::testing {
namespace {

using namespace std::chrono_literals;

TEST(BlockingHttpTest, FreePortIsBindable) {
  int port = free_port();
  EXPECT_GT(port, 0);
  EXPECT_LT(port, 65536);
  EXPECT_EQ(free_port("not-an-address"), 0);
}

TEST(BlockingHttpTest, HttpRequestToClosedPortFailsClearly) {
  int port = free_port();
  auto reply = http_request(fmt::format("http://127.0.0.1:{}", port), "GET", "/health", "", 1s);
  ASSERT_FALSE(reply.ok());
  EXPECT_NE(reply.error().message.find("connect"), std::string::npos) << reply.error().message;
}

}  // namespace
}  // namespace autopilot::discovery::etcd::testing
