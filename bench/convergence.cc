// convergence: end-to-end time from a health change in the embedded catalog
// to a real nginx serving the new upstream set, through autopilot's template
// renderer (check `nginx -t`, swap, `nginx -s reload`). Run by
// bench/convergence.sh, which starts autopilot (and through it nginx) first.
//
//   convergence --catalog DIR --port P --conf CONF --prefix PREFIX
//               [--nginx /usr/sbin/nginx] [--instances 8] [--changes 200]
//               [--gap-ms 200] [--floor-runs 50] [--start-timeout-s 30]
//               [--ready-file F]   (created once the instances are registered)
//               [--trace F]   (per measured change: "REALTIME_NS_BEFORE_WRITE CONVERGENCE_MS",
//                              for matching autopilot's log lines)
//
// The nginx.conf autopilot renders (bench/convergence_nginx.ctmpl) answers
// GET /upstreams itself with 200 and `X-Upstreams: ADDR:PORT,...` (the
// healthy instances of "app" in the template's order, "none" when empty),
// so polling needs no backend.
//
// This process is the catalog writer (the library's EmbeddedCatalog, as an
// autopilot's health check would write): it registers --instances instances
// of "app", waits until nginx serves all of them, then makes --changes
// changes, alternately setting one instance critical (health failure) and
// passing again (recovery), each --gap-ms after the previous one converged.
// For each change it takes CLOCK_MONOTONIC right before the catalog call and
// polls nginx over HTTP (a new connection per request, every ~1 ms, 5 s at
// most) until the header shows the new set; then, through the gap, goes on
// polling to see until when nginx's old workers still answer with the old set.
//
// The physical floor, in the same run:
//  (a) catalog event latency: a forked child holds a plain
//      Catalog::watch_service on "app" (healthy only, exactly the watch the
//      renderer holds) and reports the CLOCK_MONOTONIC of every update; each
//      change's event is matched by its set.
//  (b) `nginx -t -c CONF -p PREFIX` wall time on the rendered conf
//      (posix_spawn to exit), --floor-runs times.
//  (c) reload until the new config serves: CONF rewritten with a changed
//      X-Upstreams value as autopilot writes it (temp file, fsync, rename,
//      fsync of the directory), `nginx -s reload -c CONF -p PREFIX`, poll
//      until the new value is served; --floor-runs times. Then the rendered
//      conf is put back and reloaded.
// Prints p50/p99/max of each, and convergence / (a + b + c).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "bench_support.h"
#include "discovery/embedded/embedded_catalog.h"
#include "log/log.h"
#include "os/linux/asio_timers.h"
#include "os/linux/linux_files.h"

extern char** environ;

