// The telemetry endpoint of the real binary on 127.0.0.1: /metrics checked by
// Prometheus' own promtool (Debian's prometheus package), /status as JSON,
// other methods refused.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <nlohmann/json.hpp>
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

  // OpenMetrics when the scraper asks for it (Prometheus' own Accept header):
  // the content type with its version, and a body the Python client's strict
  // OpenMetrics parser reads whole (counters as families without _total, # EOF).
  auto om = run_shell(fmt::format(
      "curl -sS -D '{0}/om-headers' -o '{0}/om.txt' -H 'Accept: application/openmetrics-text;version=1.0.0,"
      "application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1' {1}/metrics",
      dir.path(), base));
  ASSERT_EQ(om.status, 0) << om.text;
  EXPECT_NE(read_text(dir.path() + "/om-headers")
                .find("Content-Type: application/openmetrics-text; version=1.0.0; charset=utf-8\r\n"),
            std::string::npos)
      << read_text(dir.path() + "/om-headers");
  std::string om_text = read_text(dir.path() + "/om.txt");
  EXPECT_TRUE(om_text.ends_with("\n# EOF\n")) << om_text;
  EXPECT_NE(om_text.find("# TYPE containerpilot_events counter\ncontainerpilot_events_total{"), std::string::npos)
      << om_text;
  EXPECT_NE(om_text.find("# TYPE app_queries counter\napp_queries_total 0\n"), std::string::npos) << om_text;
  if (run_shell("/usr/bin/python3 -c 'import prometheus_client.openmetrics.parser'").status == 0) {
    auto parsed = run_shell(fmt::format(
        "/usr/bin/python3 -c 'import sys; from prometheus_client.openmetrics.parser import "
        "text_string_to_metric_families as p; fams = list(p(open(sys.argv[1]).read())); "
        "print(sorted(f.name + \":\" + f.type for f in fams if f.name.startswith(\"app_\")))' '{}/om.txt'",
        dir.path()));
    EXPECT_EQ(parsed.status, 0) << parsed.text;
    EXPECT_EQ(parsed.text,
              "['app_connections:gauge', 'app_db_latency_seconds:histogram', 'app_queries:counter', "
              "'app_work_seconds:summary']\n");
  } else {
    ADD_FAILURE() << "python3-prometheus-client (scripts/install-deps.sh) is missing: OpenMetrics not parsed";
  }

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

TEST(Telemetry, OperatorMetricsOfEveryAreaPassPromtool) {
  if (run_shell("command -v promtool").status != 0) GTEST_SKIP() << "promtool (Debian package prometheus) missing";
  TempDir dir;
  int port = free_port("127.0.0.1");
  dir.write("web.ctmpl", "{{ range service \"web\" }}{{ .Address }}:{{ .Port }}\n{{ end }}");
  auto p = run_autopilot(dir, fmt::format(R"({{
    discovery: {{ embedded: {{ dir: "{0}/catalog" }} }},
    jobs: [
      {{ name: "web", exec: ["sleep", "30"], port: 8080, interfaces: ["static:127.0.0.1"],
         health: {{ exec: "true", interval: "200ms", ttl: 2 }} }},
      {{ name: "flaky", exec: ["sh", "-c", "exit 3"], restarts: 1 }},
    ],
    watches: [ {{ name: "web", interval: 5 }} ],
    templates: [ {{ name: "web", source: "{0}/web.ctmpl", destination: "{0}/web.conf" }} ],
    telemetry: {{ port: {1}, interfaces: ["static:127.0.0.1"] }},
  }})", dir.path(), port));
  const std::string base = fmt::format("http://127.0.0.1:{}", port);
  std::string metrics;
  // Each area has counted by the time the template holds the registered instance.
  ASSERT_TRUE(p.wait_until([&] {
    auto r = http_request(base, "GET", "/metrics");
    metrics = r ? r->body : "";
    return metrics.find("autopilot_template_renders_total{template=\"web\",result=\"written\"}") != std::string::npos &&
           metrics.find("autopilot_job_exits_total{job=\"flaky\",status=\"failure\"} 2\n") != std::string::npos;
  })) << metrics << p.output();
  for (const char* line :
       {"autopilot_job_starts_total{job=\"flaky\"} 2\n", "autopilot_job_exits_total{job=\"flaky\",status=\"failure\"} 2\n",
        "autopilot_health_checks_total{job=\"web\",result=\"healthy\"} ", "# TYPE autopilot_health_check_duration_seconds histogram\n",
        "autopilot_catalog_requests_total{operation=\"register\"} ", "autopilot_catalog_requests_total{operation=\"watch_service\"} ",
        "# TYPE autopilot_catalog_request_duration_seconds histogram\n", "autopilot_watch_deliveries_total{watch=\"web\"} ",
        "# TYPE autopilot_template_render_duration_seconds histogram\n",
        "autopilot_template_last_success_timestamp_seconds{template=\"web\"} "})
    EXPECT_NE(metrics.find(line), std::string::npos) << line << " not in:\n" << metrics;
  std::string file = dir.write("metrics.prom", metrics);
  auto lint = run_shell("promtool check metrics < " + file);
  EXPECT_EQ(lint.text, "containerpilot_events counter metrics should have \"_total\" suffix\n");
  EXPECT_EQ(lint.status, 3);
  p.signal(SIGTERM);
  ASSERT_TRUE(p.wait_exit());
}

