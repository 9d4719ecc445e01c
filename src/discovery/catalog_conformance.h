// The conformance suite every Catalog backend must pass. A backend's test
// instantiates it with a factory for fresh, empty stores:
//
//   INSTANTIATE_TEST_SUITE_P(Embedded, CatalogConformanceTest,
//                            ::testing::Values(embedded_backend()), backend_name);
//
// The tests run a real io_context with AsioTimers (a backend with a server:
// etcd), or FakeTimers for a backend whose time comes from its Timers (the
// in-memory catalog; the embedded catalog, whose records' wall clock its test
// derives from them); either way every wait is bounded (run_until) and never
// a bare sleep, and on FakeTimers no test waits on the wall clock at all. Some tests open a second catalog on the
// same store (another "container") or fork a child that opens one (lock
// release on holder death), so CatalogStore::open must work several times
// per test and, unless the backend is in_process, in a forked child.
// Test-only; linked into test binaries.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "discovery/catalog.h"
#include "discovery/testing.h"
#include "log/log.h"
#include "os/fake/fake_timers.h"
#include "os/linux/asio_timers.h"
#include "os/linux/linux_files.h"

namespace autopilot::discovery::conformance {

using namespace std::chrono_literals;

using OpenCatalog =
    std::function<std::unique_ptr<Catalog>(boost::asio::io_context&, os::Timers&, os::Files&, log::Log&)>;

// One fresh, empty store for one test.
struct CatalogStore {
  OpenCatalog open;
  std::function<void()> cleanup;  // may be empty
};

struct CatalogBackend {
  std::string name;  // letters and digits: part of the test names
  std::function<CatalogStore()> fresh;
  // Runs on FakeTimers: time moves only while a test waits. The io_context
  // is polled (never blocked on) as time moves, for what the catalog posts
  // and for the file events of the real Files (testing::advance_until).
  bool uses_fake_time = false;
  // The store lives in this process, so a lock holder "dies" by having its
  // catalog destroyed (its Lock left behind, as a killed process leaves its
  // descriptors), not by being a forked child that is killed.
  bool in_process = false;
};

inline void PrintTo(const CatalogBackend& backend, std::ostream* os) { *os << backend.name; }
std::string backend_name(const ::testing::TestParamInfo<CatalogBackend>& info);

using testing::await_result;
using testing::ids_of;
using testing::make_instance;
using testing::run_for;
using testing::run_until;

// Collects what a watch delivers.
struct WatchLog {
  std::vector<WatchUpdate> updates;
  std::vector<Error> errors;
  std::function<void(Result<WatchUpdate>)> callback() {
    return [this](Result<WatchUpdate> r) {
      if (r)
        updates.push_back(std::move(*r));
      else
        errors.push_back(r.error());
    };
  }
};

class CatalogConformanceTest : public ::testing::TestWithParam<CatalogBackend> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Another catalog on the same store, on the same loop (another container).
  std::unique_ptr<Catalog> open_another() { return store_.open(io_, timers_, files_, log_); }

  // The loop, on real or fake time: runs until `done()` or `limit` passes.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 5s);
  // Runs for `period` (to check that something does NOT happen).
  void run_for(std::chrono::milliseconds period);
  os::Clock::time_point now() const { return timers_.now(); }
  // Runs until the watch has delivered more than `seen` updates (or failed).
  bool await_update(const WatchLog& log, size_t seen, std::chrono::milliseconds limit = 3s);

  // Starts an operation and runs until its callback fires (bounded). A
  // callback that runs inline from the call is a test failure (catalog.h).
  template <class T>
  Result<T> call(const std::function<void(Callback<T>)>& start, std::chrono::milliseconds deadline = 5s);
  Result<void> add(const Instance& instance, Duration ttl = 30s, Catalog* on = nullptr);
  Result<std::vector<Instance>> list(const std::string& service, bool healthy_only = false);

  boost::asio::io_context io_;
  os::AsioTimers asio_timers_{io_};
  os::FakeTimers fake_timers_;
  os::Timers& timers_ = GetParam().uses_fake_time ? static_cast<os::Timers&>(fake_timers_) : asio_timers_;
  os::LinuxFiles files_{io_};
  log::Log log_;
  CatalogStore store_;
  std::unique_ptr<Catalog> catalog_;
};

template <class T>
Result<T> CatalogConformanceTest::call(const std::function<void(Callback<T>)>& start,
                                       std::chrono::milliseconds deadline) {
  std::optional<Result<T>> out;
  bool returned = false;
  start([&](Result<T> r) {
    if (!returned) ADD_FAILURE() << "catalog callback ran inline";
    out.emplace(std::move(r));
  });
  returned = true;
  if (!run_until([&] { return out.has_value(); }, deadline)) return make_error("timed out waiting for the catalog");
  return std::move(*out);
}

}  // namespace autopilot::discovery::conformance
