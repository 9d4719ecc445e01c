#include "health/socket_probe.h"

#include <fmt/format.h>

#include <boost/asio/error.hpp>
#include <cstdio>
#include <cstdlib>
#include <utility>

namespace autopilot::health {

SocketProbe::SocketProbe(boost::asio::io_context& io, std::function<void(CheckResult)> done)
    : socket_(io), deadline_(io), done_(std::move(done)) {}

void SocketProbe::start_deadline(Duration timeout, std::shared_ptr<void> owner) {
  deadline_.expires_after(timeout);
  deadline_.async_wait([this, timeout, owner = std::move(owner)](boost::system::error_code ec) {
    if (ec || !is_running()) return;
    finish(CheckResult{false, fmt::format("timed out after {}", format_duration(timeout))});
  });
}

void SocketProbe::finish(CheckResult result) {
  if (!is_running()) return;
  std::function<void(CheckResult)> done = std::move(done_);
  done_ = nullptr;
  stop();
  done(std::move(result));  // last: it may destroy the Check (not us: a handler holds us)
}

void SocketProbe::abandon() {
  done_ = nullptr;
  stop();
}

void SocketProbe::stop() {
  // Both complete their pending operations with operation_aborted; the
  // handlers see !is_running() and drop their hold on the probe.
  deadline_.cancel();
  boost::system::error_code ignored;
  socket_.close(ignored);
}

std::string describe_socket_error(const boost::system::error_code& ec) {
  namespace error = boost::asio::error;
  if (ec == error::connection_refused) return "connection refused";
  if (ec == error::connection_reset) return "connection reset";
  if (ec == error::eof) return "connection closed before a response";
  if (ec == error::network_unreachable) return "network unreachable";
  if (ec == error::host_unreachable) return "host unreachable";
  return ec.message();
}

void abort_if_running(bool is_running, const char* who) {
  if (!is_running) return;
  std::fprintf(stderr, "%s:%d: %s: run() while a probe is running\n", __FILE__, __LINE__, who);
  std::abort();
}

}  // namespace autopilot::health
