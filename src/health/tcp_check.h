// TcpCheck: a health check that connects to HOST:PORT and closes again.
// Healthy when the connect succeeds; nothing is sent or read. The target is
// literal (health/endpoint.h). Loop thread only; see check.h for the
// contract of run() and cancel().
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>

#include "base/duration.h"
#include "health/check.h"
#include "health/endpoint.h"

namespace autopilot::health {

class TcpCheck : public Check {
 public:
  TcpCheck(boost::asio::io_context& io, TcpTarget target);
  // Abandons a running probe: its `done` never runs.
  ~TcpCheck() override;
  TcpCheck(const TcpCheck&) = delete;
  TcpCheck& operator=(const TcpCheck&) = delete;

  // Reports healthy with an empty detail, or unhealthy with "connection
  // refused", "timed out after 2s" and the like.
  void run(Duration timeout, std::function<void(CheckResult)> done) override;
  void cancel() override;

  const TcpTarget& target() const { return target_; }

 private:
  class Probe;

  boost::asio::io_context& io_;
  TcpTarget target_;
  std::shared_ptr<Probe> probe_;  // the latest; also held by its pending handlers
};

}  // namespace autopilot::health
