// watch_latency: how long a change to the catalog (embedded or etcd) takes
// to reach a watches::Watch in another process, as the `changed` event on its
// Bus.
//
//   watch_latency --dir DIR [--n 200] [--gap-ms 60]
//   watch_latency --etcd URL,URL,URL [--n 200] [--gap-ms 60]
//
// Two processes share the catalog: the directory DIR (use tmpfs, e.g.
// /dev/shm), or the etcd cluster at the URLs, each process with its own
// EtcdCatalog (autopilot's defaults, as `discovery: {etcd: ...}` opens it).
// The parent writes, a forked child runs a Watch on service "bench" (the
// default 50 ms coalescing window, interval 5 s) and sends the CLOCK_REALTIME
// of every `changed` it receives, with the set it published, up a pipe. The
// parent takes CLOCK_REALTIME right before each catalog call, then waits for
// the matching event (2 s at most), then waits --gap-ms after the event so
// that every change meets a quiet watch (gap > coalesce: the first change
// after quiet is published at once). Rounds of four changes, each of which
// changes the healthy set, so each gives exactly one event:
//   register i-K, set_status critical (health failure), set_status passing
//   (recovery), deregister i-K.
// Prints p50/p99/max per kind and overall, and the lost / unexpected events.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bench_support.h"
#include "discovery/embedded/embedded_catalog.h"
#include "events/bus.h"
#include "log/log.h"
#include "os/linux/asio_timers.h"
#include "os/linux/linux_files.h"
#include "os/linux/linux_processes.h"
#include "watches/watch.h"

