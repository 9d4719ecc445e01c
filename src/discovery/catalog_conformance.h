// The conformance suite every Catalog backend must pass. A backend's test
// instantiates it with a factory for fresh, empty stores:
//
//   INSTANTIATE_TEST_SUITE_P(Embedded, CatalogConformanceTest,
//                            ::testing::Values(embedded_backend()), backend_name);
//
// The tests run a real io_context with AsioTimers; waits are bounded
// (run_until) and never bare sleeps. Some tests open a second catalog on the
// same store (another "container") or fork a child that opens one (lock
// release on holder death), so CatalogStore::open must work several times
// per test and in a forked child. Test-only; linked into test binaries.
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
};

inline void PrintTo(const CatalogBackend& backend, std::ostream* os) { *os << backend.name; }
std::string backend_name(const ::testing::TestParamInfo<CatalogBackend>& info);

using testing::await_result;
using testing::ids_of;
using testing::make_instance;
using testing::run_for;
using testing::run_until;

class CatalogConformanceTest : public ::testing::TestWithParam<CatalogBackend> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Another catalog on the same store, on the same loop (another container).
  std::unique_ptr<Catalog> open_another() { return store_.open(io_, timers_, files_, log_); }

  template <class T>
  Result<T> call(const std::function<void(Callback<T>)>& start, std::chrono::milliseconds deadline = 5s) {
    return await_result<T>(io_, start, deadline);
  }
  Result<void> add(const Instance& instance, Duration ttl = 30s, Catalog* on = nullptr);
  Result<std::vector<Instance>> list(const std::string& service, bool healthy_only = false);

  boost::asio::io_context io_;
  os::AsioTimers timers_{io_};
  os::LinuxFiles files_{io_};
  log::Log log_;
  CatalogStore store_;
  std::unique_ptr<Catalog> catalog_;
};

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

}  // namespace autopilot::discovery::conformance
