// etcd_storm: a registration storm on the etcd catalog, then the steady
// state it leaves behind.
//
//   etcd_storm --etcd URL,URL,URL [--n 1000] [--procs 4] [--in-flight 250]
//              [--watchers 2] [--interval 5] [--ttl 10] [--hold 30]
//              [--etcd-pids PID,PID,PID]
//
// Forked processes, each with its own EtcdCatalog opened as autopilot opens
// it for `discovery: {etcd: ...}` (what separate autopilots would be):
// - watchers: watch_service("storm", healthy only, from index 0), sending
//   "<realtime ns> <count>" up a pipe for every update;
// - registrars: on "go", register n/procs instances of "storm" with the TTL,
//   at most --in-flight register_instance calls at once (the next starts as
//   one completes), then heartbeat each instance once per interval, the
//   phases of all n instances spread evenly over the interval, as autopilot
//   heartbeats after each passing check (an instance found expired is
//   registered again, as autopilot does). They count their keep-alives.
// The parent measures:
// 1. the storm: from the first register_instance call (the earliest of the
//    registrars' CLOCK_REALTIME just before it) until the last watcher holds
//    all n instances (target <= 3 s); the registration calls' latencies;
//    the raft entries the storm cost (etcd_server_proposals_committed_total
//    on the leader, before and after);
// 2. the steady state: from two intervals after "go" (every instance is then
//    on its periodic schedule), over --hold seconds: keep-alive requests per
//    second (counted by the registrars; cross-checked with etcd's own lease
//    renewals on the leader, etcd_debugging_lease_renewed_total), raft
//    proposals per second on the leader, etcd's CPU (with --etcd-pids), and
//    the watch updates in the window (there must be none: a keep-alive is not
//    a change, and no instance may expire).
// and prints ContainerPilot-on-Consul's figure for comparison: one HTTP PUT
// (a TTL check pass) per instance per interval, n / interval per second.
//
// Exit 0 when every registration succeeded and every watcher saw the full
// set; 2 otherwise (the figures are printed anyway). Every wait is bounded:
// 20 s for the watchers to start, 10 s for the registrars, 30 s for the
// storm, then 2 intervals after "go" + hold + 10 s for the reports.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "bench_support.h"
#include "discovery/etcd/blocking_http.h"
#include "discovery/etcd/etcd_server.h"
#include "log/log.h"
#include "os/linux/asio_timers.h"
#include "os/linux/linux_files.h"

namespace {

using namespace autopilot;
using namespace autopilot::bench;
using namespace std::chrono_literals;
using discovery::Instance;
namespace etcd_testing = autopilot::discovery::etcd::testing;

constexpr const char* kService = "storm";

struct Options {
  std::string etcd;
  int n = 1000;
  int procs = 4;
  int in_flight = 250;
  int watchers = 2;
  int interval_s = 5;
  int ttl_s = 10;
  int hold_s = 30;
  std::vector<int> etcd_pids;
};

// One line up the shared pipe; lines are far below PIPE_BUF, so the writes
// of several children never interleave.
void send_line(int fd, const std::string& line) {
  std::string l = line + "\n";
  if (::write(fd, l.data(), l.size()) != static_cast<ssize_t>(l.size())) _exit(3);
}

double cpu_seconds_self() { return clock_ns(CLOCK_PROCESS_CPUTIME_ID) / 1e9; }

// --- a watcher (child) -----------------------------------------------------------

void run_watcher(const Options& o, int index, int up_fd) {
  boost::asio::io_context io;
  os::AsioTimers timers(io);
  os::LinuxFiles files(io);
  log::Log log(log::LogConfig{log::Level::kWarn});
  auto catalog = open_etcd_catalog(o.etcd, io, timers, files, log);
  auto handle = catalog->watch_service(kService, true, 0, [&](Result<discovery::WatchUpdate> u) {
    std::int64_t now = realtime_ns();
    if (!u) {
      send_line(up_fd, "E watcher " + std::to_string(index) + ": " + u.error().message);
      io.stop();
      return;
    }
    send_line(up_fd,
              "W " + std::to_string(index) + " " + std::to_string(now) + " " + std::to_string(u->instances.size()));
  });
  boost::asio::signal_set stop(io, SIGTERM);
  stop.async_wait([&](const boost::system::error_code&, int) { io.stop(); });
  io.run_for(10min);  // the parent ends it much earlier
  handle.cancel();
}

// --- a registrar (child) ---------------------------------------------------------

class Registrar {
 public:
  Registrar(const Options& o, int index, int cmd_fd, int up_fd)
      : o_(o),
        index_(index),
        up_fd_(up_fd),
        cmd_(io_, cmd_fd),
        catalog_(open_etcd_catalog(o.etcd, io_, timers_, files_, log_)) {
    // Instance k of this registrar is global instance k * procs + index.
    for (int k = index; k < o.n; k += o.procs) ids_.push_back(k);
    slots_.resize(ids_.size());
  }