namespace {

using namespace autopilot;
using namespace std::chrono_literals;
using discovery::Instance;
using discovery::Status;
using namespace autopilot::bench;

constexpr const char* kService = "bench";
constexpr auto kEventTimeout = 2s;

// --- the watcher (child) -------------------------------------------------------

// Where the catalog is: a directory, or etcd URLs.
struct Where {
  std::string dir;
  std::string etcd;
};

std::unique_ptr<discovery::Catalog> open_where(const Where& where, boost::asio::io_context& io, os::Timers& timers,
                                               os::Files& files, log::Log& log) {
  if (!where.etcd.empty()) return open_etcd_catalog(where.etcd, io, timers, files, log);
  return open_catalog(where.dir, io, timers, files, log);
}

// One line per `changed`: "<realtime ns> <ids of the published set, or ->".
void run_watcher(const Where& where, int out_fd, std::chrono::seconds limit) {
  boost::asio::io_context io;
  os::AsioTimers timers(io);
  os::LinuxFiles files(io);
  log::Log log(log::LogConfig{log::Level::kWarn});
  auto catalog = open_where(where, io, timers, files, log);
  events::Bus bus([&io](std::function<void()> f) { boost::asio::post(io, std::move(f)); });
  os::LinuxProcesses processes(io);  // the wiring names processes; a watch starts none
  watches::Watch watch({kService, "", 5s},
                       Wiring{.loop = io, .timers = timers, .processes = processes, .files = files, .log = log, .bus = bus,
                              .catalog = catalog.get()});
  bus.subscribe([&](const events::Event& e) {
    if (e.code != events::Code::kStatusChanged || e.source != events::Source::watch(kService)) return;
    std::int64_t now = realtime_ns();
    std::string line = std::to_string(now);
    if (watch.instances().empty()) line += " -";
    for (const auto& i : watch.instances()) line += " " + i.id;
    line += "\n";
    if (::write(out_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) die("pipe write failed");
  });
  boost::asio::signal_set stop(io, SIGTERM);
  stop.async_wait([&](const boost::system::error_code&, int) { io.stop(); });
  watch.start();
  io.run_for(limit);  // SIGTERM from the parent ends it earlier
  watch.stop();
}

// --- the writer (parent) -------------------------------------------------------

struct Kind {
  explicit Kind(const char* n) : name(n) {}
  const char* name;
  std::vector<double> latency_ms;
  std::vector<double> call_ms;
  int lost = 0;
};

void print_row(const char* name, const std::vector<double>& v, int lost) {
  std::printf("%-26s n=%-4zu p50 %7.3f ms   p99 %7.3f ms   max %7.3f ms   lost %d\n", name, v.size(),
              percentile(v, 50), percentile(v, 99), v.empty() ? 0.0 : *std::max_element(v.begin(), v.end()), lost);
}

class Writer {
 public:
  Writer(const Where& where, int event_fd)
      : events_(event_fd, realtime_ns), catalog_(open_where(where, io_, timers_, files_, log_)) {}

  // Runs `op` (which starts one catalog call) and the loop until its callback.
  // Returns the realtime taken right before the call and the call's duration
  // until its callback (the embedded catalog does its file I/O inside the
  // call; etcd's calls are round trips to the cluster).
  std::pair<std::int64_t, double> change(const std::function<void(discovery::Callback<void>)>& op) {
    bool done = false;
    std::optional<std::string> failed;
    std::int64_t t0 = realtime_ns();
    std::int64_t t1 = t0;
    op([&](Result<void> r) {
      t1 = realtime_ns();
      if (!r) failed = r.error().message;
      done = true;
    });
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!done && std::chrono::steady_clock::now() < deadline) io_.run_one_for(10ms);
    if (!done) die("a catalog call did not complete in 5 s");
    if (failed) die("catalog call failed: " + *failed);
    return {t0, (t1 - t0) / 1e6};
  }

  void add(const std::string& id) {
    Instance i;
    i.id = id;
    i.name = kService;
    i.address = "127.0.0.1";
    i.port = 8080;
    last_ = change([&](auto cb) { catalog_->register_instance(i, 1h, cb); });
  }
  void remove(const std::string& id) {
    last_ = change([&](auto cb) { catalog_->deregister(id, cb); });
  }
  void set(const std::string& id, Status s) {
    last_ = change([&](auto cb) { catalog_->set_status(id, s, cb); });
  }

  // Waits for the event showing `want`; events showing anything else count as
  // unexpected. Returns the latency in ms, or nullopt when none came in time.
  std::optional<double> await(const std::string& want, std::int64_t timeout_ns) {
    std::int64_t deadline = last_.first + timeout_ns;
    while (auto e = events_.next(deadline)) {
      if (e->set == want) {
        last_event_ = e->at;
        return (e->at - last_.first) / 1e6;
      }
      ++unexpected_;
    }
    return std::nullopt;
  }

  // Keeps the loop running for `d` after the later of the last change and
  // the last event, so the next change meets a quiet watch.
  void quiet(std::chrono::milliseconds d) {
    std::int64_t from = std::max(last_.first, last_event_);
    auto until = std::chrono::steady_clock::now() +
                 std::chrono::nanoseconds(std::max<std::int64_t>(0, from + d.count() * 1'000'000 - realtime_ns()));
    while (std::chrono::steady_clock::now() < until) io_.run_one_for(5ms);
  }

  // Events arriving with no change pending: counted as unexpected.
  void drain(std::chrono::milliseconds d) {
    std::int64_t deadline = realtime_ns() + d.count() * 1'000'000;
    while (events_.next(deadline)) ++unexpected_;
  }

  double last_call_ms() const { return last_.second; }
  int unexpected() const { return unexpected_; }

 private:
  boost::asio::io_context io_;
  // The loop is run in slices (run_one_for): without outstanding work it
  // would stop, and an etcd catalog's idle connections are not work.
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{io_.get_executor()};
  os::AsioTimers timers_{io_};
  os::LinuxFiles files_{io_};
  log::Log log_{log::LogConfig{log::Level::kWarn}};
  EventPipe events_;
  std::unique_ptr<discovery::Catalog> catalog_;
  std::pair<std::int64_t, double> last_{0, 0};
  std::int64_t last_event_ = 0;
  int unexpected_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  Where where;
  int n = 200;
  int gap_ms = 60;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--dir") where.dir = value();
    else if (a == "--etcd") where.etcd = value();
    else if (a == "--n") n = std::atoi(value().c_str());
    else if (a == "--gap-ms") gap_ms = std::atoi(value().c_str());
    else die("usage: watch_latency --dir DIR | --etcd URL,URL,URL [--n 200] [--gap-ms 60]");
  }
  if (where.dir.empty() == where.etcd.empty() || n < 1 || n > 100000 || gap_ms < 51)
    die("need --dir or --etcd (one of them), 1 <= --n, --gap-ms > 50 (the coalescing window)");

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) die("pipe failed");
  // Bound on the whole run: each change waits at most kEventTimeout + gap.
  auto limit = std::chrono::seconds(30 + 4 * n * (2 + (gap_ms + 999) / 1000));
  pid_t child = ::fork();
  if (child < 0) die("fork failed");
  if (child == 0) {
    ::close(fds[0]);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() == 1) _exit(1);
    run_watcher(where, fds[1], limit);
    _exit(0);
  }
  ::close(fds[1]);

  int rc = 0;
  {
    Writer w(where, fds[0]);
    const std::int64_t timeout = std::chrono::nanoseconds(kEventTimeout).count();
    const auto gap = std::chrono::milliseconds(gap_ms);
    // Warm-up: proves the watcher is up and synced (the first look at a set
    // with an instance publishes it), then leaves the service empty.
    w.add("warm-0");
    if (!w.await("warm-0", 10'000'000'000)) die("the watcher saw no warm-up event in 10 s");
    w.quiet(gap);
    w.remove("warm-0");
    if (!w.await("-", 10'000'000'000)) die("the watcher saw no warm-up removal in 10 s");
    w.quiet(gap);
    w.drain(200ms);
    int warm_unexpected = w.unexpected();

    Kind kinds[4] = {Kind("register"), Kind("health failure (critical)"), Kind("recovery (passing)"),
                     Kind("deregister")};
    for (int k = 0; k < n; ++k) {
      std::string id = "i-" + std::to_string(k);
      for (int step = 0; step < 4; ++step) {
        if (step == 0) w.add(id);
        if (step == 1) w.set(id, Status::kCritical);
        if (step == 2) w.set(id, Status::kPassing);
        if (step == 3) w.remove(id);
        Kind& kind = kinds[step];
        kind.call_ms.push_back(w.last_call_ms());
        if (auto l = w.await(step == 0 || step == 2 ? id : "-", timeout))
          kind.latency_ms.push_back(*l);
        else
          ++kind.lost;
        w.quiet(gap);
      }
    }
    w.drain(500ms);

    std::printf("%s catalog change -> Watch `changed` in another process: %d rounds, %d ms after each event\n",
                where.etcd.empty() ? "embedded" : "etcd", n, gap_ms);
    std::vector<double> all, calls;
    int lost = 0;
    for (const auto& kind : kinds) {
      print_row(kind.name, kind.latency_ms, kind.lost);
      all.insert(all.end(), kind.latency_ms.begin(), kind.latency_ms.end());
      calls.insert(calls.end(), kind.call_ms.begin(), kind.call_ms.end());
      lost += kind.lost;
    }
    print_row("all", all, lost);
    std::printf("%-26s n=%-4zu p50 %7.3f ms   p99 %7.3f ms   max %7.3f ms\n",
                where.etcd.empty() ? "writer's call (file I/O)" : "writer's call (etcd)",
                calls.size(), percentile(calls, 50), percentile(calls, 99),
                *std::max_element(calls.begin(), calls.end()));
    std::printf("unexpected events: %d (warm-up: %d)\n", w.unexpected() - warm_unexpected, warm_unexpected);
    if (lost || w.unexpected()) rc = 2;
  }
  ::kill(child, SIGTERM);
  int status = 0;
  ::waitpid(child, &status, 0);
  return rc;
}
