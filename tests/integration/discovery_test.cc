// Service discovery end to end: three autopilots, each on its own loopback
// address with a tiny HTTP app, register in one shared embedded catalog; a
// fourth watches them and runs hooks on `healthy` / `unhealthy`.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <regex>

#include "harness.h"

namespace autopilot::testing {
namespace {

// A port free on 127.0.0.11 (and, in practice, on .12 and .13).
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  ::inet_pton(AF_INET, "127.0.0.11", &addr.sin_addr);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string discovery_app_config(const std::string& catalog, const std::string& ip, int port) {
  return fmt::format(R"({{
  discovery: {{ embedded: {{ dir: "{0}" }} }},
  jobs: [{{
    name: "app", exec: ["{1}", "{2}", "{3}"], port: {3}, interfaces: ["static:{2}"],
    health: {{ http: "http://{2}:{3}/", interval: "500ms", ttl: "1500ms", timeout: "300ms" }},
  }}],
}})",
                     catalog, DEMO_APP, ip, port);
}

std::string discovery_watcher_config(const std::string& catalog) {
  return fmt::format(R"({{
  discovery: {{ embedded: {{ dir: "{0}" }} }},
  watches: [{{ name: "app", interval: 5 }}],
  jobs: [
    {{ name: "idle", exec: "sleep 3600" }},
    {{ name: "on-healthy", exec: "echo WATCH-HEALTHY", when: {{ source: "watch.app", each: "healthy" }} }},
    {{ name: "on-unhealthy", exec: "echo WATCH-UNHEALTHY", when: {{ source: "watch.app", each: "unhealthy" }} }},
  ],
}})",
                     catalog);
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

TEST(Discovery, ThreeAutopilotsAndAWatcher) {
  TempDir dir;
  std::string catalog = dir.path() + "/catalog";
  int port = free_port();
  auto set = [&](std::vector<std::string> ips) {
    std::string s = fmt::format("changed: {} healthy instances? \\[", ips.size());
    for (size_t i = 0; i < ips.size(); ++i) s += (i ? " " : "") + ips[i] + ":" + std::to_string(port);
    return s + "\\]";
  };
  TempDir wdir, adir, bdir, cdir;
  auto watcher = run_autopilot(wdir, discovery_watcher_config(catalog));
  auto a = run_autopilot(adir, discovery_app_config(catalog, "127.0.0.11", port));
  auto b = run_autopilot(bdir, discovery_app_config(catalog, "127.0.0.12", port));
  auto c = run_autopilot(cdir, discovery_app_config(catalog, "127.0.0.13", port));
  int a_app = demo_app_pid(a), b_app = demo_app_pid(b);
  ASSERT_GT(a_app, 0) << a.output() << watcher.output();
  ASSERT_GT(b_app, 0) << b.output();
  ASSERT_TRUE(c.wait_for("registered app-.*127.0.0.13")) << c.output();

  // All three show up at the watcher, which runs its `healthy` hook once.
  ASSERT_TRUE(watcher.wait_for(set({"127.0.0.11", "127.0.0.12", "127.0.0.13"}))) << watcher.output();
  ASSERT_TRUE(watcher.wait_seen("WATCH-HEALTHY")) << watcher.output();
  EXPECT_EQ(watcher.count("WATCH-HEALTHY"), 1) << watcher.output();

  // A hung app (SIGSTOP) fails its check within an interval plus the check
  // timeout; the watcher sees the instance leave. SIGCONT brings it back.
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(::kill(a_app, SIGSTOP), 0);
  ASSERT_TRUE(watcher.wait_for(set({"127.0.0.12", "127.0.0.13"}), 5s)) << watcher.output();
  double took = seconds_since(t0);
  EXPECT_LT(took, 0.5 + 0.3 + 0.5) << "one interval (0.5s) + check timeout (0.3s) + slack";
  EXPECT_TRUE(a.wait_for("check.app: unhealthy: timed out")) << a.output();
  ::kill(a_app, SIGCONT);
  ASSERT_TRUE(watcher.wait_for(set({"127.0.0.11", "127.0.0.12", "127.0.0.13"}), 5s)) << watcher.output();

  // kill -9 of a whole autopilot: its record stays until its TTL runs out.
  t0 = std::chrono::steady_clock::now();
  c.signal(SIGKILL);
  ASSERT_TRUE(c.wait_exit());
  ASSERT_TRUE(watcher.wait_for(set({"127.0.0.11", "127.0.0.12"}), 5s)) << watcher.output();
  took = seconds_since(t0);
  EXPECT_GT(took, 0.9) << "removed by expiry: ttl 1.5s minus at most one interval since the last heartbeat";
  EXPECT_LT(took, 1.5 + 1.0);

  // kill -9 of an app: its job (the main job) ends, so its autopilot
  // deregisters it and exits with the app's status.
  ASSERT_EQ(::kill(b_app, SIGKILL), 0);
  auto b_exit = b.wait_exit();
  ASSERT_TRUE(b_exit) << b.output();
  EXPECT_EQ(b_exit->code, 137) << b.output();
  EXPECT_GE(b.find("deregistered app-"), 0) << b.output();
  ASSERT_TRUE(watcher.wait_for(set({"127.0.0.11"}), 5s)) << watcher.output();

  // SIGTERM: the autopilot deregisters before its app gets SIGTERM, and the
  // watcher sees the last instance go (`unhealthy`).
  a.signal(SIGTERM);
  auto a_exit = a.wait_exit();
  ASSERT_TRUE(a_exit) << a.output();
  int deregistered = a.find("job app: deregistered app-");
  int app_termed = a.find("demo_app: got SIGTERM");
  ASSERT_GE(deregistered, 0) << a.output();
  ASSERT_GE(app_termed, 0) << a.output();
  EXPECT_LT(deregistered, app_termed) << a.output();
  EXPECT_EQ(a_exit->code, 0) << a.output();
  ASSERT_TRUE(watcher.wait_for("changed: 0 healthy instances", 5s)) << watcher.output();
  ASSERT_TRUE(watcher.wait_seen("WATCH-UNHEALTHY")) << watcher.output();
  EXPECT_EQ(watcher.count("WATCH-HEALTHY"), 1) << "the set was never empty before the end" << watcher.output();
  EXPECT_EQ(watcher.count("WATCH-UNHEALTHY"), 1) << watcher.output();
  watcher.signal(SIGTERM);
  ASSERT_TRUE(watcher.wait_exit());
}