  void run() {
    read_command();
    boost::asio::signal_set stop(io_, SIGTERM);
    stop.async_wait([&](const boost::system::error_code&, int) { io_.stop(); });
    send_line(up_fd_, "R " + std::to_string(index_));
    io_.run_for(10min);  // the parent ends it much earlier
  }

 private:
  struct Slot {
    bool registered = false;
    bool beating = false;  // a keep-alive (or re-registration) in flight
    std::int64_t next_ns = 0;
  };

  std::string id(size_t k) const { return "storm-" + std::to_string(ids_[k]); }

  Instance instance(size_t k) const {
    Instance i;
    i.id = id(k);
    i.name = kService;
    i.address = "10.0." + std::to_string(ids_[k] / 250) + "." + std::to_string(ids_[k] % 250 + 1);
    i.port = 8080;
    i.tags = {"bench"};
    i.node = "node-" + std::to_string(index_);
    return i;
  }

  void read_command() {
    cmd_.async_read_some(boost::asio::buffer(&cmd_byte_, 1), [this](const boost::system::error_code& ec, size_t n) {
      if (ec || n == 0) return io_.stop();  // the parent went away
      if (cmd_byte_ == 'g') go();
      if (cmd_byte_ == 'a') open_window();
      if (cmd_byte_ == 'b') return close_window();
      read_command();
    });
  }

  // --- the storm
  void go() {
    go_ns_ = realtime_ns();
    send_line(up_fd_, "S " + std::to_string(index_) + " " + std::to_string(go_ns_));
    while (active_ < o_.in_flight && next_ < ids_.size()) start_one();
  }

  void start_one() {
    size_t k = next_++;
    ++active_;
    std::int64_t t0 = mono_ns();
    catalog_->register_instance(instance(k), std::chrono::seconds(o_.ttl_s), [this, k, t0](Result<void> r) {
      --active_;
      register_ms_.push_back((mono_ns() - t0) / 1e6);
      if (r) {
        ++registered_;
        slots_[k].registered = true;
        schedule_heartbeats(k);
      } else {
        ++failed_;
        if (errors_.size() < 3) errors_.push_back(r.error().message);
      }
      if (next_ < ids_.size())
        start_one();
      else if (active_ == 0)
        storm_done();
    });
  }

  void storm_done() {
    // Lines must stay below PIPE_BUF: send the latencies in pieces.
    std::string head = "D " + std::to_string(index_) + " " + std::to_string(realtime_ns()) + " " +
                       std::to_string(registered_) + " " + std::to_string(failed_);
    send_line(up_fd_, head);
    std::string chunk;
    for (double ms : register_ms_) {
      char buf[32];
      std::snprintf(buf, sizeof buf, " %.3f", ms);
      chunk += buf;
      if (chunk.size() > 3000) {
        send_line(up_fd_, "L " + std::to_string(index_) + chunk);
        chunk.clear();
      }
    }
    if (!chunk.empty()) send_line(up_fd_, "L " + std::to_string(index_) + chunk);
    for (const auto& e : errors_) send_line(up_fd_, "E registrar " + std::to_string(index_) + ": " + e);
  }

  // --- the steady state: one keep-alive per instance per interval
  void schedule_heartbeats(size_t k) {
    // Global phase: instance g beats at go + interval * (1 + g / n), then
    // every interval, so the n instances are spread evenly.
    const std::int64_t interval = std::int64_t{o_.interval_s} * 1'000'000'000;
    slots_[k].next_ns = go_ns_ + interval + interval * ids_[k] / o_.n;
    arm(k);
  }

