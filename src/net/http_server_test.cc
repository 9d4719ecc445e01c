#include "net/http_server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include "net/socket_path.h"

namespace autopilot::net {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using asio::ip::tcp;
using local = asio::local::stream_protocol;

// A real server: requests written by a blocking client on another thread,
// the loop run here until the client is done.
class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "http_server_test.XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Sends `raw` on one connection and returns everything read until the
  // server closes it.
  template <class Connect>
  std::string exchange(Connect connect, std::string raw) {
    std::string got;
    std::thread client([&] {
      asio::io_context io;
      auto s = connect(io);
      boost::system::error_code ec;
      asio::write(s, asio::buffer(raw), ec);
      asio::read(s, asio::dynamic_buffer(got), ec);
      asio::post(loop_, [this] { loop_.stop(); });
    });
    loop_.restart();
    loop_.run_for(std::chrono::seconds(10));
    client.join();
    return got;
  }
  std::string exchange(HttpServer& server, std::string raw) {
    return exchange(
        [&](asio::io_context& io) {
          tcp::socket s(io);
          s.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(server.port())});
          return s;
        },
        std::move(raw));
  }
  std::string exchange_unix(const std::string& path, std::string raw) {
    return exchange(
        [&](asio::io_context& io) {
          local::socket s(io);
          s.connect(local::endpoint(path));
          return s;
        },
        std::move(raw));
  }

  static std::string status_line(const std::string& response) { return response.substr(0, response.find("\r\n")); }

  asio::io_context loop_;
  std::string dir_;
};

HttpResponse echo(const HttpRequest& r) { return HttpResponse::text(200, r.method + " " + r.path + " " + r.body); }

TEST_F(ServerTest, KeepsTheConnectionAliveAndAnswersInOrder) {
  int calls = 0;
  HttpServer server(loop_, [&](const HttpRequest& r) {
    ++calls;
    return HttpResponse::text(200, r.method + " " + r.path + "\n");
  });
  ASSERT_TRUE(server.listen("127.0.0.1", 0));
  ASSERT_GT(server.port(), 0);
  auto got = exchange(server,
                      "GET /a?q HTTP/1.1\r\nHost: x\r\n\r\n"
                      "GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(got,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 7\r\n\r\nGET /a\n"
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n"
            "Content-Length: 7\r\n\r\nGET /b\n");
}

TEST_F(ServerTest, RefusesARequestOverTheBound) {
  HttpServer server(loop_, [](const HttpRequest&) { return HttpResponse{}; });
  ASSERT_TRUE(server.listen("127.0.0.1", 0));
  std::string huge =
      "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(server.limits().header_bytes, 'a') + "\r\n\r\n";
  EXPECT_EQ(status_line(exchange(server, huge)), "HTTP/1.1 431 Request Header Fields Too Large");
}

TEST_F(ServerTest, ListenFailureNamesTheAddress) {
  HttpServer a(loop_, [](const HttpRequest&) { return HttpResponse{}; });
  ASSERT_TRUE(a.listen("127.0.0.1", 0));
  HttpServer b(loop_, [](const HttpRequest&) { return HttpResponse{}; });
  auto r = b.listen("127.0.0.1", a.port());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "listening on 127.0.0.1:" + std::to_string(a.port()) + ": Address already in use");
}