namespace {

using namespace autopilot;
using namespace std::chrono_literals;
using discovery::Instance;
using discovery::Status;
using namespace autopilot::bench;

constexpr const char* kService = "app";
constexpr std::int64_t kMs = 1'000'000;

void sleep_until_ns(std::int64_t t) {
  timespec ts{static_cast<time_t>(t / 1'000'000'000), static_cast<long>(t % 1'000'000'000)};
  while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

// "ADDR:PORT,..." as the template renders it; "none" when empty.
std::string set_of(const std::vector<Instance>& instances) {
  std::string s;
  for (const auto& i : instances) s += (s.empty() ? "" : ",") + i.address + ":" + std::to_string(i.port);
  return s.empty() ? "none" : s;
}

// --- (a) the plain watch, in a child process ---------------------------------

// One line per update: "<monotonic ns> <set>".
void run_watcher(const std::string& dir, int out_fd) {
  boost::asio::io_context io;
  os::AsioTimers timers(io);
  os::LinuxFiles files(io);
  log::Log log(log::LogConfig{log::Level::kWarn});
  auto catalog = open_catalog(dir, io, timers, files, log);
  auto handle = catalog->watch_service(kService, true, 0, [&](Result<discovery::WatchUpdate> u) {
    std::int64_t now = mono_ns();
    if (!u) die("watcher: " + u.error().message);
    // Sorted by id, as the template's (node, id) order with one node.
    std::string line = std::to_string(now) + " " + set_of(u->instances) + "\n";
    if (::write(out_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) die("pipe write failed");
  });
  boost::asio::signal_set stop(io, SIGTERM);
  stop.async_wait([&](const boost::system::error_code&, int) { io.stop(); });
  io.run_for(15min);  // the parent's SIGTERM ends it; PDEATHSIG if it dies
  handle.cancel();
}

// --- HTTP polling --------------------------------------------------------------

// GET /upstreams on a new connection; the X-Upstreams value, or nullopt when
// nginx did not answer (within 1 s) or sent no such header.
std::optional<std::string> fetch_upstreams(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket failed");
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return std::nullopt;
  static const std::string request = "GET /upstreams HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size()))
    return std::nullopt;
  std::string response;
  char buf[8192];
  std::int64_t deadline = mono_ns() + 1000 * kMs;
  while (response.find("\r\n\r\n") == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    int left = static_cast<int>((deadline - mono_ns()) / kMs);
    if (left <= 0 || ::poll(&p, 1, left) <= 0) return std::nullopt;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    response.append(buf, static_cast<size_t>(n));
  }
  auto end = response.find("\r\n\r\n");
  if (end == std::string::npos) return std::nullopt;
  static const std::string name = "\r\nX-Upstreams: ";
  auto at = response.find(name);
  if (at == std::string::npos || at > end) return std::nullopt;
  at += name.size();
  return response.substr(at, response.find("\r\n", at) - at);
}

struct PollResult {
  bool seen = false;
  std::int64_t at = 0;  // monotonic, when the matching response arrived
  int polls = 0;
  int others = 0;       // answers showing neither the old nor the new value
};

// Polls every `period` until nginx serves `want` or `deadline`.
PollResult poll_until(int port, const std::string& want, const std::string& old, std::int64_t deadline,
                      std::int64_t period = kMs) {
  PollResult r;
  for (std::int64_t next = mono_ns();; next += period) {
    auto got = fetch_upstreams(port);
    ++r.polls;
    std::int64_t now = mono_ns();
    if (got && *got == want) {
      r.seen = true;
      r.at = now;
      return r;
    }
    if (got && *got != old) ++r.others;
    if (now >= deadline) return r;
    if (next + period > now) sleep_until_ns(next + period);
    else next = now;
  }
}

// After `want` was first seen at `seen_at`: keeps polling every ~1 ms until
// `until` and returns when the last answer still showing `old` was followed
// by `want` again (seen_at when `old` never came back): nginx's old workers
// keep serving for a while after a reload.
struct Settle {
  std::int64_t at = 0;
  bool old_came_back = false;
};
Settle settle(int port, const std::string& want, const std::string& old, std::int64_t seen_at, std::int64_t until) {
  Settle s{seen_at, false};
  bool stale = false;
  for (std::int64_t next = mono_ns(); next < until; next += kMs) {
    auto got = fetch_upstreams(port);
    std::int64_t now = mono_ns();
    if (got && *got == old) stale = s.old_came_back = true;
    else if (got && *got == want && stale) {
      s.at = now;
      stale = false;
    }
    if (next + kMs > now) sleep_until_ns(next + kMs);
    else next = now;
  }
  return s;
}

// --- processes and files ---------------------------------------------------------

// Runs argv (stdin, stdout and stderr on /dev/null) and waits; the exit code.
int run(const std::vector<std::string>& argv) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  for (int fd : {0, 1, 2}) posix_spawn_file_actions_addopen(&fa, fd, "/dev/null", fd ? O_WRONLY : O_RDONLY, 0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) die("cannot run " + argv[0] + ": " + std::strerror(rc));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) die("cannot read " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// As render::Output does: temp file beside it, fsync, rename, fsync the dir.
void write_like_autopilot(const std::string& path, const std::string& text) {
  std::string dir = path.substr(0, path.rfind('/'));
  std::string temp = dir + "/.convergence-floor.tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()) || ::fsync(fd) != 0)
    die("cannot write " + temp);
  ::close(fd);
  if (::rename(temp.c_str(), path.c_str()) != 0) die("cannot rename " + temp);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

// The conf with the X-Upstreams value replaced by `value`.
std::string with_header(const std::string& conf, const std::string& value) {
  const std::string key = "add_header X-Upstreams \"";
  auto at = conf.find(key);
  if (at == std::string::npos) die("the rendered conf has no `" + key + "`");
  at += key.size();
  auto end = conf.find('"', at);
  return conf.substr(0, at) + value + conf.substr(end);
}

// --- statistics -------------------------------------------------------------------

double max_of(const std::vector<double>& v) { return v.empty() ? 0 : *std::max_element(v.begin(), v.end()); }

void print_row(const char* name, const std::vector<double>& v, const std::string& extra = "") {
  std::printf("%-44s n=%-4zu p50 %8.3f ms   p99 %8.3f ms   max %8.3f ms%s\n", name, v.size(), percentile(v, 50),
              percentile(v, 99), max_of(v), extra.c_str());
}

// --- the writer ---------------------------------------------------------------------

class Writer {
 public:
  explicit Writer(const std::string& dir) : catalog_(open_catalog(dir, io_, timers_, files_, log_)) {}

  // Starts `op` (one catalog call) and runs the loop until its callback.
  void call(const std::function<void(discovery::Callback<void>)>& op) {
    bool done = false;
    std::optional<std::string> failed;
    op([&](Result<void> r) {
      if (!r) failed = r.error().message;
      done = true;
    });
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!done && std::chrono::steady_clock::now() < deadline) io_.run_one_for(10ms);
    if (!done) die("a catalog call did not complete in 5 s");
    if (failed) die("catalog call failed: " + *failed);
  }
  void add(const Instance& i) {
    call([&](auto cb) { catalog_->register_instance(i, 1h, cb); });
  }
  void set(const std::string& id, Status s) {
    call([&](auto cb) { catalog_->set_status(id, s, cb); });
  }
  // Lets the loop run its timers for `d` (nothing here needs it to be exact).
  void idle(std::chrono::milliseconds d) {
    auto until = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < until) io_.run_one_for(5ms);
  }

 private:
  boost::asio::io_context io_;
  os::AsioTimers timers_{io_};
  os::LinuxFiles files_{io_};
  log::Log log_{log::LogConfig{log::Level::kWarn}};
  std::unique_ptr<discovery::embedded::EmbeddedCatalog> catalog_;
};

struct Options {
  std::string catalog, conf, prefix, nginx = "/usr/sbin/nginx", ready_file, trace;
  int port = 0, instances = 8, changes = 200, gap_ms = 200, floor_runs = 50, start_timeout_s = 30;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    auto number = [&]() { return std::atoi(value().c_str()); };
    if (a == "--catalog") o.catalog = value();
    else if (a == "--conf") o.conf = value();
    else if (a == "--prefix") o.prefix = value();
    else if (a == "--nginx") o.nginx = value();
    else if (a == "--ready-file") o.ready_file = value();
    else if (a == "--trace") o.trace = value();
    else if (a == "--port") o.port = number();
    else if (a == "--instances") o.instances = number();
    else if (a == "--changes") o.changes = number();
    else if (a == "--gap-ms") o.gap_ms = number();
    else if (a == "--floor-runs") o.floor_runs = number();
    else if (a == "--start-timeout-s") o.start_timeout_s = number();
    else die("unknown argument " + a + " (see bench/convergence.cc)");
  }
  if (o.catalog.empty() || o.conf.empty() || o.prefix.empty() || o.port <= 0) die("need --catalog, --conf, --prefix, --port");
  if (o.instances < 2 || o.instances > 1000 || o.changes < 1 || o.changes > 10000 || o.gap_ms < 0 || o.gap_ms > 10000 ||
      o.floor_runs < 1 || o.floor_runs > 1000)
    die("out of range: 2 <= --instances <= 1000, 1 <= --changes <= 10000, 0 <= --gap-ms <= 10000, 1 <= --floor-runs <= 1000");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) die("pipe failed");
  pid_t child = ::fork();
  if (child < 0) die("fork failed");
  if (child == 0) {
    ::close(fds[0]);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() == 1) _exit(1);
    run_watcher(o.catalog, fds[1]);
    _exit(0);
  }
  ::close(fds[1]);
  EventPipe events(fds[0], mono_ns);

  int rc = 0;
  {
    Writer w(o.catalog);
    std::vector<Instance> all;
    for (int k = 0; k < o.instances; ++k) {
      Instance i;
      char id[32];
      std::snprintf(id, sizeof id, "app-%03d", k + 1);
      i.id = id;
      i.name = kService;
      i.address = "127.0.0.1";
      i.port = 20001 + k;
      i.tags = {"bench", k % 2 ? "canary" : "stable"};
      i.node = "bench";
      i.status = Status::kPassing;
      all.push_back(i);
    }
    for (const auto& i : all) w.add(i);
    std::string full = set_of(all);
    // The script starts autopilot only now, so that its first render already
    // has every instance: a render while nginx is still starting fails its
    // reload, and autopilot then keeps the older file until the next change.
    if (!o.ready_file.empty()) {
      int fd = ::open(o.ready_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0) die("cannot create " + o.ready_file);
      ::close(fd);
    }

    // nginx comes up once autopilot rendered the first conf; then the set
    // reaches it through renders and reloads.
    std::int64_t start = mono_ns();
    auto up = poll_until(o.port, full, "", start + std::int64_t{o.start_timeout_s} * 1000 * kMs, 10 * kMs);
    if (!up.seen) die("nginx did not serve the " + std::to_string(o.instances) + " registered instances within " +
                      std::to_string(o.start_timeout_s) + " s (is autopilot running? see its log)");
    std::printf("nginx serves all %d instances %.0f ms after they were registered\n", o.instances,
                (up.at - start) / 1e6);
    // The watcher's events so far (initial set, registrations) are not measured.
    w.idle(std::chrono::milliseconds(o.gap_ms + 200));
    while (events.next(mono_ns())) {
    }

    // Changes: 2j sets instance j % N critical, 2j+1 sets it passing again.
    std::vector<double> converge[2], event_ms[2], settled;
    std::vector<double> polls;
    int lost = 0, lost_events = 0, others = 0, mixed = 0;
    int warmup = 4;
    std::FILE* trace = o.trace.empty() ? nullptr : std::fopen(o.trace.c_str(), "w");
    if (!o.trace.empty() && !trace) die("cannot write " + o.trace);
    for (int k = -warmup; k < o.changes; ++k) {
      int kk = k + warmup;
      bool failure = kk % 2 == 0;
      Instance& target = all[static_cast<size_t>(kk / 2 % o.instances)];
      std::string before = set_of([&] {
        std::vector<Instance> v;
        for (const auto& i : all)
          if (i.status == Status::kPassing) v.push_back(i);
        return v;
      }());
      target.status = failure ? Status::kCritical : Status::kPassing;
      std::vector<Instance> healthy;
      for (const auto& i : all)
        if (i.status == Status::kPassing) healthy.push_back(i);
      std::string want = set_of(healthy);

      std::int64_t wall0 = realtime_ns();
      std::int64_t t0 = mono_ns();
      w.set(target.id, target.status);
      auto r = poll_until(o.port, want, before, t0 + 5000 * kMs);
      // The plain watch's event for this change (it came long before nginx).
      std::optional<double> ev;
      while (auto e = events.next(mono_ns() + 1000 * kMs)) {
        if (e->set == want) {
          ev = (e->at - t0) / 1e6;
          break;
        }
      }
      // The gap: polling on, to see how long old workers still answer.
      Settle st;
      if (r.seen) st = settle(o.port, want, before, r.at, mono_ns() + std::int64_t{o.gap_ms} * kMs);
      if (k >= 0) {
        others += r.others;
        polls.push_back(r.polls);
        if (r.seen) {
          converge[failure ? 0 : 1].push_back((r.at - t0) / 1e6);
          settled.push_back((st.at - t0) / 1e6);
          mixed += st.old_came_back;
          if (trace) std::fprintf(trace, "%lld %.3f\n", static_cast<long long>(wall0), (r.at - t0) / 1e6);
        } else {
          ++lost;
        }
        if (ev) event_ms[failure ? 0 : 1].push_back(*ev);
        else ++lost_events;
      }
      if (!r.seen) std::fprintf(stderr, "convergence: change %d (%s %s): nginx still does not serve %s after 5 s\n", k,
                                target.id.c_str(), failure ? "critical" : "passing", want.c_str());
      w.idle(std::chrono::milliseconds(r.seen ? 0 : o.gap_ms));
    }
    if (trace) std::fclose(trace);
    std::string current = set_of([&] {
      std::vector<Instance> v;
      for (const auto& i : all)
        if (i.status == Status::kPassing) v.push_back(i);
      return v;
    }());

    // (b) nginx -t on the rendered conf.
    std::vector<double> test_ms;
    for (int r = 0; r < o.floor_runs; ++r) {
      std::int64_t t0 = mono_ns();
      int code = run({o.nginx, "-t", "-c", o.conf, "-p", o.prefix});
      test_ms.push_back((mono_ns() - t0) / 1e6);
      if (code != 0) die("nginx -t failed on the rendered " + o.conf);
    }

    // (c) rewrite, reload, poll until served.
    std::string rendered = read_text(o.conf);
    std::vector<double> write_ms, reload_cmd_ms, reload_serve_ms, total_ms, floor_settled;
    int floor_lost = 0, floor_mixed = 0;
    std::string shown = current;
    for (int r = 0; r < o.floor_runs; ++r) {
      std::string value = "floor-" + std::to_string(r);
      std::string text = with_header(rendered, value);
      std::int64_t t0 = mono_ns();
      write_like_autopilot(o.conf, text);
      std::int64_t t1 = mono_ns();
      if (run({o.nginx, "-s", "reload", "-c", o.conf, "-p", o.prefix}) != 0) die("nginx -s reload failed");
      std::int64_t t2 = mono_ns();
      auto p = poll_until(o.port, value, shown, t0 + 5000 * kMs);
      if (p.seen) {
        write_ms.push_back((t1 - t0) / 1e6);
        reload_cmd_ms.push_back((t2 - t1) / 1e6);
        reload_serve_ms.push_back((p.at - t1) / 1e6);
        total_ms.push_back((p.at - t0) / 1e6);
        auto st = settle(o.port, value, shown, p.at, mono_ns() + std::int64_t{o.gap_ms} * kMs);
        floor_settled.push_back((st.at - t0) / 1e6);
        floor_mixed += st.old_came_back;
      } else {
        ++floor_lost;
        w.idle(std::chrono::milliseconds(o.gap_ms));
      }
      shown = value;
    }
    // Back to what autopilot rendered, so nginx and autopilot agree again.
    write_like_autopilot(o.conf, rendered);
    run({o.nginx, "-s", "reload", "-c", o.conf, "-p", o.prefix});
    if (!poll_until(o.port, current, shown, mono_ns() + 5000 * kMs).seen) {
      std::fprintf(stderr, "convergence: nginx did not come back to the rendered conf\n");
      rc = 2;
    }

    std::vector<double> all_conv = converge[0], all_ev = event_ms[0];
    all_conv.insert(all_conv.end(), converge[1].begin(), converge[1].end());
    all_ev.insert(all_ev.end(), event_ms[1].begin(), event_ms[1].end());
    std::printf("\n%d changes (+%d warm-up) over %d instances, one flip each, %d ms after the previous converged\n",
                o.changes, warmup, o.instances, o.gap_ms);
    std::printf("-- convergence: catalog write -> nginx serves the new set (polled every ~1 ms)\n");
    print_row("health failure (critical)", converge[0]);
    print_row("recovery (passing)", converge[1]);
    print_row("all", all_conv, "   lost " + std::to_string(lost));
    print_row("all, until no old answer (within the gap)", settled,
              "   old set again after the new: " + std::to_string(mixed) + " changes");
    std::printf("%-44s p50 %.0f   max %.0f   (answers with neither the old nor the new set: %d)\n", "polls per change",
                percentile(polls, 50), max_of(polls), others);
    std::printf("-- floor\n");
    print_row("(a) catalog write -> plain watch, other proc", all_ev, "   lost " + std::to_string(lost_events));
    print_row("(b) nginx -t on the rendered conf", test_ms);
    print_row("(c) write+reload -> new conf serves", total_ms, "   lost " + std::to_string(floor_lost));
    print_row("    of which: write, fsync, rename", write_ms);
    print_row("    of which: `nginx -s reload` process", reload_cmd_ms);
    print_row("    of which: reload start -> served", reload_serve_ms);
    print_row("(c) until no old answer (within the gap)", floor_settled,
              "   old again after the new: " + std::to_string(floor_mixed) + " runs");
    double f50 = percentile(all_ev, 50) + percentile(test_ms, 50) + percentile(total_ms, 50);
    double f99 = percentile(all_ev, 99) + percentile(test_ms, 99) + percentile(total_ms, 99);
    double c50 = percentile(all_conv, 50), c99 = percentile(all_conv, 99);
    std::printf("floor (a+b+c)                                p50 %8.3f ms   p99 %8.3f ms (sum of p99s)\n", f50, f99);
    std::printf("convergence / floor                          p50 %8.2fx     p99 %8.2fx\n", c50 / f50, c99 / f99);
    std::printf("overhead over the floor                      p50 %8.3f ms   p99 %8.3f ms\n", c50 - f50, c99 - f99);
    double s50 = percentile(all_ev, 50) + percentile(test_ms, 50) + percentile(floor_settled, 50);
    double s99 = percentile(all_ev, 99) + percentile(test_ms, 99) + percentile(floor_settled, 99);
    std::printf("until no old answer: floor (a+b+c settled)   p50 %8.3f ms   p99 %8.3f ms; convergence / floor p50 %.2fx  p99 %.2fx\n",
                s50, s99, percentile(settled, 50) / s50, percentile(settled, 99) / s99);
    if (lost || lost_events || floor_lost) rc = 2;
  }
  ::kill(child, SIGTERM);
  int status = 0;
  ::waitpid(child, &status, 0);
  return rc;
}
