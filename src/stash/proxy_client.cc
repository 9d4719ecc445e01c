#include "stash/proxy_client.h"

#include <optional>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <fmt/format.h>

namespace autopilot::stash {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// One request: connect, write, read, then report. Its handlers hold it.
class ProxyClient::Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(asio::io_context& loop, std::string where, std::function<void(Result<Upstream>)> done)
      : stream_(loop), where_(std::move(where)), done_(std::move(done)) {}

  void start(const net::Addresses& addresses, int port, http::request<http::empty_body> request,
             std::chrono::milliseconds timeout) {
    request_ = std::move(request);
    std::vector<tcp::endpoint> endpoints;
    for (const auto& a : addresses) endpoints.emplace_back(a, static_cast<unsigned short>(port));
    timeout_ = timeout;
    stream_.expires_after(timeout);
    stream_.async_connect(endpoints, [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
      if (ec) return self->fail("connect", ec);
      http::async_write(self->stream_, self->request_, [self](beast::error_code ec, size_t) {
        if (ec) return self->fail("write", ec);
        self->parser_.body_limit(kBodyLimit);
        http::async_read(self->stream_, self->buffer_, self->parser_, [self](beast::error_code ec, size_t) {
          if (ec) return self->fail("read", ec);
          self->succeed();
        });
      });
    });
  }

 private:
  void fail(const char* what, beast::error_code ec) {
    std::string message = ec == beast::error::timeout
                              ? fmt::format("{}: timed out after {}ms", where_, timeout_.count())
                              : fmt::format("{} {}: {}", what, where_, ec.message());
    finish(make_error(message));
  }

  void succeed() {
    auto& res = parser_.get();
    Upstream up;
    up.status = static_cast<int>(res.result_int());
    up.body = std::move(res.body());
    if (auto it = res.find(http::field::content_type); it != res.end()) up.content_type = std::string(it->value());
    if (auto it = res.find(http::field::etag); it != res.end()) up.etag = std::string(it->value());
    finish(std::move(up));
  }

  void finish(Result<Upstream> r) {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    if (auto done = std::move(done_)) done(std::move(r));
  }

  beast::tcp_stream stream_;
  std::string where_;
  std::function<void(Result<Upstream>)> done_;
  http::request<http::empty_body> request_;
  beast::flat_buffer buffer_;
  http::response_parser<http::string_body> parser_;
  std::chrono::milliseconds timeout_{0};
};

ProxyClient::ProxyClient(asio::io_context& loop, net::Resolver& resolver, std::chrono::milliseconds timeout)
    : loop_(loop), resolver_(resolver), timeout_(timeout) {}

ProxyClient::~ProxyClient() = default;

void ProxyClient::get(const std::string& host, int port, const std::string& target,
                      std::function<void(Result<Upstream>)> done) {
  http::request<http::empty_body> request{http::verb::get, target, 11};
  request.set(http::field::host, host.find(':') != std::string::npos ? "[" + host + "]" : host);
  request.set(http::field::user_agent, "autopilot-stash");
  request.set(http::field::connection, "close");
  std::string where = fmt::format("{}:{}", host, port);
  // The Lifetime drops a report that arrives after we are gone; the
  // exchange itself lives until its socket operations end.
  auto report = lifetime_.bind([done = std::move(done)](Result<Upstream> r) { done(std::move(r)); });
  resolver_.resolve(host, lifetime_.bind([this, port, where, request = std::move(request),
                                          report](Result<net::Addresses> addresses) mutable {
    if (!addresses) return report(addresses.error());
    auto exchange = std::make_shared<Exchange>(loop_, where, std::function<void(Result<Upstream>)>(report));
    exchange->start(*addresses, port, std::move(request), timeout_);
  }));
}

}  // namespace autopilot::stash
