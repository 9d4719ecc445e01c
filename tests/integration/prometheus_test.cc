// A real Prometheus (Debian's) monitoring autopilots it finds through the
// catalog, the way the reference stack will monitor itself: two autopilots
// with telemetry register `containerpilot`; a third renders Prometheus'
// file_sd targets from that service with a template; Prometheus, started
// here on 127.0.0.1 with a temp data dir and stopped by its pid, scrapes
// both (asking for OpenMetrics, as it does) until every target is up, and
// queries return the gauge one of them sets through a v2 sensor and the
// gauge the other is given with `autopilot -putmetric` over its control
// socket.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "discovery/etcd/blocking_http.h"
#include "harness.h"

namespace autopilot::testing {
namespace {

using discovery::etcd::testing::free_port;
using discovery::etcd::testing::http_request;

nlohmann::json get_json(const std::string& base, const std::string& path) {
  auto r = http_request(base, "GET", path, {}, std::chrono::seconds(2));
  if (!r || r->status != 200) return nullptr;
  return nlohmann::json::parse(r->body, nullptr, false);
}

TEST(Prometheus, ScrapesTheAutopilotsItFindsThroughTheCatalog) {
  if (::access("/usr/bin/prometheus", X_OK) != 0) GTEST_SKIP() << "prometheus (Debian package) missing";
  TempDir dir;
  const std::string catalog = dir.path() + "/catalog";
  const int port_a = free_port(), port_b = free_port(), port_prom = free_port();

  // A: a v2 config whose sensor sets app_temperature_celsius.
  std::string a_config = dir.write("a.json", fmt::format(R"({{
    "telemetry": {{
      "port": {}, "interfaces": ["static:127.0.0.1"], "tags": ["a"],
      "sensors": [{{ "namespace": "app", "name": "temperature_celsius", "help": "temperature", "type": "gauge",
                     "poll": 1, "check": ["sh", "-c", "echo 21.5"] }}]
    }}
  }})", port_a));
  Process a({autopilot_bin(), "-config", a_config, "--discovery-dir", catalog, "sleep", "60"});
  // B: v3, a gauge that only the control socket sets.
  TempDir b_dir;
  Process b = run_autopilot(b_dir, fmt::format(R"({{
    discovery: {{ embedded: {{ dir: "{}" }} }},
    jobs: [ {{ name: "app", exec: ["sleep", "60"] }} ],
    telemetry: {{ port: {}, interfaces: ["static:127.0.0.1"], tags: ["b"],
                 metrics: [{{ namespace: "app", name: "queue_depth", help: "queued jobs", type: "gauge" }}] }},
    control: {{ socket: "{}/control.sock" }},
  }})", catalog, port_b, b_dir.path()));
  ASSERT_TRUE(a.wait_for("job containerpilot: registered")) << a.output();
  ASSERT_TRUE(b.wait_for("job containerpilot: registered")) << b.output();

  // C renders the targets file from the catalog.
  const std::string targets = dir.path() + "/targets.json";
  dir.write("targets.ctmpl",
            "[{\"labels\": {\"env\": \"test\"}, \"targets\": [{{ range $i, $s := service \"containerpilot\" }}"
            "{{ if $i }}, {{ end }}\"{{ $s.Address }}:{{ $s.Port }}\"{{ end }}]}]\n");
  TempDir c_dir;
  Process c = run_autopilot(c_dir, fmt::format(R"({{
    discovery: {{ embedded: {{ dir: "{}" }} }},
    jobs: [ {{ name: "idle", exec: ["sleep", "60"] }} ],
    templates: [ {{ name: "targets", source: "{}/targets.ctmpl", destination: "{}" }} ],
  }})", catalog, dir.path(), targets));
  ASSERT_TRUE(c.wait_until([&] {
    auto text = read_text(targets);
    return text.find(std::to_string(port_a)) != std::string::npos &&
           text.find(std::to_string(port_b)) != std::string::npos;
  })) << read_text(targets) << c.output();

  std::string prom_config = dir.write("prometheus.yml", fmt::format(R"(global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: autopilot
    file_sd_configs:
      - files: ["{}"]
        refresh_interval: 1s
)", targets));
  Process prom({"/usr/bin/prometheus", "--config.file=" + prom_config, "--storage.tsdb.path=" + dir.path() + "/data",
                fmt::format("--web.listen-address=127.0.0.1:{}", port_prom), "--log.level=warn"});
  const std::string base = fmt::format("http://127.0.0.1:{}", port_prom);

  nlohmann::json active;
  bool all_up = prom.wait_until([&] {
    auto j = get_json(base, "/api/v1/targets?state=active");
    if (j.is_null() || !j.contains("data")) return false;
    active = j["data"]["activeTargets"];
    if (!active.is_array() || active.size() != 2) return false;
    for (const auto& t : active)
      if (t.value("health", "") != "up") return false;
    return true;
  }, std::chrono::seconds(20));
  ASSERT_TRUE(all_up) << active.dump(1) << prom.output();
  std::vector<std::string> instances;
  for (const auto& t : active) instances.push_back(t["labels"]["instance"]);
  std::sort(instances.begin(), instances.end());
  std::vector<std::string> want{fmt::format("127.0.0.1:{}", port_a), fmt::format("127.0.0.1:{}", port_b)};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(instances, want);

  nlohmann::json result;
  ASSERT_TRUE(prom.wait_until([&] {
    auto j = get_json(base, "/api/v1/query?query=app_temperature_celsius");
    if (j.is_null() || !j.contains("data")) return false;
    result = j["data"]["result"];
    return result.is_array() && result.size() == 1;
  }, std::chrono::seconds(10))) << result.dump(1);
  EXPECT_EQ(result[0]["value"][1], "21.5") << result.dump(1);
  EXPECT_EQ(result[0]["metric"]["instance"], fmt::format("127.0.0.1:{}", port_a));
  EXPECT_EQ(result[0]["metric"]["env"], "test");

  // The CLI mirror, through B's control socket (found from its -config).
  Process put({autopilot_bin(), "-config", b_dir.path() + "/autopilot.json5", "-putmetric", "app_queue_depth=7.25"});
  auto put_exit = put.wait_exit();
  ASSERT_TRUE(put_exit && put_exit->code == 0) << put.output();
  ASSERT_TRUE(prom.wait_until([&] {
    auto j = get_json(base, "/api/v1/query?query=app_queue_depth");
    if (j.is_null() || !j.contains("data")) return false;
    result = j["data"]["result"];
    return result.is_array() && result.size() == 1 && result[0]["value"][1] == "7.25";
  }, std::chrono::seconds(10))) << result.dump(1) << b.output();
  EXPECT_EQ(result[0]["metric"]["instance"], fmt::format("127.0.0.1:{}", port_b));
  // Counters arrive whole through OpenMetrics (the family without _total, the sample with it).
  auto events = get_json(base, "/api/v1/query?query=containerpilot_events_total");
  ASSERT_FALSE(events.is_null());
  EXPECT_FALSE(events["data"]["result"].empty()) << events.dump(1);

  prom.signal(SIGTERM);
  EXPECT_TRUE(prom.wait_exit(std::chrono::seconds(10)));
  for (Process* p : {&a, &b, &c}) {
    p->signal(SIGTERM);
    EXPECT_TRUE(p->wait_exit()) << p->output();
  }
}

}  // namespace
}  // namespace autopilot::testing
