// autopilot-demo-app: the app tier of the reference stack (stack/), a small
// web app on one Asio event loop (Boost.Beast):
//
//   GET /             which instance answered (X-Instance header and body)
//   GET /static/NAME  a file of --static DIR, with cache headers for the proxies
//   /ws               WebSocket echo; every message also INCRs ws:messages in Redis
//   /session          a per-client value in Redis, the client named by a `sid`
//                     cookie (set on first visit): GET increments and reads
//                     its hit count, POST stores the body as its value
//   GET /health       200 to callers in 127.0.0.0/8, 403 to anyone else
//
// Usage: autopilot-demo-app --name NAME --listen IP:PORT [--config FILE]
//                           [--static DIR] [--pid-file FILE]
// Redis endpoints come from --config (re-read on SIGHUP), else REDIS_ADDR.
// SIGTERM/SIGINT: stop accepting, finish for up to 500 ms, exit 0. Dies with
// its parent (PR_SET_PDEATHSIG): a killed autopilot leaves no app behind.
#include <sys/prctl.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>

#include "app_config.h"
#include "redis_client.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

void log_line(const std::string& name, const std::string& msg) { std::cout << name << ": " << msg << std::endl; }

struct Options {
  std::string name = "app", listen = "127.0.0.1:8000", config, static_dir, pid_file;
};

// What every connection shares; lives in main for the whole run.
struct AppState {
  Options options;
  stack::RedisClient* redis = nullptr;
  std::map<std::string, std::string> static_files;  // name -> content, read at start
  std::mt19937_64 random{std::random_device{}()};
  std::uint64_t requests = 0;

  std::string instance() const { return options.name + " (" + options.listen + ")"; }
};

bool is_local(const tcp::endpoint& peer) {
  auto a = peer.address();
  if (a.is_v4()) return (a.to_v4().to_uint() >> 24) == 127;
  return a.is_loopback() || (a.is_v6() && a.to_v6().is_v4_mapped() && (a.to_v6().to_v4().to_uint() >> 24) == 127);
}

std::string cookie_value(const Request& req, const std::string& name) {
  auto it = req.find(http::field::cookie);
  if (it == req.end()) return "";
  std::string cookies(it->value());
  std::istringstream in(cookies);
  std::string part;
  while (std::getline(in, part, ';')) {
    auto start = part.find_first_not_of(' ');
    if (start == std::string::npos) continue;
    part = part.substr(start);
    if (part.rfind(name + "=", 0) == 0) return part.substr(name.size() + 1);
  }
  return "";
}

bool is_valid_sid(const std::string& sid) {
  if (sid.empty() || sid.size() > 64) return false;
  for (char c : sid)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

std::string content_type(const std::string& name) {
  auto dot = name.rfind('.');
  std::string ext = dot == std::string::npos ? "" : name.substr(dot + 1);
  if (ext == "css") return "text/css";
  if (ext == "js") return "application/javascript";
  if (ext == "html") return "text/html";
  return "text/plain";
}

// One WebSocket connection: echoes every message; counts it in Redis.
class WsSession : public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(tcp::socket socket, AppState& app) : ws_(std::move(socket)), app_(app) {}

  void start(Request req) {
    ws_.set_option(websocket::stream_base::decorator(
        [name = app_.instance()](websocket::response_type& res) { res.set("X-Instance", name); }));
    ws_.async_accept(req, [self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->read();
    });
  }

 private:
  void read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return;
      self->app_.redis->command({"INCR", "ws:messages"}, [](const std::string&, const stack::resp::Value&) {});
      self->ws_.text(self->ws_.got_text());
      self->ws_.async_write(self->buffer_.data(), [self](beast::error_code ec2, std::size_t) {
        if (ec2) return;
        self->buffer_.consume(self->buffer_.size());
        self->read();
      });
    });
  }

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  AppState& app_;
};

