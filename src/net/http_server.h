// HttpServer: a small HTTP/1.1 server on the event loop (Boost.Beast, no
// thread), listening either on a TCP address and port (telemetry's /metrics
// and /status) or on a unix stream socket (the control socket). Each request
// is answered by a handler that runs on the loop and must not block;
// keep-alive is honoured.
//
// Bounds, so that no client can make it grow (HttpLimits, per server): a
// request head of at most `header_bytes` and a body of at most `body_bytes`
// (431 / 413 and the connection closed), at most `connections` open
// connections (more are closed on accept), and a connection idle for
// `idle_timeout` is closed. The idle deadline is the only timer, and only
// while a connection is open.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "base/lifetime.h"
#include "base/result.h"

namespace autopilot::net {

struct HttpRequest {
  std::string method;  // "GET"
  std::string target;  // "/metrics?x=1"
  std::string path;    // "/metrics"
  std::string body = {};
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

struct HttpLimits {
  size_t header_bytes = 8 * 1024;
  size_t body_bytes = 8 * 1024;
  size_t connections = 64;
  std::chrono::seconds idle_timeout{30};
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  HttpServer(boost::asio::io_context& loop, Handler handler, HttpLimits limits = {});
  // Closes the listener and every connection, and removes the socket file.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Listens on address:port (port 0: any free one) and starts accepting.
  // The error names the address ("listening on 10.0.0.1:9090: Address
  // already in use").
  Result<void> listen(const std::string& address, int port);
  // Listens on a unix stream socket at `path`, mode 0600 (net/socket_path.h:
  // a stale socket there is replaced, anything else is refused). The file is
  // removed by stop(), if it is still ours.
  Result<void> listen_unix(const std::string& path);
  // The port listened on (the chosen one for port 0); 0 for a unix socket.
  int port() const;
  const HttpLimits& limits() const;
  void stop();

 private:
  struct State;
  template <class Protocol>
  class Session;
  template <class Acceptor>
  void accept(Acceptor& acceptor);

  boost::asio::io_context& loop_;
  // Shared with the sessions: their in-flight reads and writes hold it (the
  // lifetime rule's exception for Asio operations that own their buffers).
  std::shared_ptr<State> state_;
  Lifetime lifetime_;  // last: the accept handlers end before the rest
};

}  // namespace autopilot::net
