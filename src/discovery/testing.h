// Test support for code that runs on a loop with a catalog: bounded waits on
// a real io_context (never bare sleeps), fresh catalog directories, sample
// instances, and CatalogLoop, an embedded catalog on its own loop. Linked
// into test binaries only (library autopilot_discovery_testing).
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "discovery/catalog.h"
#include "discovery/embedded/embedded_catalog.h"
#include "events/bus.h"
#include "log/log.h"
#include "os/fake/fake_timers.h"
#include "os/linux/asio_timers.h"
#include "os/linux/linux_files.h"
#include "os/linux/loop_testing.h"

namespace autopilot::discovery::testing {

using namespace std::chrono_literals;

using os::run_for;
using os::run_until;

// Starts an operation and runs `io` until its callback fires (bounded). A
// callback that runs inline from the call is a test failure (catalog.h).
template <class T>
Result<T> await_result(boost::asio::io_context& io, const std::function<void(Callback<T>)>& start,
                       std::chrono::milliseconds deadline = 5s) {
  std::optional<Result<T>> out;
  bool returned = false;
  start([&](Result<T> r) {
    if (!returned) ADD_FAILURE() << "catalog callback ran inline";
    out.emplace(std::move(r));
  });
  returned = true;
  if (!run_until(
          io, [&] { return out.has_value(); }, deadline))
    return make_error("timed out waiting for the catalog");
  return std::move(*out);
}

// Fake time over a real loop, for code that takes its time from FakeTimers
// but gets its results and file events through `io` (the embedded catalog on
// real files): advances `timers` as FakeTimers::advance_until does, running
// whatever is ready on `io` (posted results, inotify events) before each
// check of done(), never blocking. Returns done(); `limit` is fake time.
bool advance_until(os::FakeTimers& timers, boost::asio::io_context& io, const std::function<bool()>& done,
                   Duration limit);

// A fresh directory, on tmpfs when there is one (like /run); "" on failure.
std::string make_temp_dir(const std::string& prefix = "catalog-test");

Instance make_instance(const std::string& id, const std::string& name, int port = 8080,
                       Status status = Status::kPassing);
std::vector<std::string> ids_of(const std::vector<Instance>& instances);

// An embedded catalog in a fresh directory, with its loop, timers, log and a
// bus that records every event. Removes the directory when destroyed.
class CatalogLoop {
 public:
  explicit CatalogLoop(std::chrono::milliseconds rescan_interval = std::chrono::hours(1));
  ~CatalogLoop();

  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds deadline = 5s) {
    return testing::run_until(io, done, deadline);
  }
  void run_for(std::chrono::milliseconds period) { testing::run_for(io, period); }
  // Waits for a catalog operation and expects it to succeed.
  void expect_ok(const std::function<void(Callback<void>)>& start);
  // Every instance of `service` (all statuses).
  std::vector<Instance> all(const std::string& service);
  // Events recorded from `source` with `code`.
  int count(events::Code code, const std::string& source) const;
  // Another catalog on the same directory (another container).
  std::unique_ptr<Catalog> open_another(embedded::EmbeddedOptions options);
  const std::string& dir() const { return dir_; }

  boost::asio::io_context io;
  os::AsioTimers timers{io};
  os::LinuxFiles files{io};
  log::Log log;
  events::Bus bus;
  std::unique_ptr<Catalog> catalog;
  std::vector<events::Event> events;

 private:
  std::string root_, dir_;
};

}  // namespace autopilot::discovery::testing