// `autopilot catalog service NAME --all` on the embedded catalog at `catalog`: its JSON.
nlohmann::json catalog_instances(const std::string& catalog, const std::string& service) {
  auto out = run_shell(fmt::format("'{}' catalog service {} --all --discovery-dir '{}' 2>/dev/null", autopilot_bin(),
                                   service, catalog));
  if (out.status != 0) return nullptr;
  return nlohmann::json::parse(out.text, nullptr, false);
}

TEST(Telemetry, RegistersAsContainerpilotAndLeavesOnSigterm) {
  TempDir dir;
  std::string catalog = dir.path() + "/catalog";
  int port = free_port("127.0.0.1");
  // Nothing else needs the catalog: naming it is what makes the endpoint register.
  auto p = run_autopilot(dir, fmt::format(R"({{
    discovery: {{ embedded: {{ dir: "{}" }} }},
    jobs: [ {{ name: "app", exec: ["sleep", "30"] }} ],
    telemetry: {{ port: {}, interfaces: ["static:127.0.0.1"], tags: ["prod", "eu"] }},
  }})", catalog, port));
  ASSERT_TRUE(p.wait_for("job containerpilot: registered")) << p.output();
  auto instances = catalog_instances(catalog, "containerpilot");
  ASSERT_TRUE(instances.is_array() && instances.size() == 1) << instances.dump() << p.output();
  const auto& i = instances[0];
  EXPECT_EQ(i.at("address"), "127.0.0.1");
  EXPECT_EQ(i.at("port"), port);
  EXPECT_EQ(i.at("status"), "passing");
  EXPECT_EQ(i.at("tags"), nlohmann::json::array({"prod", "eu"}));

  p.signal(SIGTERM);
  ASSERT_TRUE(p.wait_exit()) << p.output();
  EXPECT_GE(p.find("job containerpilot: deregistered"), 0) << p.output();
  EXPECT_EQ(catalog_instances(catalog, "containerpilot"), nlohmann::json::array());
}

TEST(Telemetry, TheServiceNameIsConfigurableAndNoCatalogMeansNoRegistration) {
  TempDir dir;
  std::string catalog = dir.path() + "/catalog";
  int port = free_port("127.0.0.1");
  auto named = run_autopilot(dir, fmt::format(R"({{
    discovery: {{ embedded: {{ dir: "{}" }} }},
    jobs: [ {{ name: "app", exec: ["sleep", "30"] }} ],
    telemetry: {{ name: "metrics-web", port: {}, interfaces: ["static:127.0.0.1"] }},
  }})", catalog, port));
  ASSERT_TRUE(named.wait_for("job metrics-web: registered")) << named.output();
  auto instances = catalog_instances(catalog, "metrics-web");
  ASSERT_TRUE(instances.is_array() && instances.size() == 1) << instances.dump();
  EXPECT_EQ(instances[0].at("port"), port);
  named.signal(SIGTERM);
  ASSERT_TRUE(named.wait_exit());

  // Without a catalog named (and nothing else needing one) nothing registers.
  TempDir other;
  auto plain = run_autopilot(other, fmt::format(R"({{
    jobs: [ {{ name: "app", exec: ["sleep", "30"] }} ],
    telemetry: {{ port: {}, interfaces: ["static:127.0.0.1"] }},
  }})", free_port("127.0.0.1")));
  ASSERT_TRUE(plain.wait_for("telemetry: serving")) << plain.output();
  plain.signal(SIGTERM);
  ASSERT_TRUE(plain.wait_exit());
  EXPECT_LT(plain.find("registered"), 0) << plain.output();
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
