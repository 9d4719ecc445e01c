#include "net/http_connection.h"

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl.hpp>
#include <limits>

namespace autopilot::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using boost::system::error_code;

HttpConnection::HttpConnection(asio::io_context& io, asio::ssl::context* tls, HttpEndpoint endpoint)
    : io_(io), endpoint_(std::move(endpoint)) {
  bool v6 = endpoint_.host.find(':') != std::string::npos;
  host_header_ = fmt::format("{}{}{}:{}", v6 ? "[" : "", endpoint_.host, v6 ? "]" : "", endpoint_.port);
  if (endpoint_.tls && tls) {
    tls_ = std::make_unique<Tls>(io, *tls);
  } else {
    tcp_ = std::make_unique<Tcp>(io);
  }
}

HttpConnection::Tcp& HttpConnection::lowest() { return tls_ ? beast::get_lowest_layer(*tls_) : *tcp_; }
const HttpConnection::Tcp& HttpConnection::lowest() const { return tls_ ? beast::get_lowest_layer(*tls_) : *tcp_; }

bool HttpConnection::is_open() const { return !closed_ && lowest().socket().is_open(); }

bool HttpConnection::reusable() const { return is_open() && parser_ && parser_->is_done() && parser_->keep_alive(); }

void HttpConnection::close() {
  if (closed_) return;
  closed_ = true;
  error_code ignored;
  lowest().socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  lowest().close();
}

Error HttpConnection::transport_error(const char* what, error_code ec) const {
  std::string why = ec.message();
  if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
    why = "the server closed the connection";
  } else if (ec == http::error::partial_message) {
    why = "the server closed the connection in the middle of a reply";
  }
  if (tls_ && ec.category() == asio::error::get_ssl_category()) {
    long verify = SSL_get_verify_result(tls_->native_handle());
    if (verify != X509_V_OK) why += fmt::format(" ({})", X509_verify_cert_error_string(verify));
  }
  return make_error(fmt::format("{}: {}", what, why));
}

void HttpConnection::connect(const net::Addresses& addresses, std::function<void(Result<void>)> done) {
  std::vector<asio::ip::tcp::endpoint> endpoints;
  for (const auto& address : addresses) endpoints.emplace_back(address, endpoint_.port);
  lowest().async_connect(endpoints, [self = shared_from_this(), done = std::move(done)](
                                        error_code ec, const asio::ip::tcp::endpoint&) mutable {
    if (ec) return done(self->transport_error("connect", ec));
    error_code ignored;
    self->lowest().socket().set_option(asio::ip::tcp::no_delay(true), ignored);
    if (!self->tls_) return done({});
    self->handshake(std::move(done));
  });
}

void HttpConnection::handshake(std::function<void(Result<void>)> done) {
  SSL* ssl = tls_->native_handle();
  // Verify the certificate names the server as its endpoint spells it: an IP
  // SAN for an IP literal, a DNS SAN (and SNI) for a name.
  if (net::parse_ip_literal(endpoint_.host)) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), endpoint_.host.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl, endpoint_.host.c_str());
    SSL_set1_host(ssl, endpoint_.host.c_str());
  }
  tls_->async_handshake(asio::ssl::stream_base::client,
                        [self = shared_from_this(), done = std::move(done)](error_code ec) {
                          if (ec) {
                            return done(self->transport_error("TLS handshake", ec));
                          }
                          done({});
                        });
}

void HttpConnection::send(const OutgoingRequest& request, std::function<void(Result<int>)> done) {
  ++requests_;
  failed_stale_ = false;
  request_.emplace(http::string_to_verb(request.method), request.target, 11);
  request_->set(http::field::host, host_header_);
  request_->set(http::field::user_agent, "autopilot");
  for (const auto& [name, value] : request.headers) request_->set(name, value);
  if (!request.token.empty()) request_->set(http::field::authorization, request.token);
  request_->keep_alive(true);
  request_->body() = request.body;
  if (request.method != "GET" || !request.body.empty()) request_->prepare_payload();
  parser_.emplace();
  // Streams never end; read_rest() enforces its own limit. (Not boost::none:
  // Boost 1.74 compares a Content-Length against an empty optional as over.)
  parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
  with_stream([&](auto& stream) {
    http::async_write(stream, *request_, [self = shared_from_this(), done = std::move(done)](error_code ec, size_t) {
      if (ec) {
        self->failed_stale_ =
            self->was_used() && (ec == asio::error::broken_pipe || ec == asio::error::connection_reset);
        return done(self->transport_error("sending the request", ec));
      }
      self->read_head(std::move(done));
    });
  });
}

void HttpConnection::read_head(std::function<void(Result<int>)> done) {
  with_stream([&](auto& stream) {
    http::async_read_header(
        stream, buffer_, *parser_, [self = shared_from_this(), done = std::move(done)](error_code ec, size_t) {
          if (ec) {
            self->failed_stale_ = self->was_used() && (ec == http::error::end_of_stream ||
                                                       ec == asio::error::connection_reset || ec == asio::error::eof);
            return done(self->transport_error("reading the reply", ec));
          }
          done(static_cast<int>(self->parser_->get().result_int()));
        });
  });
}

void HttpConnection::read_some(std::function<void(Result<BodyPiece>)> done) {
  if (parser_->is_done()) {
    asio::post(io_, [done = std::move(done)] { done(BodyPiece{{}, true}); });
    return;
  }
  auto& body = parser_->get().body();
  body.data = chunk_.data();
  body.size = chunk_.size();
  with_stream([&](auto& stream) {
    http::async_read_some(stream, buffer_, *parser_,
                          [self = shared_from_this(), done = std::move(done)](error_code ec, size_t) {
                            if (ec == http::error::need_buffer) ec = {};
                            if (ec) return done(self->transport_error("reading the reply", ec));
                            size_t got = self->chunk_.size() - self->parser_->get().body().size;
                            done(BodyPiece{std::string(self->chunk_.data(), got), self->parser_->is_done()});
                          });
  });
}

void HttpConnection::read_rest(size_t limit, std::function<void(Result<std::string>)> done) {
  read_rest_loop(limit, std::make_shared<std::string>(), std::move(done));
}

void HttpConnection::read_rest_loop(size_t limit, std::shared_ptr<std::string> body,
                                    std::function<void(Result<std::string>)> done) {
  read_some([self = shared_from_this(), limit, body, done = std::move(done)](Result<BodyPiece> piece) mutable {
    if (!piece) return done(piece.error());
    body->append(piece->data);
    if (body->size() > limit) return done(make_error(ErrorKind::kOutOfRange, fmt::format("reply larger than {} bytes", limit)));
    if (piece->last) return done(std::move(*body));
    self->read_rest_loop(limit, std::move(body), std::move(done));
  });
}

}  // namespace autopilot::net
