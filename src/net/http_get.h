// HttpGet: one HTTP(S) GET on the loop, the whole exchange (name lookup,
// connect, TLS handshake, request, reply head and body) under one deadline.
// Built on HttpConnection (net/http_connection.h); used by the `files` url
// and stash sources. One request at a time per HttpGet; destroying it or
// calling cancel() abandons the request (its callback never runs). Loop
// thread only.
//
// Errors that trying again later may cure (a refused or reset connection, a
// name that does not resolve, the deadline) have kind kUnavailable; the reply
// of any status is a success (the caller decides what a 404 or a 503 means).
// No message ever contains the Authorization value or the body.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/duration.h"
#include "base/lifetime.h"
#include "base/result.h"
#include "net/http_connection.h"
#include "net/resolver.h"
#include "os/timers.h"

namespace autopilot::net {

// An http:// or https:// URL split for a request: "https://[::1]:8443/a?b".
struct Url {
  HttpEndpoint endpoint;  // port defaults to 80 or 443
  std::string target;     // "/a?b"; "/" when the URL has no path

  std::string str() const;  // the URL again, for messages
  bool operator==(const Url&) const = default;
};

// Errors name the text: "bad URL \"ftp://x\": only http:// and https:// are supported".
// User info (user:pass@) is refused, so a password never sits in a config.
Result<Url> parse_url(std::string_view text);

struct HttpGetOptions {
  Duration timeout = std::chrono::seconds(10);
  std::size_t max_bytes = 64 * 1024 * 1024;  // a larger body is an error (not retried)
  std::string authorization;                 // the Authorization header's value when not empty
  // For an https URL: these TLS settings instead of the HttpGet's (the caller
  // keeps them alive until `done` runs or the request is abandoned).
  boost::asio::ssl::context* tls = nullptr;
};

// TLS settings for an https GET that trust the certificates in `ca_pem` (one
// or more, PEM) instead of the system's, as curl's --cacert: for a server
// whose certificate a private CA signed. TLS 1.2 or later; the server's
// certificate must name the host or IP the URL gives. The error says the
// text holds no certificate.
Result<std::unique_ptr<boost::asio::ssl::context>> client_tls_trusting(std::string_view ca_pem);

struct HttpReply {
  int status = 0;
  std::string body;
};

class HttpGet {
 public:
  // `tls_context`: the TLS settings for https URLs (when null, one with the
  // system's default verify paths is made on first use; OpenSSL reads
  // SSL_CERT_FILE and SSL_CERT_DIR for them).
  HttpGet(boost::asio::io_context& io, os::Timers& timers, boost::asio::ssl::context* tls_context = nullptr);
  ~HttpGet();
  HttpGet(const HttpGet&) = delete;
  HttpGet& operator=(const HttpGet&) = delete;

  // `done` runs once, on the loop, never inline. Starting a request abandons
  // the one in flight.
  void get(const Url& url, const HttpGetOptions& options, std::function<void(Result<HttpReply>)> done);
  void cancel();

 private:
  struct Exchange;
  void finish(const std::shared_ptr<Exchange>& exchange, Result<HttpReply> result);
  void on_resolved(const std::shared_ptr<Exchange>& exchange, Result<Addresses> addresses);
  void on_connected(const std::shared_ptr<Exchange>& exchange);
  boost::asio::ssl::context* tls();

  boost::asio::io_context& io_;
  os::Timer deadline_;
  Resolver resolver_;
  boost::asio::ssl::context* given_tls_;
  std::unique_ptr<boost::asio::ssl::context> own_tls_;
  std::shared_ptr<Exchange> current_;
  Lifetime lifetime_;  // last: ends first
};

}  // namespace autopilot::net
