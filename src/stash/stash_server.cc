#include "stash/stash_server.h"

#include <optional>
#include <unordered_set>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "net/tcp_listen.h"

namespace autopilot::stash {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// What every session can close on stop().
struct Closable {
  virtual ~Closable() = default;
  virtual void close() = 0;
};

struct StashServer::State {
  State(asio::io_context& loop, Handler h, ServerLimits l)
      : loop(loop), acceptor(loop), retry(loop), handler(std::move(h)), limits(l) {}
  asio::io_context& loop;
  tcp::acceptor acceptor;
  asio::steady_timer retry;  // armed only after a failed accept
  Handler handler;
  ServerLimits limits;
  std::optional<asio::ssl::context> tls;
  std::unordered_set<Closable*> sessions;  // each removes itself when destroyed
};

template <class Stream>
class StashServer::Session : public Closable, public std::enable_shared_from_this<Session<Stream>> {
 public:
  template <class... Args>
  Session(std::shared_ptr<State> state, Args&&... args)
      : stream_(std::forward<Args>(args)...), state_(std::move(state)) {
    state_->sessions.insert(this);
  }
  ~Session() override { state_->sessions.erase(this); }

  void start() {
    if constexpr (kIsTls) {
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
    lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    lowest().close();
  }

 private:
  static constexpr bool kIsTls = !std::is_same_v<Stream, beast::tcp_stream>;

  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  void read() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(state_->limits.header_limit));
    parser_->body_limit(state_->limits.body_limit);
    lowest().expires_after(state_->limits.read_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::header_limit) return send(StashResponse::text(431, "request header too large\n"), false, false);
    if (ec == http::error::body_limit || ec == http::error::buffer_overflow)
      return send(StashResponse::text(413, "request too large\n"), false, false);
    if (ec || !state_->handler) return close();
    lowest().expires_never();  // the handler's own work is bounded by the handler
    const auto& req = parser_->get();
    bool keep_alive = req.keep_alive();
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
      auto r = StashResponse::text(405, "method not allowed\n");
      r.headers.emplace_back("Allow", "GET, HEAD");
      return send(std::move(r), keep_alive, false);
    }
    StashRequest request;
    request.is_head = req.method() == http::verb::head;
    request.target = std::string(req.target());
    if (auto it = req.find(http::field::authorization); it != req.end()) request.authorization = std::string(it->value());
    if (auto it = req.find(http::field::if_none_match); it != req.end()) request.if_none_match = std::string(it->value());
    bool is_head = request.is_head;
    state_->handler(request, [self = this->shared_from_this(), keep_alive, is_head](StashResponse r) {
      self->send(std::move(r), keep_alive, is_head);
    });
  }

  void send(StashResponse r, bool keep_alive, bool is_head) {
    response_ = {};
    response_.version(11);
    response_.result(static_cast<unsigned>(r.status));
    if (!r.etag.empty()) response_.set(http::field::etag, r.etag);
    for (const auto& [k, v] : r.headers) response_.set(k, v);
    response_.keep_alive(keep_alive);
    if (r.status != 304) {
      response_.set(http::field::content_type, r.content_type);
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
    if constexpr (kIsTls) {
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

StashServer::StashServer(asio::io_context& loop, Handler handler, ServerLimits limits)
    : state_(std::make_shared<State>(loop, std::move(handler), limits)) {}

StashServer::~StashServer() { stop(); }

Result<void> StashServer::use_tls(const TlsConfig& tls) {
  try {
    asio::ssl::context ctx(asio::ssl::context::tls_server);
    ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                    asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
    ctx.use_certificate_chain(asio::buffer(tls.cert_pem));
    ctx.use_private_key(asio::buffer(tls.key_pem), asio::ssl::context::pem);
    state_->tls.emplace(std::move(ctx));
  } catch (const boost::system::system_error& e) {
    // OpenSSL's reason only; never the PEM text.
    return make_error("tls: the certificate or key was refused: " + e.code().message());
  }
  return {};
}

Result<void> StashServer::listen(const std::string& address, int port) {
  auto& a = state_->acceptor;
  if (auto r = net::listen_tcp(a, address, port); !r) return r;
  accept();
  return {};
}

int StashServer::port() const {
  beast::error_code ec;
  auto endpoint = state_->acceptor.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

size_t StashServer::connections() const { return state_->sessions.size(); }

void StashServer::accept() {
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
    if (state.sessions.size() >= state.limits.max_connections) {
      socket.close(ec);
    } else {
      socket.set_option(tcp::no_delay(true), ec);
      if (state.tls) {
        using TlsStream = beast::ssl_stream<beast::tcp_stream>;
        std::make_shared<Session<TlsStream>>(state_, std::move(socket), *state.tls)->start();
      } else {
        std::make_shared<Session<beast::tcp_stream>>(state_, std::move(socket))->start();
      }
    }
    accept();
  }));
}

void StashServer::stop() {
  beast::error_code ec;
  state_->acceptor.close(ec);
  state_->retry.cancel();
  state_->handler = nullptr;
  // Closing cancels their operations; each is destroyed when its last handler ran.
  auto sessions = state_->sessions;
  for (auto* s : sessions) s->close();
}

}  // namespace autopilot::stash
