// HttpServer: a small HTTP/1.1 server on the event loop (Boost.Beast, no
// thread), the one server of the tree: telemetry's /metrics and /status on
// TCP, the control API on a unix stream socket, and `autopilot stash` on TCP,
// plain or HTTPS (Asio's OpenSSL stream, use_tls). Each request goes to a
// handler on the loop that must not block; it answers at once (Handler) or
// later, exactly once (AsyncHandler: a proxy or catalog lookup). A HEAD
// reply carries the status and headers, Content-Length included, without
// the body; a 304 has neither body nor length. Keep-alive is honoured; one
// request is handled at a time per connection.
//
// Bounds, so that no client can hold or grow anything (HttpLimits, per
// server):
//   - a request head of at most header_bytes and a body of at most body_bytes
//     (431 / 413, then the connection is closed);
//   - read_timeout for each whole request, counted from the moment the server
//     waits for it (an idle keep-alive connection included): a client that
//     trickles bytes is cut off when it runs out;
//   - write_timeout for each response, handshake_timeout for TLS's handshake
//     and close_notify; no deadline while the handler works (it bounds its
//     own work);
//   - at most `connections` open connections; more are closed on accept.
// The timers run only while a connection is open.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "base/lifetime.h"
#include "base/result.h"

namespace boost::asio::ssl {
class context;
}

namespace autopilot::net {

struct HttpRequest {
  std::string method;  // "GET"
  std::string target;  // "/metrics?x=1"
  std::string path;    // "/metrics"
  std::string body = {};
  std::string accept = {};         // the Accept header ("" when absent): /metrics picks its format by it
  std::string authorization = {};  // likewise: stash's bearer tokens
  std::string if_none_match = {};  // likewise: stash's ETags
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra, e.g. Allow, ETag

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
  std::chrono::milliseconds read_timeout{30'000};
  std::chrono::milliseconds write_timeout{30'000};
  std::chrono::milliseconds handshake_timeout{10'000};
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  // Answers with `reply`, exactly once, on the loop (inline or later).
  using Reply = std::function<void(HttpResponse)>;
  using AsyncHandler = std::function<void(const HttpRequest&, Reply)>;

  HttpServer(boost::asio::io_context& loop, Handler handler, HttpLimits limits = {});
  HttpServer(boost::asio::io_context& loop, AsyncHandler handler, HttpLimits limits = {});
  // Closes the listener and every connection, and removes the socket file.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Serves HTTPS on listen()'s port from now on (call before listen; the
  // unix socket stays plain), with this certificate chain (leaf first) and
  // key. The error says what OpenSSL refused, never the PEM text.
  Result<void> use_tls(std::string_view cert_pem, std::string_view key_pem);
  // Likewise, with a context the caller built.
  void use_tls(std::shared_ptr<boost::asio::ssl::context> context);
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
  size_t connections() const;
  // Stops accepting and closes every connection; pending replies are dropped.
  void stop();

 private:
  struct State;
  template <class Stream>
  class Session;
  template <class Acceptor>
  void accept(Acceptor& acceptor);

  // Shared with the sessions: their in-flight reads and writes hold it (the
  // lifetime rule's exception for Asio operations that own their buffers).
  std::shared_ptr<State> state_;
  Lifetime lifetime_;  // last: the accept handlers end before the rest
};

}  // namespace autopilot::net
