// HttpCheck: a health check that GETs a URL in-process (Boost.Beast over an
// Asio socket; no curl, no child process). Healthy when the response status
// is the expected one: an exact code when the target names one, else any 2xx.
//
// One request per probe, `Connection: close`. Only the status line and
// headers are read; the body is never read, so a large body costs nothing
// and cannot fail a check. The target is literal (health/endpoint.h): no name
// lookup happens here. Loop thread only; see check.h for the contract of
// run() and cancel().
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>

#include "base/duration.h"
#include "health/check.h"
#include "health/endpoint.h"

namespace autopilot::health {

class HttpCheck : public Check {
 public:
  HttpCheck(boost::asio::io_context& io, HttpTarget target);
  // Abandons a running probe: its `done` never runs.
  ~HttpCheck() override;
  HttpCheck(const HttpCheck&) = delete;
  HttpCheck& operator=(const HttpCheck&) = delete;

  // Reports healthy with an empty detail, or unhealthy with "HTTP 503",
  // "HTTP 200 (expected 204)", "connection refused", "timed out after 2s",
  // "bad HTTP response (...)" and the like.
  void run(Duration timeout, std::function<void(CheckResult)> done) override;
  void cancel() override;

  const HttpTarget& target() const { return target_; }

 private:
  class Probe;

  boost::asio::io_context& io_;
  HttpTarget target_;
  std::shared_ptr<Probe> probe_;  // the latest; also held by its pending handlers
};

}  // namespace autopilot::health
