// stack_load: a steady HTTPS load through the reference stack's proxies
// (stack/), counting every request by outcome in 1-second buckets, for
// bench/stack_load.sh and the `stack_faults` test. wrk and h2load report
// totals only; a fault shows in the second it hurts, hence this tool.
//
//   stack_load --url https://IP:PORT [--url ...] --ca FILE [--rate R]
//              [--connections N] [--duration S] [--mix PATH=W,...]
//              [--timeout-ms T] [--sources K] [--json FILE]
//
// N keep-alive TLS connections on one Asio loop, spread over the URLs, each
// paced to R/N requests per second and bound to its own source address
// 127.k.0.1 (k = 1..K) so that nginx's ip_hash spreads the clients over the
// app instances. Each connection is one client: PATH /session is a POST that
// stores the client's sequence number (a write to Redis through the app),
// with the `sid` cookie the app gave it. Outcomes: 2xx, 3xx, 4xx, 5xx,
// connect (TCP or TLS failed, or timed out, before the request went out),
// closed (the connection ended before a response) and timeout (no response
// within T). Latency from the request's write to its response's end.
//
// As browsers, curl and Go's client do, a kept-alive connection the server
// has closed meanwhile (nginx closes its idle ones at each reload) is not
// reused: it is checked before each request. A request that then still
// meets a closed kept-alive connection before any response byte (the close
// raced the request: nginx closes idle connections at each reload) is sent
// once more on a new connection, whatever its method, as Chromium and
// Firefox do; such retries are counted ("retried"), the request by the
// retry's outcome. A failure on a new connection is never retried.
//
// At the end, each client reads its session back (retrying for up to 15 s)
// and compares its hit count with the writes acknowledged to it: a smaller
// count is acknowledged writes lost (Redis replicates asynchronously).
// The summary also counts the 2xx answers per app instance (the demo app's
// X-Instance header), so a check can tell which instances had clients.
// Prints one line per second, then a summary; --json writes both.
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <errno.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <regex>
#include <string>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using asio::awaitable;
using asio::use_awaitable;

enum Outcome { k2xx, k3xx, k4xx, k5xx, kConnect, kClosed, kTimeout, kOutcomes };
const char* const kOutcomeNames[kOutcomes] = {"2xx", "3xx", "4xx", "5xx", "connect", "closed", "timeout"};

struct Target {
  std::string host;
  unsigned short port = 0;
};

struct Options {
  std::vector<Target> targets;
  std::string ca, json;
  double rate = 200;
  int connections = 16, duration = 10, timeout_ms = 2000, sources = 40;
  std::vector<std::pair<std::string, int>> mix = {{"/", 6}, {"/static/app.css", 3}, {"/session", 1}};
};

struct Bucket {
  std::int64_t counts[kOutcomes] = {};
  std::int64_t session_failures = 0, retried = 0;
  std::vector<double> latencies_ms;  // of the requests that got a response
};

struct Stats {
  Clock::time_point start;
  std::vector<Bucket> buckets;
  Clock::time_point first_session_failure{}, last_session_failure{};
  std::int64_t session_failures = 0;
  std::map<std::string, std::int64_t> answered_by;  // the load's 2xx per app instance (X-Instance's first word)

  void record(Clock::time_point sent, Outcome o, double latency_ms, bool session, bool retried) {
    auto second = std::chrono::duration_cast<std::chrono::seconds>(sent - start).count();
    if (second < 0) second = 0;
    if (static_cast<std::size_t>(second) >= buckets.size()) buckets.resize(second + 1);
    auto& b = buckets[second];
    ++b.counts[o];
    if (retried) ++b.retried;
    if (o <= k5xx) b.latencies_ms.push_back(latency_ms);
    if (session && o != k2xx) {
      ++b.session_failures;
      if (session_failures++ == 0) first_session_failure = sent;
      last_session_failure = Clock::now();
    }
  }
};

