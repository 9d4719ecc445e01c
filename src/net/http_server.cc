#include "net/http_server.h"
#include "net/tcp_listen.h"

#include <sys/stat.h>

#include <cerrno>
#include <list>
#include <optional>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "net/socket_path.h"
#include "os/files.h"

namespace autopilot::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using local = asio::local::stream_protocol;

namespace {

// What the server keeps of a session: enough to close it.
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void close() = 0;
};

}  // namespace

// Shared by the server and its sessions, so a session finishing after the
// server is gone finds no handler rather than a dangling one.
struct HttpServer::State {
  State(asio::io_context& loop, Handler h, HttpLimits l)
      : tcp_acceptor(loop), unix_acceptor(loop), retry(loop), handler(std::move(h)), limits(l) {}
  tcp::acceptor tcp_acceptor;
  local::acceptor unix_acceptor;
  std::optional<SocketFile> socket_file;  // the unix socket's file, removed on stop
  asio::steady_timer retry;               // armed only after a failed accept
  Handler handler;
  HttpLimits limits;
  std::list<std::weak_ptr<SessionBase>> sessions;
};

template <class Protocol>
class HttpServer::Session : public SessionBase, public std::enable_shared_from_this<Session<Protocol>> {
 public:
  Session(typename Protocol::socket socket, std::shared_ptr<State> state)
      : stream_(std::move(socket)),
        buffer_(state->limits.header_bytes + state->limits.body_bytes),
        state_(std::move(state)) {}

  void start() { read(); }
  void close() override {
    beast::error_code ignored;
    stream_.socket().shutdown(Protocol::socket::shutdown_both, ignored);
    stream_.close();
  }

 private:
  void read() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(state_->limits.header_bytes));
    parser_->body_limit(state_->limits.body_bytes);
    stream_.expires_after(state_->limits.idle_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::header_limit) return reply_and_close(431, "request header too large\n");
    if (ec == http::error::body_limit || ec == http::error::buffer_overflow)
      return reply_and_close(413, "request too large\n");
    if (ec) return close();
    if (!state_->handler) return close();
    auto& req = parser_->get();
    HttpRequest request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    request.path = request.target.substr(0, request.target.find('?'));
    request.accept = std::string(req[http::field::accept]);
    request.body = std::move(req.body());
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
    http::async_write(stream_, response_,
                      [self = this->shared_from_this(), keep_alive](beast::error_code ec, size_t) {
                        if (ec || !keep_alive) return self->close();
                        self->read();
                      });
  }

  beast::basic_stream<Protocol> stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  std::shared_ptr<State> state_;
};

HttpServer::HttpServer(asio::io_context& loop, Handler handler, HttpLimits limits)
    : loop_(loop), state_(std::make_shared<State>(loop, std::move(handler), limits)) {}

HttpServer::~HttpServer() { stop(); }

const HttpLimits& HttpServer::limits() const { return state_->limits; }

Result<void> HttpServer::listen(const std::string& address, int port) {
  auto& a = state_->tcp_acceptor;
  if (auto r = listen_tcp(a, address, port); !r) return r;
  accept(a);
  return {};
}

Result<void> HttpServer::listen_unix(const std::string& path) {
  if (auto free = free_socket_path(path); !free) return make_error("listening on " + path + ": " + free.error().message);
  auto& a = state_->unix_acceptor;
  beast::error_code ec;
  local::endpoint endpoint(path);
  if (a.open(endpoint.protocol(), ec) || a.bind(endpoint, ec)) {
    beast::error_code ignored;
    a.close(ignored);
    return make_error("listening on " + path + ": " + ec.message());
  }
  auto fail = [this](Error e) {
    stop();  // closes, and removes the file once it is recorded as ours
    return Result<void>(std::move(e));
  };
  auto file = socket_file(path);
  if (!file) return fail(file.error());
  state_->socket_file = *file;
  // Between bind and listen nobody can connect, so the mode is in place
  // before the first client could be let in.
  if (::chmod(path.c_str(), 0600) != 0) return fail(os::sys_error("chmod", path, errno));
  if (a.listen(asio::socket_base::max_listen_connections, ec))
    return fail(make_error("listening on " + path + ": " + ec.message()));
  accept(a);
  return {};
}

int HttpServer::port() const {
  beast::error_code ec;
  if (!state_->tcp_acceptor.is_open()) return 0;
  auto endpoint = state_->tcp_acceptor.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

template <class Acceptor>
void HttpServer::accept(Acceptor& acceptor) {
  using Protocol = typename Acceptor::protocol_type;
  acceptor.async_accept(lifetime_.bind([this, &acceptor](beast::error_code ec, typename Protocol::socket socket) {
    State& state = *state_;
    if (!acceptor.is_open()) return;  // stopped
    if (ec) {
      // Out of descriptors (EMFILE) and the like: accepting again at once
      // would fail at once, so try again a little later.
      state.retry.expires_after(std::chrono::milliseconds(100));
      state.retry.async_wait(lifetime_.bind([this, &acceptor](beast::error_code wait_ec) {
        if (!wait_ec && acceptor.is_open()) accept(acceptor);
      }));
      return;
    }
    state.sessions.remove_if([](const auto& w) { return w.expired(); });
    if (state.sessions.size() >= state.limits.connections) {
      socket.close(ec);
    } else {
      auto session = std::make_shared<Session<Protocol>>(std::move(socket), state_);
      state.sessions.push_back(session);
      session->start();
    }
    accept(acceptor);
  }));
}

void HttpServer::stop() {
  beast::error_code ec;
  state_->tcp_acceptor.close(ec);
  state_->unix_acceptor.close(ec);
  if (state_->socket_file) remove_socket_file(*state_->socket_file);
  state_->socket_file.reset();
  state_->retry.cancel();
  state_->handler = nullptr;
  for (auto& w : state_->sessions)
    if (auto s = w.lock()) s->close();
  state_->sessions.clear();
}

}  // namespace autopilot::net
