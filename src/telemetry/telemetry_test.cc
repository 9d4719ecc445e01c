#include "telemetry/telemetry.h"

#include <gtest/gtest.h>

#include "telemetry/process_metrics.h"
#include "wiring/testing/fake_wiring.h"

namespace autopilot::telemetry {
namespace {

TelemetryConfig local_config() {
  TelemetryConfig c;
  c.port = 0;
  c.address = "127.0.0.1";
  c.metrics = {{"app_queries", "queries run", metrics::Type::kCounter}};
  return c;
}

TEST(Telemetry, CountsEveryDeliveredEventByCodeAndSource) {
  FakeWiring w;
  Telemetry t(local_config(), w.wiring(), {.version = "1.2.3"});
  ASSERT_TRUE(t.start());
  w.bus.publish({events::Code::kStartup, events::Source::global()});
  w.bus.publish({events::Code::kExitSuccess, events::Source::job("pre")});
  w.settle();
  w.bus.publish({events::Code::kExitSuccess, events::Source::job("pre")});
  w.settle();
  auto body = t.handle({"GET", "/metrics", "/metrics"}).body;
  EXPECT_NE(body.find("# TYPE containerpilot_events counter\n"
                      "containerpilot_events{code=\"ExitSuccess\",source=\"pre\"} 2\n"
                      "containerpilot_events{code=\"Startup\",source=\"global\"} 1\n"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find("autopilot_build_info{version=\"1.2.3\"} 1\n"), std::string::npos) << body;
  EXPECT_NE(body.find("# HELP app_queries queries run\n# TYPE app_queries counter\napp_queries 0\n"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find("process_open_fds "), std::string::npos) << body;
}

// The instances of `service` in the fake catalog, healthy or not.
std::vector<discovery::Instance> listed(FakeWiring& w, const std::string& service) {
  std::vector<discovery::Instance> out;
  w.catalog.list(service, false, [&](Result<std::vector<discovery::Instance>> r) {
    if (r) out = *r;
  });
  w.settle();
  return out;
}

TEST(Telemetry, RegistersItsEndpointHeartbeatsAndWithdraws) {
  FakeWiring w;
  TelemetryConfig c = local_config();
  c.tags = {"dev"};
  c.node = "host";
  Telemetry t(c, w.wiring(), {.version = "v"});
  ASSERT_TRUE(t.start());
  w.settle();
  auto instances = listed(w, "containerpilot");
  ASSERT_EQ(instances.size(), 1u);
  EXPECT_EQ(instances[0].address, "127.0.0.1");
  EXPECT_EQ(instances[0].port, t.port());
  EXPECT_EQ(instances[0].tags, std::vector<std::string>{"dev"});
  EXPECT_EQ(instances[0].status, discovery::Status::kPassing);
  EXPECT_EQ(instances[0].id, "containerpilot-host-127.0.0.1:" + std::to_string(t.port()));

  // Heartbeats every 5 s keep the 15 s record alive well past its TTL.
  w.timers.advance(std::chrono::seconds(60));
  EXPECT_EQ(listed(w, "containerpilot").size(), 1u);

  // Gone from the catalog (expired, catalog restarted): registered again.
  w.expect_ok([&](auto done) { w.catalog.deregister(instances[0].id, done); });
  EXPECT_TRUE(listed(w, "containerpilot").empty());
  w.timers.advance(std::chrono::seconds(5));
  EXPECT_EQ(listed(w, "containerpilot").size(), 1u);

  bool withdrawn = false;
  t.withdraw(std::chrono::seconds(5), [&] { withdrawn = true; });
  w.settle();
  EXPECT_TRUE(withdrawn);
  EXPECT_TRUE(listed(w, "containerpilot").empty());
}

TEST(Telemetry, WithoutACatalogNothingRegistersAndWithdrawIsImmediate) {
  FakeWiring w;
  TelemetryConfig c = local_config();
  c.service_name = "metrics";
  Telemetry t(c, w.wiring(nullptr), {.version = "v"});
  ASSERT_TRUE(t.start());
  EXPECT_EQ(t.registration(), nullptr);
  bool withdrawn = false;
  t.withdraw(std::chrono::seconds(5), [&] { withdrawn = true; });
  EXPECT_TRUE(withdrawn);
}

TEST(Telemetry, WatchInstancesAreReadWhenScraped) {
  FakeWiring w;
  std::vector<std::pair<std::string, size_t>> seen{{"db", 2}};
  Telemetry t(local_config(), w.wiring(), {.version = "v", .watch_instances = [&] { return seen; }});
  ASSERT_TRUE(t.start());
  auto scrape = [&] { return t.handle({"GET", "/metrics", "/metrics"}).body; };
  EXPECT_NE(scrape().find("containerpilot_watch_instances{service=\"db\"} 2\n"), std::string::npos);
  seen = {{"cache", 1}};
  auto body = scrape();
  EXPECT_NE(body.find("containerpilot_watch_instances{service=\"cache\"} 1\n"), std::string::npos);
  EXPECT_EQ(body.find("service=\"db\""), std::string::npos) << "a watch no longer there is no longer shown";
}

TEST(Telemetry, AnswersStatusMetricsAndRefusesOtherMethodsAndPaths) {
  FakeWiring w;
  StatusReport report;
  report.jobs = {{"pre", "unknown"}};
  report.services = {{"web", "10.0.0.7", 80, "healthy"}};
  report.watches = {"db"};
  Telemetry t(local_config(), w.wiring(), {.version = "1.2.3", .status = [&] { return report; }});
  ASSERT_TRUE(t.start());
  auto status = t.handle({"GET", "/status", "/status"});
  EXPECT_EQ(status.status, 200);
  EXPECT_EQ(status.content_type, "application/json");
  EXPECT_EQ(status.body,
            R"({"Version":"1.2.3","Jobs":[{"Name":"pre","Status":"unknown"}],)"
            R"("Services":[{"Name":"web","Address":"10.0.0.7","Port":80,"Status":"healthy"}],"Watches":["db"]})");
  auto metrics = t.handle({"GET", "/metrics?x=1", "/metrics"});
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.content_type, "text/plain; version=0.0.4; charset=utf-8");
  auto open_metrics = t.handle({"GET", "/metrics", "/metrics", "", "application/openmetrics-text;version=1.0.0,*/*;q=0.1"});
  EXPECT_EQ(open_metrics.content_type, "application/openmetrics-text; version=1.0.0; charset=utf-8");
  EXPECT_TRUE(open_metrics.body.ends_with("\n# EOF\n")) << open_metrics.body;
  EXPECT_NE(open_metrics.body.find("# TYPE process_cpu_seconds counter\nprocess_cpu_seconds_total "), std::string::npos)
      << open_metrics.body;
  EXPECT_EQ(t.handle({"GET", "/metrics", "/metrics", "", "text/plain"}).content_type, metrics::kTextContentType);
  auto post = t.handle({"POST", "/status", "/status"});
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.headers, (std::vector<std::pair<std::string, std::string>>{{"Allow", "GET"}}));
  EXPECT_EQ(t.handle({"DELETE", "/metrics", "/metrics"}).status, 405);
  EXPECT_EQ(t.handle({"GET", "/v3/ping", "/v3/ping"}).status, 404);
}

TEST(Telemetry, StartFailsOnAMetricNameTakenTwice) {
  FakeWiring w;
  ASSERT_TRUE(w.metrics.counter("app_queries", "already here"));
  Telemetry t(local_config(), w.wiring(), {.version = "v"});
  auto r = t.start();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "metric \"app_queries\" is already registered");
}

TEST(ProcessMetrics, ParsesProcStat) {
  // A command name with spaces and a parenthesis, as the kernel writes it.
  std::string stat =
      "42 (my (app) x) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 1000 10000000 300 "
      "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0";
  auto s = parse_proc_stat(stat, 100, 1'700'000'000, 4096);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->cpu_seconds, 3.0);
  EXPECT_EQ(s->start_time, 1'700'000'010.0);
  EXPECT_EQ(s->resident_bytes, 300.0 * 4096);
  EXPECT_FALSE(parse_proc_stat("garbage", 100, 0, 4096));
}

}  // namespace
}  // namespace autopilot::telemetry