// Another process holding catalog.lock (any user who can open it could)
// freezes only the catalog's writes: the loop goes on, periodic jobs run,
// and SIGTERM is handled at once (ContainerPilot-compatible stop).
TEST(Discovery, SigtermIsPromptWhileAnotherProcessHoldsTheCatalogLock) {
  TempDir dir;
  std::string catalog = dir.path() + "/catalog";
  ASSERT_EQ(::mkdir(catalog.c_str(), 0755), 0);
  Process holder({"flock", catalog + "/catalog.lock", "-c", "echo HOLDING; exec sleep 60"});
  ASSERT_TRUE(holder.wait_for("HOLDING")) << holder.output();
  // The deregistration of the app waits for the lock at most stopTimeout.
  auto autopilot = run_autopilot(dir, fmt::format(R"({{
  discovery: {{ embedded: {{ dir: "{0}" }} }},
  stopTimeout: 1,
  jobs: [
    {{ name: "app", exec: "sleep 60", port: 9999, interfaces: ["static:127.0.0.1"], health: {{ interval: "200ms", ttl: 2 }} }},
    {{ name: "tick", exec: "echo TICK", when: {{ interval: "100ms" }} }},
  ],
}})",
                                                  catalog));
  ASSERT_TRUE(autopilot.wait_for("catalog.lock is busy, held by pid [0-9]+ \\(flock\\)")) << autopilot.output();
  ASSERT_TRUE(autopilot.wait_for("TICK")) << autopilot.output();
  ASSERT_TRUE(autopilot.wait_for("TICK")) << "periodic jobs go on: " << autopilot.output();
  auto start = std::chrono::steady_clock::now();
  autopilot.signal(SIGTERM);
  auto exit = autopilot.wait_exit(10s);
  ASSERT_TRUE(exit.has_value()) << autopilot.output();
  EXPECT_LT(seconds_since(start), 4.0) << autopilot.output();
  EXPECT_EQ(autopilot.count("timed out"), 0) << autopilot.output();
}

}  // namespace
}  // namespace autopilot::testing
