// ProxyClient: the `proxy` provider's HTTP GET to another server, on the
// loop: the host name through net::Resolver (c-ares, no blocking lookup),
// then one connection per request (Connection: close), the whole exchange
// bounded by a timeout and the body by a size limit.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "base/lifetime.h"
#include "base/result.h"
#include "net/resolver.h"

namespace autopilot::stash {

struct Upstream {
  int status = 0;
  std::string body;
  std::string content_type;
  std::string etag;
};

class ProxyClient {
 public:
  static constexpr size_t kBodyLimit = 64 * 1024 * 1024;

  ProxyClient(boost::asio::io_context& loop, net::Resolver& resolver, std::chrono::milliseconds timeout);
  ~ProxyClient();
  ProxyClient(const ProxyClient&) = delete;
  ProxyClient& operator=(const ProxyClient&) = delete;

  // GETs http://host:port<target>; `done` runs once, on the loop, never
  // inline. Errors: "cannot resolve ...", "connect ...: Connection refused",
  // "timed out after 10s", "bad response (...)". Never after destruction.
  void get(const std::string& host, int port, const std::string& target, std::function<void(Result<Upstream>)> done);

 private:
  class Exchange;

  boost::asio::io_context& loop_;
  net::Resolver& resolver_;
  std::chrono::milliseconds timeout_;
  Lifetime lifetime_;
};

}  // namespace autopilot::stash