  void arm(size_t k) {
    std::int64_t delay = std::max<std::int64_t>(0, slots_[k].next_ns - realtime_ns());
    timers_.after(std::chrono::nanoseconds(delay), [this, k] { beat(k); });
  }

  void beat(size_t k) {
    Slot& slot = slots_[k];
    slot.next_ns += std::int64_t{o_.interval_s} * 1'000'000'000;
    arm(k);
    if (slot.beating) {  // the last one has not come back in a whole interval
      if (counting_) ++skipped_;
      return;
    }
    slot.beating = true;
    bool counted = counting_;
    if (counted) ++sent_;
    std::int64_t t0 = mono_ns();
    catalog_->heartbeat(id(k), [this, k, t0, counted](Result<void> r) {
      double ms = (mono_ns() - t0) / 1e6;
      if (counted && counting_) beat_ms_.push_back(ms);
      if (r) {
        if (counted) ++beat_ok_;
        slots_[k].beating = false;
        return;
      }
      if (counted) ++beat_failed_;
      if (r.error().kind != ErrorKind::kNotFound) {
        if (beat_errors_.size() < 3) beat_errors_.push_back(r.error().message);
        slots_[k].beating = false;
        return;
      }
      // Expired: register again, as autopilot does (counted: it must not happen).
      ++reregistered_;
      catalog_->register_instance(instance(k), std::chrono::seconds(o_.ttl_s),
                                  [this, k](Result<void>) { slots_[k].beating = false; });
    });
  }

  void open_window() {
    counting_ = true;
    window_ns_ = mono_ns();
    window_cpu_ = cpu_seconds_self();
  }

  void close_window() {
    counting_ = false;
    double seconds = (mono_ns() - window_ns_) / 1e9;
    double cpu = cpu_seconds_self() - window_cpu_;
    char buf[512];
    std::snprintf(buf, sizeof buf, "H %d %.3f %lld %lld %lld %lld %lld %.4f %.3f %.3f %.3f", index_, seconds,
                  static_cast<long long>(sent_), static_cast<long long>(beat_ok_), static_cast<long long>(beat_failed_),
                  static_cast<long long>(reregistered_), static_cast<long long>(skipped_), cpu,
                  percentile(beat_ms_, 50), percentile(beat_ms_, 99),
                  beat_ms_.empty() ? 0.0 : *std::max_element(beat_ms_.begin(), beat_ms_.end()));
    send_line(up_fd_, buf);
    for (const auto& e : beat_errors_) send_line(up_fd_, "E registrar " + std::to_string(index_) + " keep-alive: " + e);
    io_.stop();
  }

  const Options& o_;
  int index_;
  int up_fd_;
  boost::asio::io_context io_;
  os::AsioTimers timers_{io_};
  os::LinuxFiles files_{io_};
  log::Log log_{log::LogConfig{log::Level::kWarn}};
  boost::asio::posix::stream_descriptor cmd_;
  char cmd_byte_ = 0;
  std::unique_ptr<discovery::Catalog> catalog_;
  std::vector<int> ids_;
  std::vector<Slot> slots_;
  size_t next_ = 0;
  int active_ = 0;
  std::int64_t go_ns_ = 0;
  long long registered_ = 0, failed_ = 0;
  std::vector<double> register_ms_;
  std::vector<std::string> errors_;
  bool counting_ = false;
  std::int64_t window_ns_ = 0;
  double window_cpu_ = 0;
  long long sent_ = 0, beat_ok_ = 0, beat_failed_ = 0, reregistered_ = 0, skipped_ = 0;
  std::vector<double> beat_ms_;
  std::vector<std::string> beat_errors_;
};

// --- the parent ----------------------------------------------------------------------

// The sum of every series of `name` (with any labels containing `labels`)
// in a Prometheus text exposition; nullopt when there is none.
std::optional<double> metric(const std::string& text, const std::string& name, const std::string& labels = "") {
  std::istringstream in(text);
  std::string line;
  std::optional<double> sum;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#' || line.compare(0, name.size(), name) != 0) continue;
    if (line.size() <= name.size() || (line[name.size()] != ' ' && line[name.size()] != '{')) continue;
    if (!labels.empty() && line.find(labels) == std::string::npos) continue;
    auto sp = line.rfind(' ');
    sum = sum.value_or(0) + std::strtod(line.c_str() + sp + 1, nullptr);
  }
  return sum;
}

