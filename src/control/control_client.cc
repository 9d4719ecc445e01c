#include "control/control_client.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "net/socket_path.h"
#include "os/files.h"

namespace autopilot::control {
namespace {

namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;

// Closes the descriptor on every way out.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Waits until `fd` is ready for `events` or the deadline passes.
Result<void> wait_for(int fd, short events, Clock::time_point deadline, const std::string& socket) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return make_error("no answer on " + socket + " in time");
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, static_cast<int>(left));
    if (r > 0) return {};
    if (r < 0 && errno != EINTR) return os::sys_error("poll", socket, errno);
  }
}

Result<void> send_all(int fd, const std::string& data, Clock::time_point deadline, const std::string& socket) {
  size_t done = 0;
  while (done < data.size()) {
    if (auto w = wait_for(fd, POLLOUT, deadline, socket); !w) return w;
    ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno != EINTR && errno != EAGAIN) return os::sys_error("send", socket, errno);
    if (n > 0) done += static_cast<size_t>(n);
  }
  return {};
}

// Everything until the server closes (we ask it to).
Result<std::string> receive_all(int fd, Clock::time_point deadline, const std::string& socket) {
  std::string got;
  char buf[16 * 1024];
  for (;;) {
    if (auto w = wait_for(fd, POLLIN, deadline, socket); !w) return w.error();
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) return got;
    if (n < 0 && errno == ECONNRESET) return got;
    if (n < 0 && errno != EINTR && errno != EAGAIN) return os::sys_error("recv", socket, errno);
    if (n > 0) got.append(buf, static_cast<size_t>(n));
  }
}

Result<ControlReply> parse_reply(const std::string& raw, const std::string& socket) {
  http::response_parser<http::string_body> parser;
  parser.eager(true);
  parser.body_limit(64 * 1024 * 1024);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(raw), ec);
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  if (ec || !parser.is_done()) return make_error("the answer on " + socket + " is not HTTP");
  const auto& res = parser.get();
  return ControlReply{static_cast<int>(res.result_int()), res.body()};
}

}  // namespace

Result<ControlReply> control_request(const std::string& socket, const std::string& method, const std::string& target,
                                     const std::string& body, std::chrono::milliseconds timeout) {
  if (socket.empty() || socket.size() > net::kMaxSocketPath)
    return make_error("socket path \"" + socket + "\" must be 1 to " + std::to_string(net::kMaxSocketPath) +
                      " bytes long");
  auto deadline = Clock::now() + timeout;
  Fd fd{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (fd.fd < 0) return os::sys_error("socket", socket, errno);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket.data(), socket.size());
  // A unix socket's connect ends at once unless the backlog is full; then
  // it waits for room, which the deadline below does not bound.
  if (::connect(fd.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
    return os::sys_error("connect", socket, errno);
  if (::fcntl(fd.fd, F_SETFL, O_NONBLOCK) != 0) return os::sys_error("fcntl", socket, errno);
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: control\r\nConnection: close\r\n";
  if (!body.empty()) request += "Content-Type: application/json\r\n";
  request += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  auto sent = send_all(fd.fd, request, deadline, socket);
  // A server that refuses the request (a body over its bound) answers and
  // closes before reading it all: the answer is still there to read.
  auto raw = receive_all(fd.fd, deadline, socket);
  if (!raw) return sent ? raw.error() : sent.error();
  auto reply = parse_reply(*raw, socket);
  if (!reply && !sent) return sent.error();
  return reply;
}

}  // namespace autopilot::control
