// HttpConnection: one HTTP/1.1 client connection (plain TCP, or TLS through
// OpenSSL) to one server, serving one exchange at a time: connect, then per
// request send() (write, read the reply's head) and read the body, whole or
// piece by piece (streams). The etcd client (discovery/etcd/client.cc) and
// the `files` url and stash sources (net/http_get.h) are built on it.
//
// Rules: it has no deadlines of its own; its owner closes it when a deadline
// passes, and every pending operation then fails. Completion handlers keep
// the connection alive and run on the loop, never inline. Bodies may be
// chunked with trailers (etcd's gateway's error replies are). TLS verifies the
// server's certificate against the host name or IP literal of its endpoint.
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "net/resolver.h"

namespace autopilot::net {

struct HttpEndpoint {
  bool tls = false;
  std::string host;  // a name or an IP literal (v6 without brackets)
  std::uint16_t port = 80;
  bool operator==(const HttpEndpoint&) const = default;
};

struct OutgoingRequest {
  std::string target;  // "/v3/kv/range"
  std::string body;
  std::string token;  // sent raw in Authorization when not empty
  std::string method = "POST";  // "GET" sends no body
  std::vector<std::pair<std::string, std::string>> headers = {};  // more header fields
};

struct BodyPiece {
  std::string data;   // may be empty
  bool last = false;  // the body ended with this piece
};

class HttpConnection : public std::enable_shared_from_this<HttpConnection> {
 public:
  // `tls` is required for an https endpoint and must outlive the connection.
  HttpConnection(boost::asio::io_context& io, boost::asio::ssl::context* tls, HttpEndpoint endpoint);
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Connects to the first of `addresses` that accepts (then the TLS handshake).
  void connect(const net::Addresses& addresses, std::function<void(Result<void>)> done);
  // Writes `request` and reads the reply's head; yields the HTTP status.
  void send(const OutgoingRequest& request, std::function<void(Result<int>)> done);
  // The next piece of the body.
  void read_some(std::function<void(Result<BodyPiece>)> done);
  // The rest of the body; more than `limit` bytes is an error of kind kOutOfRange.
  void read_rest(size_t limit, std::function<void(Result<std::string>)> done);

  // Closes the socket; pending operations fail. Idempotent.
  void close();
  bool is_open() const;
  // After a whole reply: the server keeps the connection open for another.
  bool reusable() const;
  // It has served a request before (it came from a pool).
  bool was_used() const { return requests_ > 1; }
  // The last send() failed the way a connection the server closed while idle
  // fails (EOF, reset or broken pipe before any reply byte).
  bool failed_stale() const { return failed_stale_; }

 private:
  using Tcp = boost::beast::tcp_stream;
  using Tls = boost::beast::ssl_stream<Tcp>;

  Tcp& lowest();
  const Tcp& lowest() const;
  template <class F>
  void with_stream(F&& f) {
    if (tls_) {
      f(*tls_);
    } else {
      f(*tcp_);
    }
  }
  void handshake(std::function<void(Result<void>)> done);
  void read_head(std::function<void(Result<int>)> done);
  void read_rest_loop(size_t limit, std::shared_ptr<std::string> body, std::function<void(Result<std::string>)> done);
  Error transport_error(const char* what, boost::system::error_code ec) const;

  boost::asio::io_context& io_;
  HttpEndpoint endpoint_;
  std::string host_header_;
  std::unique_ptr<Tcp> tcp_;
  std::unique_ptr<Tls> tls_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request<boost::beast::http::string_body>> request_;
  std::optional<boost::beast::http::response_parser<boost::beast::http::buffer_body>> parser_;
  std::array<char, 16384> chunk_{};
  int requests_ = 0;
  bool failed_stale_ = false;
  bool closed_ = false;
};

}  // namespace autopilot::net
