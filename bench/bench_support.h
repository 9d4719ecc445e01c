// What the two-process latency benchmarks (watch_latency, convergence,
// etcd_storm) share: clocks, a fatal error, opening the embedded or the etcd
// catalog with autopilot's defaults, the pipe of timestamped events from the
// watcher child, and nearest-rank percentiles. Benchmarks only.
#pragma once

#include <errno.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/strings.h"
#include "discovery/discovery_config.h"
#include "discovery/embedded/embedded_catalog.h"
#include "log/log.h"
#include "os/files.h"
#include "os/timers.h"

namespace autopilot::bench {

inline std::int64_t clock_ns(clockid_t clock) {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}
inline std::int64_t realtime_ns() { return clock_ns(CLOCK_REALTIME); }
inline std::int64_t mono_ns() { return clock_ns(CLOCK_MONOTONIC); }

// "<program>: message" on stderr, exit 1.
[[noreturn]] inline void die(const std::string& message) {
  std::fprintf(stderr, "%s: %s\n", program_invocation_short_name, message.c_str());
  std::exit(1);
}

inline std::unique_ptr<discovery::embedded::EmbeddedCatalog> open_catalog(const std::string& dir,
                                                                           boost::asio::io_context& io,
                                                                           os::Timers& timers, os::Files& files,
                                                                           log::Log& log) {
  discovery::embedded::EmbeddedOptions options;  // autopilot's defaults, but the directory
  options.dir = dir;
  auto catalog = discovery::embedded::EmbeddedCatalog::open(options, io, timers, files, log);
  if (!catalog) die("cannot open the catalog: " + catalog.error().message);
  return std::move(*catalog);
}

// The etcd catalog on "URL,URL,URL" exactly as autopilot opens it for
// `discovery: {etcd: {endpoints: ...}}` (its defaults: prefix /autopilot/,
// 1 s per request).
inline std::unique_ptr<discovery::Catalog> open_etcd_catalog(const std::string& urls, boost::asio::io_context& io,
                                                             os::Timers& timers, os::Files& files, log::Log& log) {
  discovery::DiscoveryConfig config;
  config.etcd.emplace();
  for (const auto& url : split(urls, ','))
    if (!url.empty()) config.etcd->endpoints.push_back(url);
  auto catalog = discovery::open_catalog(config, io, timers, files, log);
  if (!catalog) die("cannot open the etcd catalog at " + urls + ": " + catalog.error().message);
  return std::move(*catalog);
}

// Lines from child processes on a pipe, read with deadlines; `now` is the
// clock the deadlines use (realtime_ns or mono_ns). A closed pipe is fatal.
class LinePipe {
 public:
  LinePipe(int fd, std::int64_t (*now)(), std::string on_eof = "the watcher process went away")
      : fd_(fd), now_(now), on_eof_(std::move(on_eof)) {}
  // The next line (without its newline), or nullopt when none came before `deadline`.
  std::optional<std::string> next(std::int64_t deadline) {
    for (;;) {
      if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      std::int64_t left_ms = (deadline - now_()) / 1'000'000;
      if (left_ms < 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      int r = ::poll(&p, 1, static_cast<int>(left_ms) + 1);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return std::nullopt;
      char chunk[8192];
      ssize_t n = ::read(fd_, chunk, sizeof chunk);
      if (n <= 0) die(on_eof_);
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

 private:
  int fd_;
  std::int64_t (*now_)();
  std::string on_eof_;
  std::string buffer_;
};

// One line from the watcher child: "<ns> <set>".
struct Event {
  std::int64_t at = 0;
  std::string set;
};

// Reads the watcher child's events; `now` is the clock its timestamps and the
// deadlines use (realtime_ns or mono_ns).
class EventPipe {
 public:
  EventPipe(int fd, std::int64_t (*now)()) : lines_(fd, now) {}
  // The next event, or nullopt when none came before `deadline`.
  std::optional<Event> next(std::int64_t deadline) {
    auto line = lines_.next(deadline);
    if (!line) return std::nullopt;
    auto sp = line->find(' ');
    return Event{std::stoll(line->substr(0, sp)), line->substr(sp + 1)};
  }

 private:
  LinePipe lines_;
};

inline double percentile(std::vector<double> v, double p) {  // nearest rank
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

}  // namespace autopilot::bench
