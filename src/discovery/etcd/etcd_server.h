// Test support: real etcd servers (Debian's etcd-server, /usr/bin/etcd) for
// the tests and benchmarks that need one. Each member listens on 127.0.0.1
// (or a given address) with free ports, keeps its data under a fresh temp
// dir, logs to a file there, and is stopped by PID (SIGTERM, then SIGKILL)
// when the object is destroyed. Nothing here sleeps blindly: start() waits
// (bounded) until the member answers GET /health, or the cluster has a leader.
// Test-only (library autopilot_etcd_testing). Not thread-safe; blocking calls
// are fine here (tests call them outside the loop). The members are probed
// with the blocking HTTP client of blocking_http.h.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"

namespace autopilot::discovery::etcd::testing {

// True when /usr/bin/etcd (or `etcd` on PATH) exists; tests GTEST_SKIP
// otherwise, saying so (AUTOPILOT_SKIP_WITHOUT_ETCD), unless etcd_required().
bool etcd_available();
// AUTOPILOT_REQUIRE_ETCD=1 in the environment (scripts/test.sh, CI): a
// missing etcd fails the etcd tests instead of skipping them silently.
bool etcd_required();

// In a gtest body: skip when etcd is missing, or fail when it is required.
#define AUTOPILOT_SKIP_WITHOUT_ETCD()                                                             \
  do {                                                                                            \
    if (!::autopilot::discovery::etcd::testing::etcd_available()) {                               \
      if (::autopilot::discovery::etcd::testing::etcd_required())                                 \
        FAIL() << "etcd is not installed, and AUTOPILOT_REQUIRE_ETCD asks for the etcd tests";    \
      GTEST_SKIP() << "etcd is not installed (/usr/bin/etcd or on PATH)";                         \
    }                                                                                             \
  } while (0)

struct MemberSpec {
  std::string name;  // "m1"
  std::string address = "127.0.0.1";
  int client_port = 0;  // 0: pick a free one
  int peer_port = 0;    // 0: pick a free one
};

class EtcdCluster {
 public:
  // Starts `members` members (1 or 3 typically) on 127.0.0.1 and waits until
  // every member answers /health with a leader elected (bounded: 20 s).
  static Result<std::unique_ptr<EtcdCluster>> start(int members, const std::string& address = "127.0.0.1");
  // The same with explicit addresses, one per member (e.g. 127.0.0.21..23).
  static Result<std::unique_ptr<EtcdCluster>> start(const std::vector<std::string>& addresses);
  ~EtcdCluster();  // stops every member (SIGTERM, SIGKILL after 5 s), removes the data dir

  int size() const;
  // "http://127.0.0.1:PORT" of member i.
  std::string client_url(int i) const;
  std::vector<std::string> client_urls() const;
  pid_t pid(int i) const;  // 0 when not running
  bool running(int i) const;

  // SIGKILL member i and reap it.
  void kill(int i);
  // SIGTERM member i and wait for it to exit (bounded).
  void stop(int i);
  // Restarts a stopped or killed member with its data (--initial-cluster-state existing)
  // and waits until it answers /health (bounded).
  Result<void> restart(int i);
  // Restarts several stopped members at once (a cluster that lost quorum
  // needs them together before any is healthy), then waits for all.
  Result<void> restart(const std::vector<int>& members);
  // The index of the current leader (from /v3/maintenance/status of the
  // running members), or -1 when none is known; waits up to `wait` for one.
  int leader(std::chrono::milliseconds wait = std::chrono::seconds(10)) const;
  // The last lines of member i's log, for failure messages.
  std::string log_tail(int i, int lines = 30) const;

 private:
  struct Member;
  EtcdCluster() = default;
  // Forks and execs member i (fresh: --initial-cluster-state new, else existing).
  Result<void> spawn(int i, bool existing);
  // Waits until every member in `which` answers /health with {"health":"true"}.
  Result<void> wait_healthy(const std::vector<int>& which, std::chrono::steady_clock::time_point deadline);
  // Reaps member i if it has exited; true when it is not running.
  bool reap(int i) const;
  std::string etcd_;
  std::string dir_;
  std::string initial_cluster_;  // m1=http://...,m2=...
  std::string token_;            // --initial-cluster-token, unique per cluster
  std::vector<std::unique_ptr<Member>> members_;
};

}  // namespace autopilot::discovery::etcd::testing
