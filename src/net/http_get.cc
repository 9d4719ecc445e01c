#include "net/http_get.h"

#include <fmt/format.h>

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <cctype>
#include <charconv>

namespace autopilot::net {
namespace {

namespace asio = boost::asio;

bool starts_with_nocase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  return true;
}

// Transport failures are worth another try; anything the reply said is not.
Error unavailable(Error e) {
  e.kind = ErrorKind::kUnavailable;
  return e;
}

}  // namespace

std::string Url::str() const {
  bool v6 = endpoint.host.find(':') != std::string::npos;
  bool default_port = endpoint.port == (endpoint.tls ? 443 : 80);
  return fmt::format("{}://{}{}{}{}{}", endpoint.tls ? "https" : "http", v6 ? "[" : "", endpoint.host, v6 ? "]" : "",
                     default_port ? "" : ":" + std::to_string(endpoint.port), target);
}

Result<Url> parse_url(std::string_view text) {
  auto fail = [&](std::string_view why) { return make_error(fmt::format("bad URL \"{}\": {}", text, why)); };
  Url url;
  std::string_view rest;
  if (starts_with_nocase(text, "http://")) {
    rest = text.substr(7);
  } else if (starts_with_nocase(text, "https://")) {
    url.endpoint.tls = true;
    rest = text.substr(8);
  } else {
    return fail("only http:// and https:// are supported");
  }
  url.endpoint.port = url.endpoint.tls ? 443 : 80;
  size_t slash = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, slash);
  url.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (auto hash = url.target.find('#'); hash != std::string::npos) url.target.resize(hash);
  if (url.target.empty() || url.target[0] != '/') url.target.insert(0, "/");
  if (authority.find('@') != std::string_view::npos)
    return fail("user info (user:password@) is not supported; give a token with token_env");
  std::string_view port;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return fail("missing ']'");
    url.endpoint.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after[0] != ':') return fail("unexpected text after ']'");
    if (!after.empty()) port = after.substr(1);
  } else {
    size_t colon = authority.find(':');
    url.endpoint.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (url.endpoint.host.empty()) return fail("no host");
  if (!port.empty() || authority.ends_with(":")) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535)
      return fail("bad port");
    url.endpoint.port = static_cast<std::uint16_t>(value);
  }
  return url;
}

struct HttpGet::Exchange {
  Url url;
  HttpGetOptions options;
  std::function<void(Result<HttpReply>)> done;
  std::shared_ptr<HttpConnection> conn;
  int status = 0;
};

HttpGet::HttpGet(asio::io_context& io, os::Timers& timers, asio::ssl::context* tls_context)
    : io_(io), deadline_(timers), resolver_(io), given_tls_(tls_context) {}

HttpGet::~HttpGet() { cancel(); }

Result<std::unique_ptr<asio::ssl::context>> client_tls_trusting(std::string_view ca_pem) {
  auto tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  boost::system::error_code ec;
  tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1,
                   ec);
  tls->add_certificate_authority(asio::buffer(ca_pem.data(), ca_pem.size()), ec);
  if (ec) return make_error("holds no PEM certificate");
  tls->set_verify_mode(asio::ssl::verify_peer);
  return tls;
}

asio::ssl::context* HttpGet::tls() {
  if (given_tls_) return given_tls_;
  if (!own_tls_) {
    own_tls_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    own_tls_->set_default_verify_paths();
    own_tls_->set_verify_mode(asio::ssl::verify_peer);
  }
  return own_tls_.get();
}

void HttpGet::cancel() {
  deadline_.cancel();
  if (current_ && current_->conn) current_->conn->close();
  current_.reset();
}

void HttpGet::get(const Url& url, const HttpGetOptions& options, std::function<void(Result<HttpReply>)> done) {
  cancel();
  auto exchange = std::make_shared<Exchange>(Exchange{url, options, std::move(done), nullptr, 0});
  current_ = exchange;
  deadline_.after(options.timeout, lifetime_.bind([this, exchange] {
    finish(exchange, unavailable(make_error(fmt::format("{}: timed out after {}", exchange->url.str(),
                                                        format_duration(exchange->options.timeout)))));
  }));
  resolver_.resolve(url.endpoint.host, lifetime_.bind([this, exchange](Result<Addresses> addresses) {
    on_resolved(exchange, std::move(addresses));
  }));
}

void HttpGet::finish(const std::shared_ptr<Exchange>& exchange, Result<HttpReply> result) {
  if (exchange != current_) return;  // abandoned, or already finished
  deadline_.cancel();
  if (exchange->conn) exchange->conn->close();
  current_.reset();
  // Never inline: get()'s caller may not expect its callback yet.
  asio::post(
      io_, lifetime_.bind([done = std::move(exchange->done), r = std::move(result)]() mutable { done(std::move(r)); }));
}

void HttpGet::on_resolved(const std::shared_ptr<Exchange>& exchange, Result<Addresses> addresses) {
  if (exchange != current_) return;
  if (!addresses)
    return finish(exchange, unavailable(make_error(exchange->url.str() + ": " + addresses.error().message)));
  asio::ssl::context* context = nullptr;
  if (exchange->url.endpoint.tls) context = exchange->options.tls ? exchange->options.tls : tls();
  exchange->conn = std::make_shared<HttpConnection>(io_, context, exchange->url.endpoint);
  exchange->conn->connect(*addresses, lifetime_.bind([this, exchange](Result<void> connected) {
    if (!connected)
      return finish(exchange, unavailable(make_error(exchange->url.str() + ": " + connected.error().message)));
    on_connected(exchange);
  }));
}

void HttpGet::on_connected(const std::shared_ptr<Exchange>& exchange) {
  if (exchange != current_) return;
  OutgoingRequest request{exchange->url.target, "", exchange->options.authorization, "GET", {}};
  exchange->conn->send(request, lifetime_.bind([this, exchange](Result<int> status) {
    if (!status) return finish(exchange, unavailable(make_error(exchange->url.str() + ": " + status.error().message)));
    exchange->status = *status;
    exchange->conn->read_rest(exchange->options.max_bytes, lifetime_.bind([this, exchange](Result<std::string> body) {
      if (!body) {
        Error e = make_error(exchange->url.str() + ": " + body.error().message);
        // A body cut short is a transport failure; one too large is not.
        if (body.error().kind != ErrorKind::kOutOfRange) e = unavailable(std::move(e));
        return finish(exchange, std::move(e));
      }
      finish(exchange, HttpReply{exchange->status, std::move(*body)});
    }));
  }));
}

}  // namespace autopilot::net