TEST_F(ServerTest, ServesAUnixSocketOnlyItsOwnerMayUseAndRemovesItOnStop) {
  std::string path = dir_ + "/control.sock";
  HttpServer server(loop_, echo);
  ASSERT_TRUE(server.listen_unix(path));
  struct stat st {};
  ASSERT_EQ(::lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(server.port(), 0);
  auto got = exchange_unix(path, "POST /v3/x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi");
  EXPECT_EQ(got.substr(got.find("\r\n\r\n") + 4), "POST /v3/x hi");
  server.stop();
  EXPECT_FALSE(fs::exists(fs::symlink_status(path)));
}

TEST_F(ServerTest, TheBodyBoundIsTheServers) {
  std::string path = dir_ + "/control.sock";
  HttpServer server(loop_, echo, HttpLimits{.body_bytes = 16});
  ASSERT_TRUE(server.listen_unix(path));
  auto ok = exchange_unix(path, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 16\r\nConnection: close\r\n\r\n" +
                                    std::string(16, 'b'));
  EXPECT_EQ(status_line(ok), "HTTP/1.1 200 OK");
  auto big = exchange_unix(path, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 17\r\n\r\n" + std::string(17, 'b'));
  EXPECT_EQ(status_line(big), "HTTP/1.1 413 Payload Too Large");
}

TEST_F(ServerTest, ReplacesAStaleSocketFromACrashedRun) {
  std::string path = dir_ + "/control.sock";
  {  // bound, then closed without unlinking: what a crash leaves
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path.copy(addr.sun_path, path.size());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::close(fd);
  }
  HttpServer server(loop_, echo);
  ASSERT_TRUE(server.listen_unix(path));
  auto got = exchange_unix(path, "GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(status_line(got), "HTTP/1.1 200 OK");
}

TEST_F(ServerTest, LeavesALiveSocketAlone) {
  std::string path = dir_ + "/control.sock";
  HttpServer first(loop_, echo);
  ASSERT_TRUE(first.listen_unix(path));
  HttpServer second(loop_, echo);
  auto r = second.listen_unix(path);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "listening on " + path + ": another process is listening on " + path);
  second.stop();
  EXPECT_TRUE(fs::exists(path)) << "the failed server removed the live one's socket";
}

TEST_F(ServerTest, NeverReplacesAFileADirectoryOrASymlink) {
  std::string file = dir_ + "/file", subdir = dir_ + "/dir", link = dir_ + "/link";
  std::ofstream(file) << "keep me";
  fs::create_directory(subdir);
  fs::create_symlink(dir_ + "/nowhere.sock", link);
  for (const auto& path : {file, subdir, link}) {
    HttpServer server(loop_, echo);
    auto r = server.listen_unix(path);
    ASSERT_FALSE(r) << path;
    EXPECT_EQ(r.error().message, "listening on " + path + ": " + path + " exists and is not a socket; not replacing it");
  }
  std::ifstream in(file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "keep me");
  EXPECT_TRUE(fs::is_directory(subdir));
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_FALSE(fs::exists(dir_ + "/nowhere.sock")) << "followed the symlink";
}

TEST_F(ServerTest, StopLeavesASocketThatIsNoLongerOurs) {
  std::string path = dir_ + "/control.sock";
  HttpServer server(loop_, echo);
  ASSERT_TRUE(server.listen_unix(path));
  // Another run took the path over (say, after removing ours by hand).
  ASSERT_EQ(::unlink(path.c_str()), 0);
  HttpServer other(loop_, echo);
  ASSERT_TRUE(other.listen_unix(path));
  server.stop();
  EXPECT_TRUE(fs::exists(path));
}

TEST_F(ServerTest, RefusesACertificateOrKeyWithoutEchoingIt) {
  HttpServer server(loop_, echo);
  auto r = server.use_tls("-----BEGIN CERTIFICATE-----\nnot-a-cert-SECRET\n", "not-a-key-SECRET");
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().message.starts_with("tls: the certificate or key was refused: ")) << r.error().message;
  EXPECT_EQ(r.error().message.find("SECRET"), std::string::npos) << r.error().message;
}

// The bounds with an asynchronous handler (stash's), on real sockets and
// this loop: a client that trickles its request is cut off at read_timeout,
// connections past the limit are closed at once while the others are
// served, and HEAD gets GET's length without the body.
class BoundsTest : public ::testing::Test {
 protected:
  void start(HttpLimits limits) {
    server_ = std::make_unique<HttpServer>(
        io_,
        [this](const HttpRequest& r, HttpServer::Reply reply) {  // answered later, as a proxy mount does
          asio::post(io_, [reply, target = r.target] { reply(HttpResponse::text(200, target)); });
        },
        limits);
    ASSERT_TRUE(server_->listen("127.0.0.1", 0));
  }
  tcp::socket connect() {
    tcp::socket s(io_);
    s.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(server_->port())});
    return s;
  }
  // Runs the loop until `s` reads EOF or an error (true), or `limit` passes (false).
  bool closed_within(tcp::socket& s, std::chrono::milliseconds limit, std::string* got = nullptr) {
    bool closed = false;
    std::string data;
    std::array<char, 4096> buf{};
    std::function<void(boost::system::error_code, size_t)> on_read = [&](boost::system::error_code ec, size_t n) {
      data.append(buf.data(), n);
      if (ec) {
        closed = true;
        return io_.stop();
      }
      s.async_read_some(asio::buffer(buf), on_read);
    };
    s.async_read_some(asio::buffer(buf), on_read);
    io_.restart();
    io_.run_for(limit);
    if (got) *got = data;
    bool was_closed = closed;
    if (!was_closed) {  // stop reading (the aborted read ends here)
      s.cancel();
      io_.restart();
      io_.poll();
    }
    return was_closed;
  }
  asio::io_context io_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(BoundsTest, ATricklingClientIsCutOffAtTheReadTimeout) {
  start({.read_timeout = std::chrono::milliseconds(300)});
  tcp::socket s = connect();
  asio::write(s, asio::buffer(std::string("GET /a HTTP/1.1\r\nHost: x\r\n")));  // never finished
  auto begin = std::chrono::steady_clock::now();
  ASSERT_TRUE(closed_within(s, std::chrono::seconds(10)));
  EXPECT_GE(std::chrono::steady_clock::now() - begin, std::chrono::milliseconds(250));
  EXPECT_EQ(server_->connections(), 0u);
}

TEST_F(BoundsTest, ConnectionsPastTheLimitAreClosedAtOnce) {
  start({.connections = 2});
  tcp::socket a = connect(), b = connect();
  EXPECT_FALSE(closed_within(a, std::chrono::milliseconds(100)));  // lets the server accept both
  tcp::socket c = connect();
  EXPECT_TRUE(closed_within(c, std::chrono::seconds(10)));
  asio::write(b, asio::buffer(std::string("GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")));
  std::string reply;
  ASSERT_TRUE(closed_within(b, std::chrono::seconds(10), &reply));
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 200 OK\r\n")) << reply;
  EXPECT_TRUE(reply.ends_with("\r\n\r\n/b")) << reply;
}

TEST_F(BoundsTest, HeadHasGetsLengthWithoutTheBody) {
  start({});
  tcp::socket s = connect();
  asio::write(s, asio::buffer(std::string("HEAD /four HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")));
  std::string reply;
  ASSERT_TRUE(closed_within(s, std::chrono::seconds(10), &reply));
  EXPECT_NE(reply.find("Content-Length: 5\r\n"), std::string::npos) << reply;
  EXPECT_TRUE(reply.ends_with("\r\n\r\n")) << reply;
}

}  // namespace
}  // namespace autopilot::net
