#include "net/http_server.h"
#include "net/tcp_listen.h"

#include <sys/stat.h>

#include <cerrno>
#include <optional>
#include <type_traits>
#include <unordered_set>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

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

template <class Stream>
constexpr bool kIsTls = false;
template <class Next>
constexpr bool kIsTls<beast::ssl_stream<Next>> = true;

}  // namespace

// Shared by the server and its sessions, so a session finishing after the
// server is gone finds no handler rather than a dangling one.
struct HttpServer::State {
  State(asio::io_context& loop, AsyncHandler h, HttpLimits l)
      : tcp_acceptor(loop), unix_acceptor(loop), retry(loop), handler(std::move(h)), limits(l) {}
  tcp::acceptor tcp_acceptor;
  local::acceptor unix_acceptor;
  std::optional<SocketFile> socket_file;  // the unix socket's file, removed on stop
  asio::steady_timer retry;               // armed only after a failed accept
  AsyncHandler handler;
  HttpLimits limits;
  std::shared_ptr<asio::ssl::context> tls;      // set: listen()'s connections are HTTPS
  std::unordered_set<SessionBase*> sessions;  // each removes itself when destroyed
};

// One connection: plain TCP, a unix socket, or TLS over TCP.
template <class Stream>
class HttpServer::Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  template <class... Args>
  explicit Session(std::shared_ptr<State> state, Args&&... args)
      : stream_(std::forward<Args>(args)...),
        buffer_(state->limits.header_bytes + state->limits.body_bytes),
        state_(std::move(state)) {
    state_->sessions.insert(this);
  }
  ~Session() override { state_->sessions.erase(this); }

  void start() {
    if constexpr (kIsTls<Stream>) {
      lowest().expires_after(state_->limits.handshake_timeout);
      stream_.async_handshake(asio::ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
        if (ec) return self->close();
        self->read();
      });
    } else {
      read();
    }
  }

  void close() override {
    beast::error_code ignored;
    lowest().socket().shutdown(asio::socket_base::shutdown_both, ignored);
    lowest().close();
  }

 private:
  auto& lowest() { return beast::get_lowest_layer(stream_); }

  void read() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(state_->limits.header_bytes));
    parser_->body_limit(state_->limits.body_bytes);
    lowest().expires_after(state_->limits.read_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::header_limit) return send(HttpResponse::text(431, "request header too large\n"), false, false);
    if (ec == http::error::body_limit || ec == http::error::buffer_overflow)
      return send(HttpResponse::text(413, "request too large\n"), false, false);
    if (ec || !state_->handler) return close();
    lowest().expires_never();  // the handler's own work is bounded by the handler
    auto& req = parser_->get();
    HttpRequest request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    request.path = request.target.substr(0, request.target.find('?'));
    request.accept = std::string(req[http::field::accept]);
    request.authorization = std::string(req[http::field::authorization]);
    request.if_none_match = std::string(req[http::field::if_none_match]);
    request.body = std::move(req.body());
    bool keep_alive = req.keep_alive();
    bool is_head = req.method() == http::verb::head;
    state_->handler(request, [self = this->shared_from_this(), keep_alive, is_head](HttpResponse r) {
      self->send(std::move(r), keep_alive, is_head);
    });
  }

  void send(HttpResponse r, bool keep_alive, bool is_head) {
    response_ = {};
    response_.version(11);
    response_.result(static_cast<unsigned>(r.status));
    if (r.status != 304) response_.set(http::field::content_type, r.content_type);
    for (const auto& [k, v] : r.headers) response_.set(k, v);
    response_.keep_alive(keep_alive);
    if (r.status != 304) {
      response_.content_length(r.body.size());
      if (!is_head) response_.body() = std::move(r.body);
    }
    lowest().expires_after(state_->limits.write_timeout);
    http::async_write(stream_, response_, [self = this->shared_from_this(), keep_alive](beast::error_code ec, size_t) {
      if (ec || !keep_alive) return self->finish();
      self->read();
    });
  }

  void finish() {
    if constexpr (kIsTls<Stream>) {
      // A close_notify, bounded: a peer that never answers it is cut off.
      lowest().expires_after(state_->limits.handshake_timeout);
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) { self->close(); });
    } else {
      close();
    }
  }

  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  std::shared_ptr<State> state_;
};

HttpServer::HttpServer(asio::io_context& loop, Handler handler, HttpLimits limits)
    : HttpServer(loop,
                 AsyncHandler([handler = std::move(handler)](const HttpRequest& r, Reply reply) { reply(handler(r)); }),
                 limits) {}

HttpServer::HttpServer(asio::io_context& loop, AsyncHandler handler, HttpLimits limits)
    : state_(std::make_shared<State>(loop, std::move(handler), limits)) {}

HttpServer::~HttpServer() { stop(); }

const HttpLimits& HttpServer::limits() const { return state_->limits; }

size_t HttpServer::connections() const { return state_->sessions.size(); }

Result<void> HttpServer::use_tls(std::string_view cert_pem, std::string_view key_pem) {
  try {
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
    ctx->use_certificate_chain(asio::buffer(cert_pem.data(), cert_pem.size()));
    ctx->use_private_key(asio::buffer(key_pem.data(), key_pem.size()), asio::ssl::context::pem);
    use_tls(std::move(ctx));
  } catch (const boost::system::system_error& e) {
    // OpenSSL's reason only; never the PEM text.
    return make_error("tls: the certificate or key was refused: " + e.code().message());
  }
  return {};
}

void HttpServer::use_tls(std::shared_ptr<asio::ssl::context> context) { state_->tls = std::move(context); }

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
    using Plain = beast::basic_stream<Protocol>;
    if (state.sessions.size() >= state.limits.connections) {
      socket.close(ec);
    } else if constexpr (std::is_same_v<Protocol, tcp>) {
      socket.set_option(tcp::no_delay(true), ec);
      if (state.tls)
        std::make_shared<Session<beast::ssl_stream<Plain>>>(state_, std::move(socket), *state.tls)->start();
      else
        std::make_shared<Session<Plain>>(state_, std::move(socket))->start();
    } else {
      std::make_shared<Session<Plain>>(state_, std::move(socket))->start();
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
  // Closing cancels their operations; each is destroyed when its last handler ran.
  auto sessions = state_->sessions;
  for (auto* s : sessions) s->close();
}

}  // namespace autopilot::net
