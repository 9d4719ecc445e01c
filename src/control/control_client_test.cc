#include "control/control_client.h"

#include <stdlib.h>

#include <filesystem>
#include <thread>

#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

#include "control/control_server.h"
#include "wiring/testing/fake_wiring.h"

namespace autopilot::control {
namespace {

namespace fs = std::filesystem;

class ControlClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "control_client_test.XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The request made from another thread while the server's loop runs here.
  Result<ControlReply> request(const std::string& method, const std::string& target, const std::string& body = {}) {
    Result<ControlReply> reply = make_error("not sent");
    std::thread client([&] {
      reply = control_request(socket(), method, target, body, std::chrono::seconds(10));
      boost::asio::post(w.io, [this] { w.io.stop(); });
    });
    w.io.restart();
    w.io.run_for(std::chrono::seconds(10));
    client.join();
    return reply;
  }
  std::string socket() const { return dir_ + "/control.sock"; }

  FakeWiring w;
  std::string dir_;
};

TEST_F(ControlClientTest, ARequestAndItsReplyOverTheSocket) {
  std::map<std::string, std::string> seen;
  ControlServer server({.socket = socket(), .is_given = true}, w.wiring(),
                       {.putenv = [&](const std::map<std::string, std::string>& v) { seen = v; }});
  ASSERT_TRUE(server.start());
  auto ping = request("GET", "/v3/ping");
  ASSERT_TRUE(ping) << ping.error().message;
  EXPECT_EQ(ping->status, 200);
  EXPECT_EQ(ping->body, "\n");
  auto env = request("POST", "/v3/environ", R"({"K":"v"})");
  ASSERT_TRUE(env);
  EXPECT_EQ(env->status, 200);
  EXPECT_EQ(seen, (std::map<std::string, std::string>{{"K", "v"}}));
  auto bad = request("POST", "/v3/environ", "{");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 422);
}

TEST_F(ControlClientTest, ABodyOverTheBoundIsRefused) {
  ControlServer server({.socket = socket(), .is_given = true}, w.wiring(), {});
  ASSERT_TRUE(server.start());
  std::string huge = R"({"K":")" + std::string(ControlServer::kBodyLimit, 'x') + R"("})";
  auto r = request("POST", "/v3/environ", huge);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 413);
}

TEST_F(ControlClientTest, NoServerIsAnErrorNamingTheSocket) {
  auto r = control_request(socket(), "GET", "/v3/ping");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "connect " + socket() + ": No such file or directory");
}

}  // namespace
}  // namespace autopilot::control
