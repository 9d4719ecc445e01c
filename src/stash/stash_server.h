// StashServer: the HTTP/1.1 (optionally HTTPS) front of `autopilot stash`,
// on the event loop: Boost.Beast, no thread, no blocking call. It parses
// requests, enforces the limits below, answers what needs no provider
// (405 for methods other than GET and HEAD, 413/431 for oversized requests),
// and hands each GET or HEAD to the handler, which may answer later (a proxy
// or catalog lookup). HEAD gets GET's status and headers, Content-Length
// included, without the body. Keep-alive is honoured; one request is handled
// at a time per connection.
//
// Bounds, so that no client can hold or grow anything:
//   - a request head of at most header_limit bytes, a body of at most
//     body_limit (431 / 413, then the connection is closed);
//   - read_timeout for each whole request, counted from the moment the
//     server waits for it (an idle keep-alive connection included): a
//     client that trickles bytes is cut off when it runs out;
//   - write_timeout for each response, handshake_timeout for TLS;
//   - at most max_connections open connections; more are closed on accept.
// The same code serves plain TCP and TLS (Asio's OpenSSL stream).
//
// This repeats the shape of telemetry/http_server.h, which answers
// synchronously and has no TLS; the two may merge later.
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
#include "stash/stash_config.h"

namespace autopilot::stash {

struct StashRequest {
  bool is_head = false;
  std::string target;         // "/ssl/key.pem?x" as sent
  std::string authorization;  // the header's value, "" when absent
  std::string if_none_match;  // likewise
};

struct StashResponse {
  int status = 200;
  std::string body;
  std::string content_type = "text/plain; charset=utf-8";
  std::string etag;  // quoted, "" for none
  std::vector<std::pair<std::string, std::string>> headers;

  static StashResponse text(int status, std::string body) {
    StashResponse r;
    r.status = status;
    r.body = std::move(body);
    return r;
  }
};

struct ServerLimits {
  size_t header_limit = 8 * 1024;
  size_t body_limit = 1024;
  size_t max_connections = 1024;
  std::chrono::milliseconds read_timeout{10'000};
  std::chrono::milliseconds write_timeout{30'000};
  std::chrono::milliseconds handshake_timeout{10'000};
};

class StashServer {
 public:
  // Answers with `reply`, exactly once, on the loop (inline or later).
  using Reply = std::function<void(StashResponse)>;
  using Handler = std::function<void(const StashRequest&, Reply)>;

  StashServer(boost::asio::io_context& loop, Handler handler, ServerLimits limits = {});
  // Closes the listener and every connection.
  ~StashServer();
  StashServer(const StashServer&) = delete;
  StashServer& operator=(const StashServer&) = delete;

  // Serves HTTPS with this certificate and key from now on (call before
  // listen). The error says what OpenSSL refused ("tls: the key does not
  // match the certificate ...").
  Result<void> use_tls(const TlsConfig& tls);
  // Listens on address:port (port 0: any free one) and starts accepting.
  Result<void> listen(const std::string& address, int port);
  int port() const;
  size_t connections() const;
  // Stops accepting and closes every connection; pending replies are dropped.
  void stop();

 private:
  struct State;
  template <class Stream>
  class Session;
  void accept();

  std::shared_ptr<State> state_;  // shared with the sessions (they outlive a stop)
  Lifetime lifetime_;             // last: the accept handlers end first
};

}  // namespace autopilot::stash
