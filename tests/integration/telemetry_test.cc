// The telemetry endpoint of the real binary on 127.0.0.1: /metrics checked by
// Prometheus' own promtool (Debian's prometheus package), /status as JSON,
// other methods refused.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <regex>

#include "discovery/etcd/blocking_http.h"
#include "harness.h"

namespace autopilot::testing {
namespace {

using discovery::etcd::testing::free_port;
using discovery::etcd::testing::http_request;

struct Output {
  int status = -1;
  std::string text;
};

// Runs a shell command; its combined output and exit status.
Output run_shell(const std::string& command) {
  Output out;
  FILE* f = ::popen((command + " 2>&1").c_str(), "r");
  if (!f) return out;
  char buf[4096];
  size_t n;
  while ((n = ::fread(buf, 1, sizeof buf, f)) > 0) out.text.append(buf, n);
  int status = ::pclose(f);
  out.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

TEST(Telemetry, ServesMetricsThatPromtoolAcceptsAndStatus) {
  if (run_shell("command -v promtool").status != 0) GTEST_SKIP() << "promtool (Debian package prometheus) missing";
  TempDir dir;
  int port = free_port("127.0.0.1");
  auto p = run_autopilot(dir, fmt::format(R"({{
    jobs: [
      {{ name: "app", exec: ["sleep", "30"] }},
      {{ name: "pre", exec: "true" }},
    ],
    telemetry: {{
      port: {}, interfaces: ["static:127.0.0.1"],
      metrics: [
        {{ namespace: "app", name: "queries_total", help: "queries run", type: "counter" }},
        {{ namespace: "app", name: "connections", help: "open connections", type: "gauge" }},
        {{ namespace: "app", subsystem: "db", name: "latency_seconds", help: "query latency", type: "histogram" }},
        {{ namespace: "app", name: "work_seconds", help: "work \\ done\n\"here\"", type: "summary" }},
      ],
    }},
  }})", port));
  ASSERT_TRUE(p.wait_for(fmt::format("telemetry: serving /metrics and /status on 127.0.0.1:{}", port)))
      << p.output();
  const std::string base = fmt::format("http://127.0.0.1:{}", port);

  std::string metrics;
  ASSERT_TRUE(p.wait_until([&] {
    auto r = http_request(base, "GET", "/metrics");
    metrics = r ? r->body : "";
    return metrics.find("containerpilot_events{code=\"ExitSuccess\",source=\"pre\"} 1\n") != std::string::npos;
  })) << metrics;
  for (const char* line : {"# TYPE app_queries_total counter\n", "# TYPE app_connections gauge\n",
                           "app_db_latency_seconds_bucket{le=\"+Inf\"} 0\n",
                           "# HELP app_work_seconds work \\\\ done\\n\"here\"\n",
                           "containerpilot_events{code=\"Startup\",source=\"global\"} 1\n",
                           "# TYPE process_resident_memory_bytes gauge\n", "# TYPE process_cpu_seconds_total counter\n",
                           "# TYPE process_open_fds gauge\n", "# TYPE process_start_time_seconds gauge\n"})
    EXPECT_NE(metrics.find(line), std::string::npos) << line << " not in:\n" << metrics;

  std::string file = dir.write("metrics.prom", metrics);
  auto lint = run_shell("promtool check metrics < " + file);
  // ContainerPilot's name for the events counter, kept so that existing
  // dashboards work, is the one thing promtool's lint objects to; a format
  // error would be reported differently (status 1).
  EXPECT_EQ(lint.text, "containerpilot_events counter metrics should have \"_total\" suffix\n");
  EXPECT_EQ(lint.status, 3);

  auto status = http_request(base, "GET", "/status");
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_EQ(status->status, 200);
  EXPECT_EQ(std::regex_replace(status->body, std::regex(R"("Version":"[^"]*")"), R"("Version":"V")"),
            R"({"Version":"V","Jobs":[{"Name":"app","Status":"unknown"},{"Name":"pre","Status":"unknown"}],)"
            R"("Services":[],"Watches":[]})");
  auto post = http_request(base, "POST", "/status");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  auto missing = http_request(base, "GET", "/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);

  p.signal(SIGTERM);
  ASSERT_TRUE(p.wait_exit());
}

TEST(Telemetry, APortInUseStopsTheStartWithTheAddress) {
  TempDir dir;
  int port = free_port("127.0.0.1");
  auto first = run_autopilot(
      dir, fmt::format(R"({{ jobs: [{{ name: "a", exec: ["sleep", "30"] }}], telemetry: {{ port: {}, interfaces: "static:127.0.0.1" }} }})", port));
  ASSERT_TRUE(first.wait_for("telemetry: serving"));
  auto second = run_autopilot(
      dir, fmt::format(R"({{ jobs: [{{ name: "a", exec: ["sleep", "30"] }}], telemetry: {{ port: {}, interfaces: "static:127.0.0.1" }} }})", port));
  auto exit = second.wait_exit();
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->code, 1);
  EXPECT_TRUE(second.wait_seen(fmt::format("telemetry: listening on 127.0.0.1:{}: Address already in use", port)))
      << second.output();
  first.signal(SIGTERM);
  ASSERT_TRUE(first.wait_exit());
}

}  // namespace
}  // namespace autopilot::testing
