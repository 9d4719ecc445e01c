#include "telemetry/http_server.h"

#include <list>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace autopilot::telemetry {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// Shared by the server and its sessions, so a session finishing after the
// server is gone finds no handler rather than a dangling one.
struct HttpServer::State {
  explicit State(asio::io_context& loop, Handler h) : acceptor(loop), retry(loop), handler(std::move(h)) {}
  tcp::acceptor acceptor;
  asio::steady_timer retry;  // armed only after a failed accept
  Handler handler;
  std::list<std::weak_ptr<Session>> sessions;
};

class HttpServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<State> state)
      : stream_(std::move(socket)), buffer_(kHeaderLimit + kBodyLimit), state_(std::move(state)) {}

  void start() { read(); }
  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

 private:
  void read() {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(kBodyLimit);
    stream_.expires_after(kIdleTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::header_limit) return reply_and_close(431, "request header too large\n");
    if (ec == http::error::body_limit || ec == http::error::buffer_overflow)
      return reply_and_close(413, "request too large\n");
    if (ec) return close();
    if (!state_->handler) return close();
    const auto& req = parser_->get();
    HttpRequest request{std::string(req.method_string()), std::string(req.target()), {}};
    request.path = request.target.substr(0, request.target.find('?'));
    request.accept = std::string(req[http::field::accept]);
    respond(state_->handler(request), req.keep_alive());
  }

  void reply_and_close(int status, std::string body) {
    respond(HttpResponse::text(status, std::move(body)), false);
  }

  void respond(HttpResponse r, bool keep_alive) {
    response_ = {};
    response_.version(11);
    response_.result(static_cast<unsigned>(r.status));
    response_.set(http::field::content_type, r.content_type);
    for (const auto& [k, v] : r.headers) response_.set(k, v);
    response_.body() = std::move(r.body);
    response_.keep_alive(keep_alive);
    response_.prepare_payload();
    http::async_write(stream_, response_, [self = shared_from_this(), keep_alive](beast::error_code ec, size_t) {
      if (ec || !keep_alive) return self->close();
      self->read();
    });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  std::shared_ptr<State> state_;
};

HttpServer::HttpServer(asio::io_context& loop, Handler handler)
    : loop_(loop), state_(std::make_shared<State>(loop, std::move(handler))) {}

HttpServer::~HttpServer() { stop(); }

Result<void> HttpServer::listen(const std::string& address, int port) {
  auto where = [&] {
    return (address.find(':') != std::string::npos ? "[" + address + "]" : address) + ":" + std::to_string(port);
  };
  beast::error_code ec;
  auto ip = asio::ip::make_address(address, ec);
  if (ec) return make_error("listening on " + where() + ": " + ec.message());
  tcp::endpoint endpoint(ip, static_cast<unsigned short>(port));
  auto& a = state_->acceptor;
  if (!a.open(endpoint.protocol(), ec) && !a.set_option(asio::socket_base::reuse_address(true), ec) &&
      !a.bind(endpoint, ec) && !a.listen(asio::socket_base::max_listen_connections, ec)) {
    accept();
    return {};
  }
  beast::error_code ignored;
  a.close(ignored);
  return make_error("listening on " + where() + ": " + ec.message());
}

int HttpServer::port() const {
  beast::error_code ec;
  auto endpoint = state_->acceptor.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

void HttpServer::accept() {
  state_->acceptor.async_accept(lifetime_.bind([this](beast::error_code ec, tcp::socket socket) {
    State& state = *state_;
    if (!state.acceptor.is_open()) return;  // stopped
    if (ec) {
      // Out of descriptors (EMFILE) and the like: accepting again at once
      // would fail at once, so try again a little later.
      state.retry.expires_after(std::chrono::milliseconds(100));
      state.retry.async_wait(lifetime_.bind([this](beast::error_code wait_ec) {
        if (!wait_ec && state_->acceptor.is_open()) accept();
      }));
      return;
    }
    state.sessions.remove_if([](const auto& w) { return w.expired(); });
    if (state.sessions.size() >= kMaxConnections) {
      socket.close(ec);
    } else {
      auto session = std::make_shared<Session>(std::move(socket), state_);
      state.sessions.push_back(session);
      session->start();
    }
    accept();
  }));
}

void HttpServer::stop() {
  beast::error_code ec;
  state_->acceptor.close(ec);
  state_->retry.cancel();
  state_->handler = nullptr;
  for (auto& w : state_->sessions)
    if (auto s = w.lock()) s->close();
  state_->sessions.clear();
}

}  // namespace autopilot::telemetry