double percentile(std::vector<double>& v, double p) {  // nearest rank; v sorted
  if (v.empty()) return 0;
  auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size()) + 0.999999);
  return v[std::min(v.size(), std::max<std::size_t>(rank, 1)) - 1];
}

Outcome outcome_of(unsigned status) {
  if (status >= 500) return k5xx;
  if (status >= 400) return k4xx;
  if (status >= 300) return k3xx;
  return k2xx;
}

// One client: a keep-alive TLS connection (re-opened after any failure),
// its source address, its session and its pace.
class Client {
 public:
  Client(asio::io_context& io, ssl::context& tls, const Options& o, Stats& stats, int index)
      : io_(io), tls_(tls), options_(o), stats_(stats), target_(o.targets[index % o.targets.size()]),
        source_(asio::ip::make_address_v4("127." + std::to_string(index % o.sources + 1) + ".0.1")),
        interval_(std::chrono::duration_cast<Clock::duration>(
            std::chrono::duration<double>(o.connections / o.rate))),
        pick_(static_cast<unsigned>(index * 7919)) {}

  // Requests until `until`; then, if it wrote sessions, reads its own back.
  awaitable<void> run(Clock::time_point until) {
    asio::steady_timer timer(io_);
    // Spread the connections' first requests over one interval.
    auto next = stats_.start + std::chrono::duration_cast<Clock::duration>(interval_ * (pick_() % 1000 / 1000.0));
    while (next < until) {
      timer.expires_at(next);
      co_await timer.async_wait(use_awaitable);
      // No temporaries or ?: inside a co_await expression: GCC 12 mishandles them in coroutines.
      std::string path = choose_path();
      bool session = path == "/session";
      http::verb verb = http::verb::get;
      std::string body;
      if (session) {
        verb = http::verb::post;
        body = std::to_string(sequence_ + 1);
      }
      auto sent = Clock::now();
      unsigned status = 0;
      Outcome o = co_await request(verb, path, body, status);
      bool retried = o == kClosed && reused_;
      if (retried) o = co_await request(verb, path, body, status);
      stats_.record(sent, o, std::chrono::duration<double, std::milli>(Clock::now() - sent).count(), session,
                    retried);
      if (o == k2xx && !last_instance_.empty()) ++stats_.answered_by[last_instance_];
      if (session && o == k2xx) {
        ++sequence_;
        ++acknowledged_;
      } else if (session) {
        ++sequence_;  // may have been applied: the next write's value is still new
      }
      next = std::max(next + interval_, Clock::now());
    }
  }

  // The session read back: {hits, value}, or hits -1 when it never answered.
  awaitable<void> verify(Clock::time_point deadline) {
    if (acknowledged_ == 0) co_return;
    asio::steady_timer timer(io_);
    while (Clock::now() < deadline) {
      unsigned status = 0;
      std::string path = "/session", body;
      Outcome o = co_await request(http::verb::get, path, body, status);
      if (o == k2xx) {
        std::smatch m;
        static const std::regex re(" hits ([0-9]+) value ([0-9]*) ");
        if (std::regex_search(last_body_, m, re)) {
          final_hits_ = std::stoll(m[1]);
          final_value_ = m[2].str().empty() ? 0 : std::stoll(m[2]);
        }
        co_return;
      }
      timer.expires_after(std::chrono::milliseconds(200));
      co_await timer.async_wait(use_awaitable);
    }
  }

  std::int64_t acknowledged() const { return acknowledged_; }
  // Hits the final read should see at least: every acknowledged INCR, plus its own.
  std::int64_t lost_writes() const {
    if (acknowledged_ == 0 || final_hits_ < 0) return 0;
    return std::max<std::int64_t>(0, acknowledged_ + 1 - final_hits_);
  }
  bool verified() const { return acknowledged_ == 0 || final_hits_ >= 0; }

 private:
  const std::string& choose_path() {
    int total = 0;
    for (auto& [p, w] : options_.mix) total += w;
    int r = static_cast<int>(pick_() % static_cast<unsigned>(total));
    for (auto& [p, w] : options_.mix) {
      if (r < w) return p;
      r -= w;
    }
    return options_.mix.front().first;
  }

