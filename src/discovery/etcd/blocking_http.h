// A blocking HTTP/1.1 client and a free-port picker for the etcd test
// harness (etcd_server.h), which probes its members with them, and for the
// tests and benchmarks that talk to a member's JSON gateway directly
// (put/range, /health, /metrics) or need a port nobody listens on.
// Test-only (library autopilot_etcd_testing); every call blocks, bounded by
// its timeout, so none of it may run on a loop.
#pragma once

#include <chrono>
#include <string>

#include "base/result.h"

namespace autopilot::discovery::etcd::testing {

// A free TCP port on `address` (bind to port 0, read it back, close); 0 when
// `address` is not a numeric local address.
int free_port(const std::string& address = "127.0.0.1");

// A blocking HTTP/1.1 exchange for tests: `method` `path` on `base_url`
// ("http://127.0.0.1:PORT"), `Connection: close`, the whole reply read
// (chunked bodies decoded), everything bounded by `timeout`.
struct HttpReply {
  int status = 0;
  std::string body;
};
Result<HttpReply> http_request(const std::string& base_url, const std::string& method, const std::string& path,
                               const std::string& body = {},
                               std::chrono::milliseconds timeout = std::chrono::seconds(5));

// Shared with the cluster manager (etcd_server.cc):
// an owned file descriptor, closed on destruction;
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd();
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};
// the time left until `deadline`, never negative.
std::chrono::milliseconds remaining(std::chrono::steady_clock::time_point deadline);

}  // namespace autopilot::discovery::etcd::testing