// One HTTP connection (keep-alive): reads requests, answers them in order.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket socket, AppState& app) : stream_(std::move(socket)), app_(app) {}

  void start() { read(); }

 private:
  void read() {
    req_ = {};
    stream_.expires_after(std::chrono::seconds(60));
    http::async_read(stream_, buffer_, req_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->close();
      self->handle();
    });
  }

  void handle() {
    ++app_.requests;
    if (websocket::is_upgrade(req_)) {
      if (req_.target() != "/ws") return send(simple(http::status::not_found, "no websocket here\n"));
      stream_.expires_never();
      std::make_shared<WsSession>(stream_.release_socket(), app_)->start(std::move(req_));
      return;
    }
    std::string target(req_.target());
    std::string path = target.substr(0, target.find('?'));
    if (path == "/health") return health();
    if (path == "/") return send(hello());
    if (path == "/session") return session();
    if (path == "/count") return count();
    if (path.rfind("/static/", 0) == 0) return send(static_file(path.substr(8)));
    send(simple(http::status::not_found, "not found\n"));
  }

  Response simple(http::status status, std::string body) {
    Response res{status, req_.version()};
    res.set(http::field::content_type, "text/plain");
    res.set("X-Instance", app_.instance());
    res.body() = std::move(body);
    return res;
  }

  void health() {
    beast::error_code ec;
    auto peer = stream_.socket().remote_endpoint(ec);
    if (ec || !is_local(peer)) return send(simple(http::status::forbidden, "local callers only\n"));
    send(simple(http::status::ok, "ok\n"));
  }

  Response hello() {
    auto proto = req_["X-Forwarded-Proto"];
    std::string via = proto.empty() ? "direct" : std::string(proto);
    return simple(http::status::ok, "hello from " + app_.instance() + " via " + via + "\n");
  }

  Response static_file(const std::string& name) {
    auto it = app_.static_files.find(name);
    if (it == app_.static_files.end()) return simple(http::status::not_found, "no such file\n");
    auto res = simple(http::status::ok, it->second);
    res.set(http::field::content_type, content_type(name));
    res.set(http::field::cache_control, "public, max-age=300");
    res.set(http::field::etag, "\"" + std::to_string(std::hash<std::string>{}(it->second)) + "\"");
    return res;
  }

  // GET: INCR the client's hit count and read its value; POST: store the body
  // as its value first. A new client gets a `sid` cookie.
  void session() {
    std::string sid = cookie_value(req_, "sid");
    bool is_new = !is_valid_sid(sid);
    if (is_new) {
      char buf[17];
      std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(app_.random()));
      sid = buf;
    }
    auto self = shared_from_this();
    auto reply = [self, sid, is_new](const std::string& err, const stack::resp::Value& hits) {
      if (!err.empty()) return self->send(self->simple(http::status::service_unavailable, "redis: " + err + "\n"));
      self->app_.redis->command(
          {"GET", "session:" + sid + ":value"},
          [self, sid, is_new, n = hits.integer](const std::string& err2, const stack::resp::Value& value) {
            if (!err2.empty())
              return self->send(self->simple(http::status::service_unavailable, "redis: " + err2 + "\n"));
            auto res = self->simple(http::status::ok, "session " + sid + " hits " + std::to_string(n) + " value " +
                                                          value.text + " master " + self->app_.redis->master() + "\n");
            if (is_new) res.set(http::field::set_cookie, "sid=" + sid + "; Path=/; HttpOnly");
            self->send(std::move(res));
          });
    };
    auto incr = [self, sid, reply] { self->app_.redis->command({"INCR", "session:" + sid + ":hits"}, reply); };
    if (req_.method() == http::verb::post) {
      app_.redis->command({"SET", "session:" + sid + ":value", req_.body()},
                          [self, incr, reply](const std::string& err, const stack::resp::Value& v) {
                            if (!err.empty()) return reply(err, v);
                            incr();
                          });
    } else {
      incr();
    }
  }

  void count() {
    app_.redis->command(
        {"GET", "ws:messages"}, [self = shared_from_this()](const std::string& err, const stack::resp::Value& v) {
          if (!err.empty()) return self->send(self->simple(http::status::service_unavailable, "redis: " + err + "\n"));
          self->send(self->simple(http::status::ok, "ws:messages " + (v.text.empty() ? "0" : v.text) + "\n"));
        });
  }

  void send(Response res) {
    res.keep_alive(req_.keep_alive());
    res.prepare_payload();
    res_ = std::make_shared<Response>(std::move(res));
    http::async_write(stream_, *res_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec || !self->res_->keep_alive()) return self->close();
      self->read();
    });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  Request req_;
  std::shared_ptr<Response> res_;
  AppState& app_;
};