struct Scrape {
  std::int64_t at = 0;  // mono ns
  int leader = -1;
  std::vector<std::string> bodies;
  double on_leader(const std::string& name) const {
    if (leader < 0) return 0;
    return metric(bodies[static_cast<size_t>(leader)], name).value_or(0);
  }
  double on_all(const std::string& name, const std::string& labels = "") const {
    double s = 0;
    for (const auto& b : bodies) s += metric(b, name, labels).value_or(0);
    return s;
  }
};

Scrape scrape(const std::vector<std::string>& urls) {
  Scrape s;
  s.at = mono_ns();
  for (size_t i = 0; i < urls.size(); ++i) {
    auto r = etcd_testing::http_request(urls[i], "GET", "/metrics", "", 5s);
    if (!r || r->status != 200) die("GET " + urls[i] + "/metrics failed" + (r ? "" : ": " + r.error().message));
    if (metric(r->body, "etcd_server_is_leader").value_or(0) == 1) s.leader = static_cast<int>(i);
    s.bodies.push_back(std::move(r->body));
  }
  return s;
}

double cpu_seconds_of(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string f;
  long long utime = 0, stime = 0;
  for (int i = 3; fields >> f; ++i) {
    if (i == 14) utime = std::atoll(f.c_str());
    if (i == 15) {
      stime = std::atoll(f.c_str());
      break;
    }
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

std::vector<double> etcd_cpu(const Options& o) {
  std::vector<double> s;
  for (int pid : o.etcd_pids) s.push_back(cpu_seconds_of(pid));
  return s;
}

double sum(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s;
}

std::int64_t i64(const std::string& text) { return std::strtoll(text.c_str(), nullptr, 10); }

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--etcd")
      o.etcd = value();
    else if (a == "--n")
      o.n = std::atoi(value().c_str());
    else if (a == "--procs")
      o.procs = std::atoi(value().c_str());
    else if (a == "--in-flight")
      o.in_flight = std::atoi(value().c_str());
    else if (a == "--watchers")
      o.watchers = std::atoi(value().c_str());
    else if (a == "--interval")
      o.interval_s = std::atoi(value().c_str());
    else if (a == "--ttl")
      o.ttl_s = std::atoi(value().c_str());
    else if (a == "--hold")
      o.hold_s = std::atoi(value().c_str());
    else if (a == "--etcd-pids") {
      for (const auto& p : split(value(), ','))
        if (!p.empty()) o.etcd_pids.push_back(std::atoi(p.c_str()));
    } else {
      die("usage: etcd_storm --etcd URL,URL,URL [--n 1000] [--procs 4] [--in-flight 250] [--watchers 2] "
          "[--interval 5] [--ttl 10] [--hold 30] [--etcd-pids PID,...]");
    }
  }
  if (o.etcd.empty() || o.n < 1 || o.n > 100000 || o.procs < 1 || o.procs > 64 || o.in_flight < 1 || o.watchers < 1 ||
      o.watchers > 16 || o.interval_s < 1 || o.ttl_s <= o.interval_s || o.hold_s < 1 || o.hold_s > 600)
    die("need --etcd, 1 <= n, 1..64 procs, in-flight >= 1, 1..16 watchers, interval >= 1, ttl > interval, "
        "hold 1..600");
  return o;
}

