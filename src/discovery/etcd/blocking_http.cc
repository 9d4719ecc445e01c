// The blocking HTTP client of the etcd test harness: see blocking_http.h.
#include "discovery/etcd/blocking_http.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string_view>

namespace autopilot::discovery::etcd::testing {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string errno_text(int err) { return std::strerror(err); }

// A numeric address ("127.0.0.1", "::1" or "[::1]") and port as a sockaddr.
bool make_sockaddr(std::string host, int port, sockaddr_storage& out, socklen_t& len) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  std::memset(&out, 0, sizeof out);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out);
  if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    len = sizeof(sockaddr_in);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out);
  if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

// Waits until `fd` is ready for `events`; false on timeout.
bool wait_fd(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(remaining(deadline).count()));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Decodes a chunked body (trailers ignored); nullopt when malformed.
std::optional<std::string> dechunk(std::string_view in) {
  std::string out;
  for (;;) {
    auto eol = in.find("\r\n");
    if (eol == std::string_view::npos) return std::nullopt;
    std::string size_text(in.substr(0, eol));
    auto semi = size_text.find(';');
    if (semi != std::string::npos) size_text.resize(semi);
    char* end = nullptr;
    unsigned long size = std::strtoul(size_text.c_str(), &end, 16);
    if (end == size_text.c_str()) return std::nullopt;
    in.remove_prefix(eol + 2);
    if (size == 0) return out;
    if (in.size() < size + 2) return std::nullopt;
    out.append(in.substr(0, size));
    in.remove_prefix(size + 2);
  }
}

}  // namespace

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

milliseconds remaining(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
  return std::max(left, milliseconds(0));
}

int free_port(const std::string& address) {
  sockaddr_storage sa;
  socklen_t len = 0;
  if (!make_sockaddr(address, 0, sa, len)) return 0;
  Fd fd(::socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return 0;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), len) != 0) return 0;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&sa), &len) != 0) return 0;
  if (sa.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&sa)->sin_port);
  return ntohs(reinterpret_cast<sockaddr_in6*>(&sa)->sin6_port);
}

Result<HttpReply> http_request(const std::string& base_url, const std::string& method, const std::string& path,
                               const std::string& body, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  const std::string what = method + " " + base_url + path;
  auto fail = [&](const std::string& why) -> Result<HttpReply> { return make_error(what + ": " + why); };

  std::string_view rest = base_url;
  if (rest.substr(0, 7) != "http://") return fail("only http:// URLs are supported");
  rest.remove_prefix(7);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  auto colon = rest.rfind(':');
  if (colon == std::string_view::npos) return fail("URL has no port");
  std::string host(rest.substr(0, colon));
  int port = std::atoi(std::string(rest.substr(colon + 1)).c_str());
  sockaddr_storage sa;
  socklen_t len = 0;
  if (port <= 0 || !make_sockaddr(host, port, sa, len)) return fail("need a numeric host and a port");

  Fd fd(::socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return fail("socket: " + errno_text(errno));
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), len) != 0) {
    if (errno != EINPROGRESS) return fail("connect: " + errno_text(errno));
    if (!wait_fd(fd.get(), POLLOUT, deadline))
      return fail(fmt::format("connect timed out after {}ms", timeout.count()));
    int err = 0;
    socklen_t err_len = sizeof err;
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &err_len);
    if (err != 0) return fail("connect: " + errno_text(err));
  }

  std::string request = fmt::format(
      "{} {} HTTP/1.1\r\nHost: {}:{}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n"
      "Connection: close\r\n\r\n{}",
      method, path, host, port, body.size(), body);
  std::string_view out = request;
  while (!out.empty()) {
    ssize_t n = ::send(fd.get(), out.data(), out.size(), MSG_NOSIGNAL);
    if (n > 0) {
      out.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!wait_fd(fd.get(), POLLOUT, deadline)) return fail(fmt::format("send timed out after {}ms", timeout.count()));
      continue;
    }
    return fail("send: " + errno_text(errno));
  }

  std::string in;
  char buf[16384];
  for (;;) {
    ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n > 0) {
      in.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n == 0) break;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (!wait_fd(fd.get(), POLLIN, deadline))
        return fail(fmt::format("no complete reply within {}ms", timeout.count()));
      continue;
    }
    return fail("recv: " + errno_text(errno));
  }

  auto header_end = in.find("\r\n\r\n");
  if (header_end == std::string::npos || in.compare(0, 5, "HTTP/") != 0)
    return fail("malformed reply: " + in.substr(0, 200));
  HttpReply reply;
  auto space = in.find(' ');
  if (space == std::string::npos || space > header_end) return fail("malformed status line");
  reply.status = std::atoi(in.c_str() + space + 1);
  std::string headers = lower(in.substr(0, header_end));
  std::string raw = in.substr(header_end + 4);
  if (headers.find("\r\ntransfer-encoding: chunked") != std::string::npos) {
    auto decoded = dechunk(raw);
    if (!decoded) return fail("malformed chunked body");
    reply.body = std::move(*decoded);
  } else {
    reply.body = std::move(raw);
  }
  return reply;
}

}  // namespace autopilot::discovery::etcd::testing