class Listener {
 public:
  Listener(asio::io_context& io, tcp::endpoint at, AppState& app) : acceptor_(io, at), app_(app) {}
  void accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) std::make_shared<HttpSession>(std::move(socket), app_)->start();
      accept();
    });
  }
  void close() {
    beast::error_code ec;
    acceptor_.close(ec);
  }

 private:
  tcp::acceptor acceptor_;
  AppState& app_;
};

bool parse_options(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) return false;
    std::string value = argv[++i];
    if (flag == "--name")
      o.name = value;
    else if (flag == "--listen")
      o.listen = value;
    else if (flag == "--config")
      o.config = value;
    else if (flag == "--static")
      o.static_dir = value;
    else if (flag == "--pid-file")
      o.pid_file = value;
    else
      return false;
  }
  return true;
}

std::string slurp(const std::string& path, bool& ok) {
  std::ifstream in(path, std::ios::binary);
  ok = static_cast<bool>(in);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The Redis endpoints: the config file when given and readable, else REDIS_ADDR.
std::vector<stack::Endpoint> read_endpoints(const Options& o) {
  if (!o.config.empty()) {
    bool ok = false;
    auto text = slurp(o.config, ok);
    if (ok) return stack::parse_endpoints_file(text);
  }
  const char* env = std::getenv("REDIS_ADDR");
  return env ? stack::parse_endpoints_list(env) : std::vector<stack::Endpoint>{};
}

}  // namespace

int main(int argc, char** argv) {
  AppState app;
  if (!parse_options(argc, argv, app.options)) {
    std::fprintf(stderr,
                 "usage: autopilot-demo-app --name NAME --listen IP:PORT [--config FILE] [--static DIR] "
                 "[--pid-file FILE]\n");
    return 2;
  }
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  const auto& o = app.options;
  auto colon = o.listen.rfind(':');
  beast::error_code ec;
  auto address = asio::ip::make_address(o.listen.substr(0, colon), ec);
  if (colon == std::string::npos || ec) {
    std::fprintf(stderr, "autopilot-demo-app: bad --listen %s\n", o.listen.c_str());
    return 2;
  }
  auto port = static_cast<unsigned short>(std::atoi(o.listen.c_str() + colon + 1));
  for (const char* name : {"app.css"}) {
    bool ok = false;
    auto text = o.static_dir.empty() ? std::string() : slurp(o.static_dir + "/" + name, ok);
    app.static_files[name] = ok ? text : std::string("/* static file ") + name + " */\n";
  }

  asio::io_context io(1);
  auto log = [&](const std::string& msg) { log_line(o.name, msg); };
  stack::RedisClient redis(io, log);
  app.redis = &redis;
  std::unique_ptr<Listener> listener;
  try {
    listener = std::make_unique<Listener>(io, tcp::endpoint(address, port), app);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "autopilot-demo-app: listen on %s: %s\n", o.listen.c_str(), e.what());
    return 1;
  }
  listener->accept();
  redis.set_endpoints(read_endpoints(o));
  if (!o.pid_file.empty()) std::ofstream(o.pid_file) << ::getpid() << "\n";
  log("listening on " + o.listen + " pid " + std::to_string(::getpid()));

  // Signals arrive as loop events (no work in a handler).
  asio::signal_set stop_signals(io, SIGTERM, SIGINT);
  asio::signal_set hup(io, SIGHUP);
  asio::steady_timer grace(io);
  std::function<void()> wait_hup = [&] {
    hup.async_wait([&](beast::error_code e, int) {
      if (e) return;
      log("SIGHUP: re-reading the Redis endpoints");
      redis.set_endpoints(read_endpoints(o));
      wait_hup();
    });
  };
  wait_hup();
  stop_signals.async_wait([&](beast::error_code e, int sig) {
    if (e) return;
    log(std::string("got ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + ", stopping");
    listener->close();
    hup.cancel();
    grace.expires_after(std::chrono::milliseconds(500));
    grace.async_wait([&](beast::error_code) {
      redis.close();
      io.stop();
    });
  });
  io.run();
  if (!o.pid_file.empty()) ::unlink(o.pid_file.c_str());
  log("stopped after " + std::to_string(app.requests) + " requests");
  return 0;
}
