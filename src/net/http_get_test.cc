// HttpGet against real sockets on 127.0.0.1: a one-shot server that answers
// a canned reply, a closed port, and a server that never answers.
#include "net/http_get.h"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <optional>

#include "os/linux/asio_timers.h"

namespace autopilot::net {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

// Accepts one connection, reads the request head, writes `reply`, closes.
class OneShotServer {
 public:
  OneShotServer(asio::io_context& io, std::string reply, bool answer = true)
      : acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), socket_(io), reply_(std::move(reply)) {
    acceptor_.async_accept(socket_, [this, answer](boost::system::error_code ec) {
      if (ec || !answer) return;
      asio::async_read_until(socket_, request_, "\r\n\r\n", [this](boost::system::error_code ec, size_t) {
        if (ec) return;
        std::istream in(&request_);
        std::getline(in, head_, '\0');
        asio::async_write(socket_, asio::buffer(reply_), [this](boost::system::error_code, size_t) {
          boost::system::error_code ignored;
          socket_.shutdown(tcp::socket::shutdown_both, ignored);
          socket_.close();
        });
      });
    });
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  const std::string& head() const { return head_; }

 private:
  tcp::acceptor acceptor_;
  tcp::socket socket_;
  asio::streambuf request_;
  std::string reply_, head_;
};

class HttpGetTest : public ::testing::Test {
 protected:
  Result<HttpReply> fetch(const std::string& url, HttpGetOptions options = {}) {
    auto parsed = parse_url(url);
    EXPECT_TRUE(parsed) << parsed.error().message;
    std::optional<Result<HttpReply>> got;
    get_.get(*parsed, options, [&](Result<HttpReply> r) {
      got = std::move(r);
      io_.stop();
    });
    io_.run_for(std::chrono::seconds(10));
    io_.restart();
    EXPECT_TRUE(got.has_value());
    return got ? std::move(*got) : Result<HttpReply>(make_error("no answer"));
  }

  asio::io_context io_;
  os::AsioTimers timers_{io_};
  HttpGet get_{io_, timers_};
};

TEST(ParseUrlTest, SplitsSchemeHostPortAndTarget) {
  auto u = parse_url("https://[::1]:8443/a/b?c=d#frag");
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_TRUE(u->endpoint.tls);
  EXPECT_EQ(u->endpoint.host, "::1");
  EXPECT_EQ(u->endpoint.port, 8443);
  EXPECT_EQ(u->target, "/a/b?c=d");
  EXPECT_EQ(u->str(), "https://[::1]:8443/a/b?c=d");
  auto plain = parse_url("http://stash");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->endpoint.port, 80);
  EXPECT_EQ(plain->target, "/");
}

TEST(ParseUrlTest, RefusesOtherSchemesUserInfoAndBadPorts) {
  EXPECT_EQ(parse_url("ftp://x/y").error().message, "bad URL \"ftp://x/y\": only http:// and https:// are supported");
  EXPECT_EQ(parse_url("http://u:secret@x/").error().message,
            "bad URL \"http://u:secret@x/\": user info (user:password@) is not supported; give a token with token_env");
  EXPECT_EQ(parse_url("http://x:99999/").error().message, "bad URL \"http://x:99999/\": bad port");
  EXPECT_EQ(parse_url("http:///p").error().message, "bad URL \"http:///p\": no host");
}

TEST_F(HttpGetTest, ReadsTheStatusAndBodyAndSendsTheAuthorization) {
  OneShotServer server(io_, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
  HttpGetOptions options;
  options.authorization = "Bearer t0ken";
  auto r = fetch("http://127.0.0.1:" + std::to_string(server.port()) + "/ssl/ssl.crt", options);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello");
  EXPECT_NE(server.head().find("GET /ssl/ssl.crt HTTP/1.1\r\n"), std::string::npos) << server.head();
  EXPECT_NE(server.head().find("Authorization: Bearer t0ken\r\n"), std::string::npos) << server.head();
}

TEST_F(HttpGetTest, AnyStatusIsAReply) {
  OneShotServer server(io_, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  auto r = fetch("http://127.0.0.1:" + std::to_string(server.port()) + "/missing");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 404);
}

TEST_F(HttpGetTest, ARefusedConnectionIsUnavailable) {
  std::uint16_t port;
  {
    tcp::acceptor a(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = a.local_endpoint().port();
  }
  auto r = fetch("http://127.0.0.1:" + std::to_string(port) + "/x");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kUnavailable);
  EXPECT_EQ(r.error().message, "http://127.0.0.1:" + std::to_string(port) + "/x: connect: Connection refused");
}

TEST_F(HttpGetTest, ASilentServerTimesOut) {
  OneShotServer server(io_, "", false);
  HttpGetOptions options;
  options.timeout = std::chrono::milliseconds(200);
  auto r = fetch("http://127.0.0.1:" + std::to_string(server.port()) + "/x", options);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kUnavailable);
  EXPECT_EQ(r.error().message, "http://127.0.0.1:" + std::to_string(server.port()) + "/x: timed out after 200ms");
}

TEST_F(HttpGetTest, ABodyOverTheLimitIsNotRetried) {
  OneShotServer server(io_, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\n0123456789");
  HttpGetOptions options;
  options.max_bytes = 4;
  auto r = fetch("http://127.0.0.1:" + std::to_string(server.port()) + "/big", options);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().kind, ErrorKind::kUnavailable);
}

}  // namespace
}  // namespace autopilot::net
