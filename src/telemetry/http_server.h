// HttpServer: a small HTTP/1.1 server on the event loop (Boost.Beast, no
// thread), for /metrics and /status. Each request is answered by a handler
// that runs on the loop and must not block; keep-alive is honoured.
//
// Bounds, so that no client can make it grow: a request head of at most
// kHeaderLimit bytes and a body of at most kBodyLimit (431 / 413 and the
// connection closed), at most kMaxConnections open connections (more are
// closed on accept), and a connection idle for kIdleTimeout is closed. The
// idle deadline is the only timer, and only while a connection is open.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "base/lifetime.h"
#include "base/result.h"

namespace autopilot::telemetry {

struct HttpRequest {
  std::string method;  // "GET"
  std::string target;  // "/metrics?x=1"
  std::string path;    // "/metrics"
  std::string accept = {};  // the Accept header ("" when absent): /metrics picks its format by it
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra, e.g. Allow

  static HttpResponse text(int status, std::string body, std::string content_type = "text/plain; charset=utf-8") {
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    r.content_type = std::move(content_type);
    return r;
  }
};

class HttpServer {
 public:
  static constexpr size_t kHeaderLimit = 8 * 1024;
  static constexpr size_t kBodyLimit = 8 * 1024;
  static constexpr size_t kMaxConnections = 64;
  static constexpr std::chrono::seconds kIdleTimeout{30};

  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  HttpServer(boost::asio::io_context& loop, Handler handler);
  // Closes the listener and every connection.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Listens on address:port (port 0: any free one) and starts accepting.
  // The error names the address ("listening on 10.0.0.1:9090: Address
  // already in use").
  Result<void> listen(const std::string& address, int port);
  // The port listened on (the chosen one for port 0).
  int port() const;
  void stop();

 private:
  struct State;
  class Session;
  void accept();

  boost::asio::io_context& loop_;
  // Shared with the sessions: their in-flight reads and writes hold it (the
  // lifetime rule's exception for Asio operations that own their buffers).
  std::shared_ptr<State> state_;
  Lifetime lifetime_;  // last: the accept handlers end before the rest
};

}  // namespace autopilot::telemetry
