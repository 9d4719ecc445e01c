// SocketProbe: the part an http and a tcp probe share (internal to health/):
// one socket, a deadline, and a `done` that runs at most once.
//
// A probe object (HttpCheck's or TcpCheck's) contains a SocketProbe and is
// owned by shared_ptrs that its pending handlers hold, so the socket and
// buffers outlive every operation on them (shared ownership on purpose: the
// one exception to the lifetime rule, base/lifetime.h, since an in-flight
// Asio operation must keep its buffers). The Check keeps one more pointer
// and calls abandon() on cancel or destruction: `done` is dropped at once, so
// a completion already queued finds nothing to call. Loop thread only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>
#include <functional>
#include <memory>
#include <string>

#include "base/duration.h"
#include "health/check.h"

namespace autopilot::health {

class SocketProbe {
 public:
  SocketProbe(boost::asio::io_context& io, std::function<void(CheckResult)> done);
  SocketProbe(const SocketProbe&) = delete;
  SocketProbe& operator=(const SocketProbe&) = delete;

  boost::asio::ip::tcp::socket& socket() { return socket_; }

  // Reports "timed out after <timeout>" unless the probe finishes first.
  // `owner`, the object that contains this, is kept alive by the wait.
  void start_deadline(Duration timeout, std::shared_ptr<void> owner);

  // False once finished or abandoned: handlers check it first and return.
  bool is_running() const { return static_cast<bool>(done_); }

  // Stops the deadline, closes the socket, then runs `done` with `result`;
  // a no-op when no longer running. Call it from a completion handler only,
  // so `done` never runs inline from Check::run. `done` may destroy the Check.
  void finish(CheckResult result);

  // Like finish, without running `done`.
  void abandon();

 private:
  void stop();

  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer deadline_;
  std::function<void(CheckResult)> done_;
};

// What a failed connect, write or read means, for CheckResult::detail:
// "connection refused", "connection reset", ...
std::string describe_socket_error(const boost::system::error_code& ec);

// Check::run while a probe is running is a caller error (check.h): when
// `is_running`, aborts with `who` and a message.
void abort_if_running(bool is_running, const char* who);

}  // namespace autopilot::health