  awaitable<Outcome> connect() {
    stream_ = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(io_, tls_);
    auto& tcp_stream = beast::get_lowest_layer(*stream_);
    beast::error_code ec;
    tcp_stream.socket().open(tcp::v4(), ec);
    if (!ec) tcp_stream.socket().bind(tcp::endpoint(source_, 0), ec);
    if (ec) co_return kConnect;
    ::SSL_set_tlsext_host_name(stream_->native_handle(), "localhost");
    stream_->set_verify_callback(ssl::host_name_verification("localhost"));
    tcp_stream.expires_after(std::chrono::milliseconds(options_.timeout_ms));
    tcp::endpoint to(asio::ip::make_address(target_.host), target_.port);
    co_await tcp_stream.async_connect(to, asio::redirect_error(use_awaitable, ec));
    if (ec) co_return kConnect;
    co_await stream_->async_handshake(ssl::stream_base::client, asio::redirect_error(use_awaitable, ec));
    if (ec) co_return kConnect;
    co_return k2xx;
  }

  // Has the server closed (or begun to close: a TLS alert waits) the idle
  // kept-alive connection? Then it is not to be reused.
  bool closed_by_peer() {
    char c;
    auto n = ::recv(beast::get_lowest_layer(*stream_).socket().native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
  }

  awaitable<Outcome> request(http::verb verb, std::string path, std::string body, unsigned& status) {
    if (stream_ && closed_by_peer()) {
      stream_.reset();
      buffer_.clear();
    }
    reused_ = stream_ != nullptr;
    if (!stream_) {
      Outcome connected = co_await connect();
      if (connected != k2xx) {
        stream_.reset();
        co_return kConnect;
      }
    }
    http::request<http::string_body> req{verb, path, 11};
    req.set(http::field::host, "localhost");
    if (!sid_.empty()) req.set(http::field::cookie, "sid=" + sid_);
    if (verb == http::verb::post) req.body() = body;
    req.prepare_payload();
    auto& tcp_stream = beast::get_lowest_layer(*stream_);
    tcp_stream.expires_after(std::chrono::milliseconds(options_.timeout_ms));
    beast::error_code ec;
    co_await http::async_write(*stream_, req, asio::redirect_error(use_awaitable, ec));
    http::response<http::string_body> res;
    if (!ec) co_await http::async_read(*stream_, buffer_, res, asio::redirect_error(use_awaitable, ec));
    if (ec) {
      stream_.reset();  // no graceful TLS close: the peer may be gone
      buffer_.clear();
      co_return ec == beast::error::timeout ? kTimeout : kClosed;
    }
    status = res.result_int();
    last_instance_.clear();
    if (auto it = res.find("X-Instance"); it != res.end()) {
      std::string instance(it->value());
      last_instance_ = instance.substr(0, instance.find(' '));
    }
    if (auto it = res.find(http::field::set_cookie); it != res.end() && path == "/session") {
      std::string c(it->value());
      if (c.rfind("sid=", 0) == 0) sid_ = c.substr(4, c.find(';') - 4);
    }
    last_body_ = std::move(res.body());
    if (!res.keep_alive()) {
      stream_.reset();
      buffer_.clear();
    }
    co_return outcome_of(status);
  }

  asio::io_context& io_;
  ssl::context& tls_;
  const Options& options_;
  Stats& stats_;
  Target target_;
  asio::ip::address_v4 source_;
  Clock::duration interval_;
  std::minstd_rand pick_;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> stream_;
  beast::flat_buffer buffer_;
  bool reused_ = false;  // the last request went over a kept-alive connection
  std::string sid_, last_body_;
  std::string last_instance_;  // X-Instance's first word in the last response, if any
  std::int64_t sequence_ = 0, acknowledged_ = 0, final_hits_ = -1, final_value_ = 0;
};

// A client's whole life, as one coroutine (a plain function: no lambda
// captures for the frame to outlive).
awaitable<void> drive(Client& c, Clock::time_point until) {
  co_await c.run(until);
  co_await c.verify(Clock::now() + std::chrono::seconds(15));
}

bool parse(int argc, char** argv, Options& o) {
  static const std::regex url_re(R"(https://([0-9.]+):([0-9]+)/?)");
  bool mix_given = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], v = argv[i + 1];
    std::smatch m;
    if (flag == "--url" && std::regex_match(v, m, url_re))
      o.targets.push_back({m[1], static_cast<unsigned short>(std::stoi(m[2]))});
    else if (flag == "--ca")
      o.ca = v;
    else if (flag == "--json")
      o.json = v;
    else if (flag == "--rate")
      o.rate = std::stod(v);
    else if (flag == "--connections")
      o.connections = std::stoi(v);
    else if (flag == "--duration")
      o.duration = std::stoi(v);
    else if (flag == "--timeout-ms")
      o.timeout_ms = std::stoi(v);
    else if (flag == "--sources")
      o.sources = std::stoi(v);
    else if (flag == "--mix") {
      if (!mix_given) o.mix.clear();
      mix_given = true;
      std::size_t start = 0;
      while (start <= v.size()) {
        auto end = v.find(',', start);
        std::string item = v.substr(start, end == std::string::npos ? std::string::npos : end - start);
        auto eq = item.rfind('=');
        o.mix.emplace_back(item.substr(0, eq), eq == std::string::npos ? 1 : std::stoi(item.substr(eq + 1)));
        if (end == std::string::npos) break;
        start = end + 1;
      }
    } else {
      return false;
    }
  }
  return !o.targets.empty() && !o.ca.empty() && o.rate > 0 && o.connections > 0 && o.sources > 0 &&
         o.sources < 255 && !o.mix.empty();
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (argc % 2 == 0 || !parse(argc, argv, o)) {
    std::fprintf(stderr,
                 "usage: stack_load --url https://IP:PORT [--url ...] --ca FILE [--rate R] [--connections N]\n"
                 "                  [--duration S] [--mix PATH=W,...] [--timeout-ms T] [--sources K] [--json FILE]\n");
    return 2;
  }
  asio::io_context io(1);
  ssl::context tls(ssl::context::tls_client);
  tls.load_verify_file(o.ca);
  tls.set_verify_mode(ssl::verify_peer);
  Stats stats;
  stats.start = Clock::now();
  auto until = stats.start + std::chrono::seconds(o.duration);
  std::vector<std::unique_ptr<Client>> clients;
  int running = o.connections;
  for (int i = 0; i < o.connections; ++i) {
    clients.push_back(std::make_unique<Client>(io, tls, o, stats, i));
    asio::co_spawn(io, drive(*clients.back(), until), [&running](std::exception_ptr e) {
      if (e) std::fprintf(stderr, "stack_load: a client failed\n");
      --running;
    });
  }
  io.run();

  std::int64_t totals[kOutcomes] = {}, acknowledged = 0, lost = 0, unverified = 0, retried = 0;
  std::vector<double> all;
  std::string rows;
  std::printf("%4s %6s", "sec", "reqs");
  for (auto* n : kOutcomeNames) std::printf(" %7s", n);
  std::printf(" %7s %8s %8s %8s\n", "retried", "p50ms", "p99ms", "maxms");
  std::size_t worst = 0;
  std::int64_t worst_failed = -1;
  double worst_p99 = -1;
  for (std::size_t s = 0; s < stats.buckets.size(); ++s) {
    auto& b = stats.buckets[s];
    std::sort(b.latencies_ms.begin(), b.latencies_ms.end());
    std::int64_t n = 0, failed = 0;
    for (int k = 0; k < kOutcomes; ++k) {
      n += b.counts[k];
      totals[k] += b.counts[k];
      if (k != k2xx && k != k3xx) failed += b.counts[k];
    }
    double p50 = percentile(b.latencies_ms, 50), p99 = percentile(b.latencies_ms, 99),
           mx = b.latencies_ms.empty() ? 0 : b.latencies_ms.back();
    if (failed > worst_failed || (failed == worst_failed && p99 > worst_p99)) {
      worst = s;
      worst_failed = failed;
      worst_p99 = p99;
    }
    all.insert(all.end(), b.latencies_ms.begin(), b.latencies_ms.end());
    std::printf("%4zu %6lld", s, static_cast<long long>(n));
    rows += (s ? "," : "") + std::string("{\"second\":") + std::to_string(s) + ",\"requests\":" + std::to_string(n);
    for (int k = 0; k < kOutcomes; ++k) {
      std::printf(" %7lld", static_cast<long long>(b.counts[k]));
      rows += ",\"" + std::string(kOutcomeNames[k]) + "\":" + std::to_string(b.counts[k]);
    }
    retried += b.retried;
    std::printf(" %7lld %8.1f %8.1f %8.1f\n", static_cast<long long>(b.retried), p50, p99, mx);
    char lat[160];
    std::snprintf(lat, sizeof lat, ",\"retried\":%lld,\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"max_ms\":%.2f}",
                  static_cast<long long>(b.retried), p50, p99, mx);
    rows += lat;
  }
  for (auto& c : clients) {
    acknowledged += c->acknowledged();
    lost += c->lost_writes();
    if (!c->verified()) ++unverified;
  }
  std::sort(all.begin(), all.end());
  std::int64_t total = 0, failed = 0;
  for (int k = 0; k < kOutcomes; ++k) {
    total += totals[k];
    if (k != k2xx && k != k3xx) failed += totals[k];
  }
  double window_ms =
      stats.session_failures
          ? std::chrono::duration<double, std::milli>(stats.last_session_failure - stats.first_session_failure).count()
          : 0;
  char summary[1024];
  std::snprintf(summary, sizeof summary,
                "\"requests\":%lld,\"rate\":%.1f,\"failed\":%lld,\"2xx\":%lld,\"3xx\":%lld,\"4xx\":%lld,\"5xx\":%lld,"
                "\"connect\":%lld,\"closed\":%lld,\"timeout\":%lld,\"retried\":%lld,\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"max_ms\":%.2f,"
                "\"worst_second\":%zu,\"worst_failed\":%lld,\"worst_p99_ms\":%.2f,\"session_failures\":%lld,"
                "\"session_failure_window_ms\":%.0f,\"sessions_acknowledged\":%lld,\"sessions_lost\":%lld,"
                "\"sessions_unverified\":%lld",
                static_cast<long long>(total), static_cast<double>(total) / o.duration, static_cast<long long>(failed),
                static_cast<long long>(totals[k2xx]), static_cast<long long>(totals[k3xx]),
                static_cast<long long>(totals[k4xx]), static_cast<long long>(totals[k5xx]),
                static_cast<long long>(totals[kConnect]), static_cast<long long>(totals[kClosed]),
                static_cast<long long>(totals[kTimeout]), static_cast<long long>(retried), percentile(all, 50), percentile(all, 99),
                all.empty() ? 0 : all.back(), worst, static_cast<long long>(worst_failed), worst_p99,
                static_cast<long long>(stats.session_failures), window_ms, static_cast<long long>(acknowledged),
                static_cast<long long>(lost), static_cast<long long>(unverified));
  std::string answered = ",\"answered_by\":{";
  for (auto& [instance, n] : stats.answered_by)
    answered += (answered.back() == '{' ? "\"" : ",\"") + instance + "\":" + std::to_string(n);
  answered += "}";
  std::printf("summary {%s%s}\n", summary, answered.c_str());
  if (!o.json.empty()) std::ofstream(o.json) << "{" << summary << answered << ",\"seconds\":[" << rows << "]}\n";
  return running == 0 ? 0 : 1;
}