pid_t fork_child(const std::function<void()>& body) {
  pid_t pid = ::fork();
  if (pid < 0) die("fork failed");
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() == 1) _exit(1);
    body();
    _exit(0);
  }
  return pid;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  std::vector<std::string> urls;
  for (const auto& u : split(o.etcd, ','))
    if (!u.empty()) urls.push_back(u);

  int up[2];
  if (::pipe2(up, O_CLOEXEC) != 0) die("pipe failed");
  std::vector<pid_t> children;
  auto stop_children = [&] {
    for (pid_t c : children) ::kill(c, SIGTERM);
    for (pid_t c : children) {
      int status = 0;
      ::waitpid(c, &status, 0);
    }
    children.clear();
  };
  LinePipe lines(up[0], mono_ns, "every child process went away");
  std::vector<std::string> errors;
  auto note_error = [&](const std::string& line) {
    if (errors.size() < 20) errors.push_back(line.substr(2));
  };

  // 1. Watchers, until each has delivered its first (empty) set.
  for (int w = 0; w < o.watchers; ++w)
    children.push_back(fork_child([&] {
      ::close(up[0]);
      run_watcher(o, w, up[1]);
    }));
  std::vector<int> watcher_count(static_cast<size_t>(o.watchers), -1);
  std::vector<std::int64_t> watcher_full(static_cast<size_t>(o.watchers), 0);
  std::vector<int> watcher_updates(static_cast<size_t>(o.watchers), 0);
  auto on_watch = [&](const std::vector<std::string>& f) {
    size_t w = static_cast<size_t>(std::atoi(f[1].c_str()));
    std::int64_t at = i64(f[2]);
    int count = std::atoi(f[3].c_str());
    watcher_count[w] = count;
    ++watcher_updates[w];
    if (count == o.n && watcher_full[w] == 0) watcher_full[w] = at;
  };
  {
    std::int64_t deadline = mono_ns() + 20'000'000'000;
    auto ready = [&] { return std::all_of(watcher_count.begin(), watcher_count.end(), [](int c) { return c >= 0; }); };
    while (!ready()) {
      auto line = lines.next(deadline);
      if (!line) die("the watchers did not deliver their first set within 20 s");
      auto f = words(*line);
      if (f[0] == "W") on_watch(f);
      if (f[0] == "E") die(line->substr(2));
    }
    for (int c : watcher_count)
      if (c != 0) die("the service \"storm\" is not empty at the start: use a fresh cluster");
  }

  // 2. Registrars, until each has opened its catalog.
  std::vector<int> cmd_fds;
  for (int p = 0; p < o.procs; ++p) {
    int cmd[2];
    if (::pipe2(cmd, O_CLOEXEC) != 0) die("pipe failed");
    children.push_back(fork_child([&] {
      ::close(up[0]);
      for (int fd : cmd_fds) ::close(fd);
      ::close(cmd[1]);
      Registrar(o, p, cmd[0], up[1]).run();
    }));
    ::close(cmd[0]);
    cmd_fds.push_back(cmd[1]);
  }
  ::close(up[1]);
  {
    std::int64_t deadline = mono_ns() + 10'000'000'000;
    for (int ready = 0; ready < o.procs;) {
      auto line = lines.next(deadline);
      if (!line) die("the registrars did not start within 10 s");
      auto f = words(*line);
      if (f[0] == "R") ++ready;
      if (f[0] == "W") on_watch(f);
      if (f[0] == "E") die(line->substr(2));
    }
  }
  auto command = [&](char c) {
    for (int fd : cmd_fds)
      if (::write(fd, &c, 1) != 1) die("a registrar went away");
  };

  // 3. The storm.
  Scrape before = scrape(urls);
  std::int64_t go_mono = mono_ns();
  command('g');
  std::int64_t first_call = 0, last_done = 0;
  long long registered = 0, failed = 0;
  int done = 0;
  std::vector<double> register_ms;
  {
    std::int64_t deadline = go_mono + 30'000'000'000;
    auto all_full = [&] {
      return std::all_of(watcher_full.begin(), watcher_full.end(), [](auto t) { return t != 0; });
    };
    while (done < o.procs || !all_full()) {
      auto line = lines.next(deadline);
      if (!line) break;
      auto f = words(*line);
      if (f[0] == "W")
        on_watch(f);
      else if (f[0] == "S") {
        std::int64_t t = i64(f[2]);
        first_call = first_call == 0 ? t : std::min(first_call, t);
      } else if (f[0] == "D") {
        ++done;
        last_done = std::max(last_done, i64(f[2]));
        registered += std::atoll(f[3].c_str());
        failed += std::atoll(f[4].c_str());
      } else if (f[0] == "L") {
        for (size_t i = 2; i < f.size(); ++i) register_ms.push_back(std::atof(f[i].c_str()));
      } else if (f[0] == "E") {
        note_error(*line);
      }
    }
  }
  Scrape after_storm = scrape(urls);
  // Latency lines may trail the last "D"; collect what is already there.
  while (auto line = lines.next(mono_ns() + 200'000'000)) {
    auto f = words(*line);
    if (f[0] == "L")
      for (size_t i = 2; i < f.size(); ++i) register_ms.push_back(std::atof(f[i].c_str()));
    if (f[0] == "W") on_watch(f);
    if (f[0] == "E") note_error(*line);
  }

  std::printf(
      "== registration storm: %d instances of \"%s\" from %d processes (%d calls in flight each at most), "
      "%d watcher processes, TTL %d s\n",
      o.n, kService, o.procs, o.in_flight, o.watchers, o.ttl_s);
  bool ok = failed == 0 && registered == o.n;
  std::int64_t full_max = 0;
  for (int w = 0; w < o.watchers; ++w) {
    auto t = watcher_full[static_cast<size_t>(w)];
    if (t == 0) {
      ok = false;
      std::printf("watcher %d                   NEVER had the full set within 30 s (last count %d)\n", w,
                  watcher_count[static_cast<size_t>(w)]);
    } else {
      std::printf("watcher %d has all %d        %8.1f ms after the first register call (%d updates)\n", w, o.n,
                  (t - first_call) / 1e6, watcher_updates[static_cast<size_t>(w)]);
      full_max = std::max(full_max, t);
    }
  }
  if (full_max && ok)
    std::printf("STORM: every watcher has the full set %.1f ms after the first registration\n",
                (full_max - first_call) / 1e6);
  std::printf("registrations done         %8.1f ms after the first call (%lld ok, %lld failed)\n",
              last_done ? (last_done - first_call) / 1e6 : -1.0, registered, failed);
  if (!register_ms.empty())
    std::printf("register_instance calls    n=%zu p50 %.1f ms  p99 %.1f ms  max %.1f ms (lease grant + read + txn)\n",
                register_ms.size(), percentile(register_ms, 50), percentile(register_ms, 99),
                *std::max_element(register_ms.begin(), register_ms.end()));
  double storm_entries = after_storm.on_leader("etcd_server_proposals_committed_total") -
                         before.on_leader("etcd_server_proposals_committed_total");
  std::printf("raft entries committed     %.0f during the storm (leader m%d; %.2f per instance)\n", storm_entries,
              after_storm.leader + 1, storm_entries / o.n);

  // 4. The steady state: every instance on its periodic schedule after two intervals.
  std::int64_t settle_until = go_mono + 2LL * o.interval_s * 1'000'000'000;
  int updates_before = 0;
  auto pump = [&](std::int64_t until) {
    while (auto line = lines.next(until)) {
      auto f = words(*line);
      if (f[0] == "W") on_watch(f);
      if (f[0] == "E") note_error(*line);
    }
  };
  pump(settle_until);
  for (int u : watcher_updates) updates_before += u;
  Scrape a = scrape(urls);
  std::vector<double> cpu_a = etcd_cpu(o);
  command('a');
  pump(a.at + std::int64_t{o.hold_s} * 1'000'000'000);
  command('b');
  Scrape b = scrape(urls);
  std::vector<double> cpu_b = etcd_cpu(o);
  int updates_after = 0;
  for (int u : watcher_updates) updates_after += u;
  double window = (b.at - a.at) / 1e9;

  long long sent = 0, beat_ok = 0, beat_failed = 0, rereg = 0, skipped = 0;
  double client_cpu = 0, beat_p50 = 0, beat_p99 = 0, beat_max = 0;
  int reports = 0;
  {
    std::int64_t deadline = mono_ns() + 10'000'000'000;
    while (reports < o.procs) {
      auto line = lines.next(deadline);
      if (!line) break;
      auto f = words(*line);
      if (f[0] == "W") {
        on_watch(f);
        ++updates_after;
      }
      if (f[0] == "E") note_error(*line);
      if (f[0] != "H") continue;
      ++reports;
      sent += std::atoll(f[3].c_str());
      beat_ok += std::atoll(f[4].c_str());
      beat_failed += std::atoll(f[5].c_str());
      rereg += std::atoll(f[6].c_str());
      skipped += std::atoll(f[7].c_str());
      client_cpu += std::atof(f[8].c_str());
      beat_p50 = std::max(beat_p50, std::atof(f[9].c_str()));
      beat_p99 = std::max(beat_p99, std::atof(f[10].c_str()));
      beat_max = std::max(beat_max, std::atof(f[11].c_str()));
    }
  }
  stop_children();

  std::printf(
      "== steady state: %d registered instances, one heartbeat (lease keep-alive) per instance every %d s, "
      "TTL %d s; window %.1f s, from %d s after go\n",
      o.n, o.interval_s, o.ttl_s, window, 2 * o.interval_s);
  if (a.leader != b.leader || a.leader < 0)
    std::printf("(the leader changed during the window: m%d -> m%d)\n", a.leader + 1, b.leader + 1);
  double proposals =
      b.on_leader("etcd_server_proposals_committed_total") - a.on_leader("etcd_server_proposals_committed_total");
  double renewed =
      b.on_leader("etcd_debugging_lease_renewed_total") - a.on_leader("etcd_debugging_lease_renewed_total");
  const std::string keepalive = "grpc_method=\"LeaseKeepAlive\"";
  double received =
      b.on_all("grpc_server_msg_received_total", keepalive) - a.on_all("grpc_server_msg_received_total", keepalive);
  double puts = b.on_leader("etcd_mvcc_put_total") - a.on_leader("etcd_mvcc_put_total");
  std::printf(
      "keep-alive requests sent   %.1f /s (%lld in %.1f s; %lld ok, %lld failed, %lld skipped, %lld "
      "re-registrations)\n",
      sent / window, sent, window, beat_ok, beat_failed, skipped, rereg);
  std::printf("keep-alive call latency    p50 %.2f ms  p99 %.2f ms  max %.2f ms (worst registrar)\n", beat_p50,
              beat_p99, beat_max);
  std::printf(
      "etcd lease renewals        %.1f /s (leader's etcd_debugging_lease_renewed_total); LeaseKeepAlive "
      "messages received %.1f /s (all members)\n",
      renewed / window, received / window);
  std::printf("RAFT PROPOSALS (leader)    %.2f /s (%.0f committed in %.1f s; mvcc puts %.0f)\n", proposals / window,
              proposals, window, puts);
  std::printf("watch updates in window    %d (must be 0: no change, no expiry)\n", updates_after - updates_before);
  if (!o.etcd_pids.empty()) {
    double cpu = sum(cpu_b) - sum(cpu_a);
    std::printf(
        "etcd CPU (%zu members)       %.1f %% of one core (%.2f s in %.1f s, %.2f ms per keep-alive); "
        "registrars' own CPU %.1f %%\n",
        o.etcd_pids.size(), 100 * cpu / window, cpu, window, sent ? 1000 * cpu / static_cast<double>(sent) : 0.0,
        100 * client_cpu / window);
    for (size_t i = 0; i < o.etcd_pids.size() && i < urls.size(); ++i) {
      double got = metric(b.bodies[i], "grpc_server_msg_received_total", keepalive).value_or(0) -
                   metric(a.bodies[i], "grpc_server_msg_received_total", keepalive).value_or(0);
      std::printf("  member m%zu%s CPU %5.1f %%, LeaseKeepAlive received %.1f /s\n", i + 1,
                  static_cast<int>(i) == b.leader ? " (leader)" : "         ", 100 * (cpu_b[i] - cpu_a[i]) / window,
                  got / window);
    }
  } else
    std::printf("registrars' own CPU        %.1f %% of one core\n", 100 * client_cpu / window);
  std::printf("ContainerPilot on Consul   %.1f HTTP PUT /s (one TTL check pass per instance per %d s)\n",
              static_cast<double>(o.n) / o.interval_s, o.interval_s);
  for (const auto& e : errors) std::printf("error: %s\n", e.c_str());
  if (reports < o.procs) {
    std::printf("only %d of %d registrars reported\n", reports, o.procs);
    ok = false;
  }
  if (rereg || beat_failed || updates_after != updates_before) ok = false;
  return ok ? 0 : 2;
}
