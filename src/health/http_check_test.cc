#include "health/http_check.h"
#include "health/check_testing.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace autopilot::health {
namespace {

using namespace std::chrono_literals;
using boost::asio::ip::tcp;
using boost::system::error_code;

using os::run_until;

// Runs the loop until it has no work left (bounded); for "this never happens".
void drain(boost::asio::io_context& io) {
  io.restart();
  io.run_for(5s);
}

// A port on 127.0.0.1 that nobody listens on (bound, then released).
std::uint16_t refused_port(boost::asio::io_context& io) {
  tcp::acceptor a(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

// An HTTP server for one test, on 127.0.0.1 port 0. Reads each request up to
// its blank line, then writes `response` (when not empty) and closes the
// connection when `close_after`; else keeps it open until destroyed.
class TestServer {
 public:
  TestServer(boost::asio::io_context& io, std::string response, bool close_after = false, std::string ip = "127.0.0.1")
      : io_(io), acceptor_(io), response_(std::move(response)), close_after_(close_after) {
    tcp::endpoint at(boost::asio::ip::make_address(ip), 0);
    error_code ec;
    acceptor_.open(at.protocol(), ec);
    if (!ec) acceptor_.bind(at, ec);
    if (!ec) acceptor_.listen(16, ec);
    if (ec) return;
    is_listening_ = true;
    accept();
  }
  ~TestServer() {
    error_code ignored;
    acceptor_.close(ignored);
    for (auto& c : conns_) c->socket.close(ignored);
  }

  bool is_listening() const { return is_listening_; }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  const std::vector<std::string>& requests() const { return requests_; }
  // Leaves the loop with no server work pending (see drain()).
  void stop_accepting() {
    error_code ignored;
    acceptor_.close(ignored);
  }

 private:
  struct Conn {
    explicit Conn(boost::asio::io_context& io) : socket(io) {}
    tcp::socket socket;
    std::string in;
  };

  void accept() {
    auto conn = std::make_shared<Conn>(io_);
    acceptor_.async_accept(conn->socket, [this, conn](error_code ec) {
      if (ec) return;
      conns_.push_back(conn);
      serve(conn);
      accept();
    });
  }

  void serve(std::shared_ptr<Conn> conn) {
    boost::asio::async_read_until(conn->socket, boost::asio::dynamic_buffer(conn->in), "\r\n\r\n",
                                  [this, conn](error_code ec, size_t n) {
                                    if (ec) return;
                                    requests_.push_back(conn->in.substr(0, n));
                                    respond(conn);
                                  });
  }

  void respond(std::shared_ptr<Conn> conn) {
    if (response_.empty()) {
      if (close_after_) conn->socket.close();
      return;
    }
    // A big body outlives the client, which stops reading after the header:
    // the write then fails, which is fine.
    boost::asio::async_write(conn->socket, boost::asio::buffer(response_), [this, conn](error_code, size_t) {
      if (close_after_) conn->socket.close();
    });
  }

  boost::asio::io_context& io_;
  tcp::acceptor acceptor_;
  std::string response_;
  bool close_after_;
  bool is_listening_ = false;
  std::vector<std::shared_ptr<Conn>> conns_;
  std::vector<std::string> requests_;
};

const std::string kOk = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

HttpTarget target_at(std::uint16_t port, std::string_view path = "/health", std::optional<int> status = {}) {
  auto t = parse_http_target(fmt::format("http://127.0.0.1:{}{}", port, path), status);
  EXPECT_TRUE(t) << t.error().message;
  return *t;
}

class HttpCheckTest : public ::testing::Test {
 protected:
  // Runs one probe against `target` and waits for its result.
  CheckResult probe(HttpTarget target, Duration timeout = 5s) {
    HttpCheck check(io_, std::move(target));
    return probe_once(io_, check, timeout);
  }

  boost::asio::io_context io_;
};

TEST_F(HttpCheckTest, Status200IsHealthyAndTheRequestIsAPlainGet) {
  TestServer server(io_, kOk);
  CheckResult r = probe(target_at(server.port(), "/health?full=1"));
  EXPECT_TRUE(r.healthy);
  EXPECT_EQ(r.detail, "");
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0], fmt::format("GET /health?full=1 HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n"
                                              "User-Agent: autopilot\r\nConnection: close\r\n\r\n",
                                              server.port()));
}

TEST_F(HttpCheckTest, Status503IsUnhealthy) {
  TestServer server(io_, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
  CheckResult r = probe(target_at(server.port()));
  EXPECT_FALSE(r.healthy);
  EXPECT_EQ(r.detail, "HTTP 503");
}

TEST_F(HttpCheckTest, RedirectIsUnhealthyByDefault) {
  TestServer server(io_, "HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n");
  CheckResult r = probe(target_at(server.port()));
  EXPECT_FALSE(r.healthy);
  EXPECT_EQ(r.detail, "HTTP 302");
}

TEST_F(HttpCheckTest, ExactExpectedStatus) {
  TestServer no_content(io_, "HTTP/1.1 204 No Content\r\n\r\n");
  CheckResult r = probe(target_at(no_content.port(), "/", 204));
  EXPECT_TRUE(r.healthy);
  EXPECT_EQ(r.detail, "");

  TestServer ok(io_, kOk);
  r = probe(target_at(ok.port(), "/", 204));
  EXPECT_FALSE(r.healthy);
  EXPECT_EQ(r.detail, "HTTP 200 (expected 204)");
}

TEST_F(HttpCheckTest, RefusedPortIsUnhealthy) {
  CheckResult r = probe(target_at(refused_port(io_)));
  EXPECT_FALSE(r.healthy);
  EXPECT_EQ(r.detail, "connection refused");
}

TEST_F(HttpCheckTest, ServerThatNeverAnswersTimesOut) {
  TestServer server(io_, "");
  auto start = std::chrono::steady_clock::now();
  CheckResult r = probe(target_at(server.port()), 200ms);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 200ms);
  EXPECT_FALSE(r.healthy);
  EXPECT_EQ(r.detail, "timed out after 200ms");
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST_F(HttpCheckTest, ServerThatClosesWithoutAnsweringIsUnhealthy) {
  TestServer server(io_, "", /*close_after=*/true);
  CheckResult r = probe(target_at(server.port()));
  EXPECT_FALSE(r.healthy);
  EXPECT_EQ(r.detail, "connection closed before a response");
}

TEST_F(HttpCheckTest, GarbageResponseIsUnhealthy) {
  TestServer server(io_, "SSH-2.0-OpenSSH_9.2\r\n\r\n", /*close_after=*/true);
  CheckResult r = probe(target_at(server.port()));
  EXPECT_FALSE(r.healthy);
  EXPECT_EQ(r.detail, "bad HTTP response (bad version)");
}

TEST_F(HttpCheckTest, BigBodyWithStatus200IsHealthy) {
  constexpr size_t kBody = 8 * 1024 * 1024;
  TestServer server(io_,
                    fmt::format("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{}", kBody, std::string(kBody, 'x')));
  CheckResult r = probe(target_at(server.port()));
  EXPECT_TRUE(r.healthy);
  EXPECT_EQ(r.detail, "");
}

TEST_F(HttpCheckTest, ResponseWithoutLengthIsHealthy) {
  TestServer server(io_, "HTTP/1.0 200 OK\r\n\r\nbody until close", /*close_after=*/true);
  CheckResult r = probe(target_at(server.port()));
  EXPECT_TRUE(r.healthy);
}

TEST_F(HttpCheckTest, Ipv6Loopback) {
  TestServer server(io_, kOk, false, "::1");
  if (!server.is_listening()) GTEST_SKIP() << "no IPv6 loopback here";
  auto target = parse_http_target(fmt::format("http://[::1]:{}/", server.port()));
  ASSERT_TRUE(target) << target.error().message;
  CheckResult r = probe(*target);
  EXPECT_TRUE(r.healthy) << r.detail;
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_NE(server.requests()[0].find(fmt::format("Host: [::1]:{}\r\n", server.port())), std::string::npos);
}

TEST_F(HttpCheckTest, CancelledProbeNeverReports) {
  TestServer server(io_, "");
  HttpCheck check(io_, target_at(server.port()));
  bool called = false;
  check.run(100ms, [&](CheckResult) { called = true; });
  ASSERT_TRUE(run_until(io_, [&] { return server.requests().size() == 1; }));
  server.stop_accepting();
  check.cancel();
  check.cancel();  // a second cancel is a no-op
  drain(io_);      // long past the 100ms timeout, unless the loop ran dry first
  EXPECT_FALSE(called);
}

TEST_F(HttpCheckTest, CancelBeforeTheLoopRunsWinsOverAQueuedResult) {
  HttpCheck check(io_, target_at(refused_port(io_)));
  bool called = false;
  check.run(5s, [&](CheckResult) { called = true; });
  check.cancel();
  drain(io_);
  EXPECT_FALSE(called);
}

TEST_F(HttpCheckTest, DestroyedWhileRunningNeverReports) {
  TestServer server(io_, "");
  auto check = std::make_unique<HttpCheck>(io_, target_at(server.port()));
  bool called = false;
  check->run(100ms, [&](CheckResult) { called = true; });
  ASSERT_TRUE(run_until(io_, [&] { return server.requests().size() == 1; }));
  server.stop_accepting();
  check.reset();
  drain(io_);
  EXPECT_FALSE(called);
}

TEST_F(HttpCheckTest, RunsAgainAfterAResultAndAfterCancel) {
  TestServer server(io_, kOk);
  HttpCheck check(io_, target_at(server.port()));
  int results = 0;
  check.run(5s, [&](CheckResult r) { results += r.healthy; });
  ASSERT_TRUE(run_until(io_, [&] { return results == 1; }));
  check.run(5s, [&](CheckResult) { results += 100; });
  check.cancel();
  check.run(5s, [&](CheckResult r) { results += r.healthy; });
  ASSERT_TRUE(run_until(io_, [&] { return results >= 2; }));
  server.stop_accepting();
  drain(io_);
  EXPECT_EQ(results, 2);
}

TEST_F(HttpCheckTest, DoneMayDestroyTheCheckOrRunItAgain) {
  TestServer server(io_, kOk);
  auto check = std::make_unique<HttpCheck>(io_, target_at(server.port()));
  int results = 0;
  check->run(5s, [&](CheckResult) {
    ++results;
    check->run(5s, [&](CheckResult) {
      ++results;
      check.reset();
    });
  });
  ASSERT_TRUE(run_until(io_, [&] { return results == 2; }));
  EXPECT_EQ(check, nullptr);
}

TEST_F(HttpCheckTest, RunWhileRunningIsACallerError) {
  TestServer server(io_, "");
  HttpCheck check(io_, target_at(server.port()));
  check.run(5s, [](CheckResult) {});
  EXPECT_DEATH(check.run(5s, [](CheckResult) {}), "HttpCheck: run\\(\\) while a probe is running");
}

}  // namespace
}  // namespace autopilot::health
