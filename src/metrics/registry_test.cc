#include "metrics/registry.h"

#include "metrics/operator_metrics.h"
#include "metrics/record.h"

#include <cmath>

#include <gtest/gtest.h>

namespace autopilot::metrics {
namespace {

TEST(Registry, CounterAndGaugeWithLabelsSortedByNameAndValues) {
  Registry r;
  auto events = r.counter("containerpilot_events", "count of ContainerPilot events", {"code", "source"});
  ASSERT_TRUE(events);
  auto g = r.gauge("a_gauge", "a gauge");
  ASSERT_TRUE(g);
  (*events)->with({"StatusHealthy", "app"}).inc();
  (*events)->with({"ExitSuccess", "pre"}).inc();
  (*events)->with({"StatusHealthy", "app"}).inc();
  (*g)->get().set(-1.5);
  EXPECT_EQ(r.expose(),
            "# HELP a_gauge a gauge\n"
            "# TYPE a_gauge gauge\n"
            "a_gauge -1.5\n"
            "# HELP containerpilot_events count of ContainerPilot events\n"
            "# TYPE containerpilot_events counter\n"
            "containerpilot_events{code=\"ExitSuccess\",source=\"pre\"} 1\n"
            "containerpilot_events{code=\"StatusHealthy\",source=\"app\"} 2\n");
}

TEST(Registry, ALabelledFamilyWithoutSeriesIsNotWritten) {
  Registry r;
  ASSERT_TRUE(r.counter("c", "help", {"x"}));
  EXPECT_EQ(r.expose(), "");
}

TEST(Registry, EscapesHelpAndLabelValues) {
  Registry r;
  auto c = r.counter("c", "a \\ back\nslash \"quoted\"", {"v"});
  ASSERT_TRUE(c);
  (*c)->with({"a\\b\"c\nd"}).inc();
  EXPECT_EQ(r.expose(),
            "# HELP c a \\\\ back\\nslash \"quoted\"\n"
            "# TYPE c counter\n"
            "c{v=\"a\\\\b\\\"c\\nd\"} 1\n");
}

TEST(Registry, EmptyHelpWritesNoHelpLine) {
  Registry r;
  ASSERT_TRUE(r.gauge("g", ""));
  EXPECT_EQ(r.expose(), "# TYPE g gauge\ng 0\n");
}

TEST(Registry, HistogramWithDefaultBuckets) {
  Registry r;
  auto h = r.histogram("latency_seconds", "latency", {"op"});
  ASSERT_TRUE(h);
  auto& s = (*h)->with({"get"});
  s.observe(0.005);  // on a bound: counted in that bucket (le)
  s.observe(0.3);
  s.observe(42);  // past every bound: only +Inf
  EXPECT_EQ(r.expose(),
            "# HELP latency_seconds latency\n"
            "# TYPE latency_seconds histogram\n"
            "latency_seconds_bucket{op=\"get\",le=\"0.005\"} 1\n"
            "latency_seconds_bucket{op=\"get\",le=\"0.01\"} 1\n"
            "latency_seconds_bucket{op=\"get\",le=\"0.025\"} 1\n"
            "latency_seconds_bucket{op=\"get\",le=\"0.05\"} 1\n"
            "latency_seconds_bucket{op=\"get\",le=\"0.1\"} 1\n"
            "latency_seconds_bucket{op=\"get\",le=\"0.25\"} 1\n"
            "latency_seconds_bucket{op=\"get\",le=\"0.5\"} 2\n"
            "latency_seconds_bucket{op=\"get\",le=\"1\"} 2\n"
            "latency_seconds_bucket{op=\"get\",le=\"2.5\"} 2\n"
            "latency_seconds_bucket{op=\"get\",le=\"5\"} 2\n"
            "latency_seconds_bucket{op=\"get\",le=\"10\"} 2\n"
            "latency_seconds_bucket{op=\"get\",le=\"+Inf\"} 3\n"
            "latency_seconds_sum{op=\"get\"} 42.305\n"
            "latency_seconds_count{op=\"get\"} 3\n");
}

TEST(Registry, SummaryWithDefaultObjectives) {
  Registry r;
  auto s = r.summary("work_seconds", "work");
  ASSERT_TRUE(s);
  EXPECT_EQ(r.expose(),
            "# HELP work_seconds work\n"
            "# TYPE work_seconds summary\n"
            "work_seconds{quantile=\"0.5\"} NaN\n"
            "work_seconds{quantile=\"0.9\"} NaN\n"
            "work_seconds{quantile=\"0.99\"} NaN\n"
            "work_seconds_sum 0\n"
            "work_seconds_count 0\n");
  for (int i = 1; i <= 100; ++i) (*s)->get().observe(i);
  EXPECT_EQ(r.expose(),
            "# HELP work_seconds work\n"
            "# TYPE work_seconds summary\n"
            "work_seconds{quantile=\"0.5\"} 50\n"
            "work_seconds{quantile=\"0.9\"} 90\n"
            "work_seconds{quantile=\"0.99\"} 99\n"
            "work_seconds_sum 5050\n"
            "work_seconds_count 100\n");
}

TEST(Summary, KeepsABoundedWindowButCountsEverything) {
  Summary s;
  for (int i = 0; i < 3 * static_cast<int>(Summary::kWindow); ++i) s.observe(i < 2 * static_cast<int>(Summary::kWindow) ? 0 : 1);
  // Only the last window (all ones) is left for the quantiles.
  EXPECT_EQ(s.quantile(0.5), 1);
  EXPECT_EQ(s.quantile(0.99), 1);
  EXPECT_EQ(s.count(), 3 * Summary::kWindow);
  EXPECT_EQ(s.sum(), static_cast<double>(Summary::kWindow));
}

TEST(Counter, RefusesToDecrease) {
  Counter c;
  ASSERT_TRUE(c.add(2.5));
  auto r = c.add(-1);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "a counter cannot decrease (adding -1.000000)");
  EXPECT_FALSE(c.add(std::nan("")));
  EXPECT_EQ(c.value(), 2.5);
}

TEST(Registry, RunsScrapeCollectorsBeforeWriting) {
  Registry r;
  auto g = r.gauge("open_fds", "fds");
  ASSERT_TRUE(g);
  int calls = 0;
  r.on_scrape([&] { (*g)->get().set(++calls); });
  EXPECT_EQ(r.expose(), "# HELP open_fds fds\n# TYPE open_fds gauge\nopen_fds 1\n");
  EXPECT_EQ(r.expose(), "# HELP open_fds fds\n# TYPE open_fds gauge\nopen_fds 2\n");
}

TEST(Registry, RefusesBadNamesDuplicatesAndReservedLabels) {
  Registry r;
  ASSERT_TRUE(r.counter("ok:name_1", "h"));
  EXPECT_EQ(r.counter("ok:name_1", "h").error().message, "metric \"ok:name_1\" is already registered");
  EXPECT_EQ(r.gauge("1abc", "h").error().message,
            "invalid metric name \"1abc\": use letters, digits, _ and :, not starting with a digit");
  EXPECT_FALSE(r.gauge("a-b", "h"));
  EXPECT_FALSE(r.gauge("", "h"));
  EXPECT_EQ(r.gauge("g", "h", {"__x"}).error().message, "metric \"g\": invalid label name \"__x\"");
  EXPECT_FALSE(r.gauge("g", "h", {"a:b"}));
  EXPECT_EQ(r.gauge("g", "h", {"a", "a"}).error().message, "metric \"g\": label \"a\" given twice");
  EXPECT_EQ(r.histogram("h", "h", {"le"}).error().message, "metric \"h\": invalid label name \"le\"");
  EXPECT_FALSE(r.summary("s", "h", {"quantile"}));
  EXPECT_TRUE(r.gauge("s", "h", {"quantile"}));
  EXPECT_EQ(r.histogram("h2", "h", {}, {1, 1}).error().message,
            "metric \"h2\": bucket bounds must be finite and strictly increasing");
}

TEST(FormatValue, WritesPrometheusSpecials) {
  EXPECT_EQ(format_value(1.0 / 0.0), "+Inf");
  EXPECT_EQ(format_value(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(format_value(std::nan("")), "NaN");
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(0.1), "0.1");
  EXPECT_EQ(format_value(123456789), "123456789");
}

}  // namespace
}  // namespace autopilot::metrics

namespace autopilot::metrics {
namespace {

TEST(Registry, SampleValuesAreWrittenAsFormatValueWritesThem) {
  // The writer has a fast path for whole numbers; it must print what the
  // shortest round-trip form prints, on both sides of its limits.
  const double values[] = {0, -0.0, 1, -1, 3, 1024, 0.5, -2.25, 1e-7, 123456789, 99999999999999, 999999999999999,
                           1e15, -1e15, 1e16, 1e21, 4503599627370496.0, 0.1 + 0.2, 1.5e300, -7e-300};
  for (double v : values) {
    Registry r;
    auto g = r.gauge("g", "");
    ASSERT_TRUE(g);
    (*g)->get().set(v);
    EXPECT_EQ(r.expose(), "# TYPE g gauge\ng " + format_value(v) + "\n") << v;
  }
}

TEST(Registry, HistogramsWithDifferentBoundsKeepTheirOwnBucketLabels) {
  // Bucket labels are cached by bounds: two families with different bounds,
  // written one after the other, in both formats.
  Registry r;
  auto a = r.histogram("a", "", {}, {1, 2});
  auto b = r.histogram("b", "", {"k"}, {0.25});
  ASSERT_TRUE(a && b);
  (*a)->get().observe(1.5);
  (*b)->with({"x"}).observe(0.1);
  const std::string text = r.expose();
  EXPECT_NE(text.find("a_bucket{le=\"1\"} 0\na_bucket{le=\"2\"} 1\na_bucket{le=\"+Inf\"} 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("b_bucket{k=\"x\",le=\"0.25\"} 1\nb_bucket{k=\"x\",le=\"+Inf\"} 1\n"), std::string::npos)
      << text;
  const std::string om = r.expose(Format::kOpenMetrics);
  EXPECT_NE(om.find("a_bucket{le=\"1.0\"} 0\na_bucket{le=\"2.0\"} 1\n"), std::string::npos) << om;
  EXPECT_EQ(r.expose(), text) << "the text format again, after the OpenMetrics labels were built";
}

TEST(OperatorMetrics, RegistersEveryFamilyOnceAndEscapesLabelValuesFromConfig) {
  Registry r;
  auto m = OperatorMetrics::create(r);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_FALSE(OperatorMetrics::create(r)) << "the names are taken";
  EXPECT_EQ(r.expose(), "") << "families without series print nothing";
  (*m)->job_starts->with({"we\"ird\\job\n"}).inc();
  EXPECT_EQ(r.expose(),
            "# HELP autopilot_job_starts_total processes started, by job\n"
            "# TYPE autopilot_job_starts_total counter\n"
            "autopilot_job_starts_total{job=\"we\\\"ird\\\\job\\n\"} 1\n");
  for (const char* name :
       {"autopilot_job_exits_total", "autopilot_job_restarts_total", "autopilot_health_checks_total",
        "autopilot_health_check_duration_seconds", "autopilot_catalog_requests_total", "autopilot_catalog_errors_total",
        "autopilot_catalog_request_duration_seconds", "autopilot_watch_deliveries_total",
        "autopilot_template_renders_total", "autopilot_template_render_duration_seconds",
        "autopilot_template_command_failures_total", "autopilot_template_last_success_timestamp_seconds"})
    EXPECT_NE(r.find(name), nullptr) << name;
}

}  // namespace
}  // namespace autopilot::metrics

namespace autopilot::metrics {
namespace {

TEST(OpenMetrics, CountersAreFamiliesWithoutTotalBoundsAreCanonicalAndTheOutputEnds) {
  Registry r;
  (*r.counter("containerpilot_events", "events", {"code"}))->with({"Startup"}).inc();
  (*r.counter("jobs_total", "a \"quoted\" help"))->get().add(2).ok();
  (*r.gauge("temp", "temperature"))->get().set(1.5);
  auto h = r.histogram("latency_seconds", "", {}, {0.5, 1, 2});
  (*h)->get().observe(1);
  auto s = r.summary("work_seconds", "work");
  (*s)->get().observe(3);
  EXPECT_EQ(r.expose(Format::kOpenMetrics),
            "# HELP containerpilot_events events\n"
            "# TYPE containerpilot_events counter\n"
            "containerpilot_events_total{code=\"Startup\"} 1\n"
            "# HELP jobs a \\\"quoted\\\" help\n"
            "# TYPE jobs counter\n"
            "jobs_total 2\n"
            "# TYPE latency_seconds histogram\n"
            "latency_seconds_bucket{le=\"0.5\"} 0\n"
            "latency_seconds_bucket{le=\"1.0\"} 1\n"
            "latency_seconds_bucket{le=\"2.0\"} 1\n"
            "latency_seconds_bucket{le=\"+Inf\"} 1\n"
            "latency_seconds_sum 1\n"
            "latency_seconds_count 1\n"
            "# HELP temp temperature\n"
            "# TYPE temp gauge\n"
            "temp 1.5\n"
            "# HELP work_seconds work\n"
            "# TYPE work_seconds summary\n"
            "work_seconds{quantile=\"0.5\"} 3\n"
            "work_seconds{quantile=\"0.9\"} 3\n"
            "work_seconds{quantile=\"0.99\"} 3\n"
            "work_seconds_sum 3\n"
            "work_seconds_count 1\n"
            "# EOF\n");
  // The text format of the same registry is unchanged: names as registered, no EOF.
  std::string text = r.expose(Format::kText);
  EXPECT_NE(text.find("# TYPE containerpilot_events counter\ncontainerpilot_events{code=\"Startup\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("latency_seconds_bucket{le=\"1\"} 1\n"), std::string::npos);
  EXPECT_EQ(text.find("# EOF"), std::string::npos);
}

TEST(OpenMetrics, NegotiatedFromTheAcceptHeader) {
  EXPECT_EQ(negotiate_format(""), Format::kText);
  EXPECT_EQ(negotiate_format("text/plain;version=0.0.4"), Format::kText);
  EXPECT_EQ(negotiate_format("*/*"), Format::kText);
  EXPECT_EQ(negotiate_format("application/openmetrics-text"), Format::kOpenMetrics);
  // What Prometheus 2.42 sends.
  EXPECT_EQ(negotiate_format("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
                             "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
            Format::kOpenMetrics);
  EXPECT_EQ(negotiate_format("text/plain, Application/OpenMetrics-Text ; q=0.3"), Format::kOpenMetrics);
  EXPECT_EQ(negotiate_format("application/openmetrics-text;q=0, text/plain"), Format::kText);
}

}  // namespace
}  // namespace autopilot::metrics


namespace autopilot::metrics {
namespace {

TEST(Record, AddsSetsOrObservesByTypeAndRefusesWhatItCannot) {
  Registry r;
  auto c = *r.counter("c", "");
  auto g = *r.gauge("g", "");
  auto h = *r.histogram("h", "");
  auto s = *r.summary("s", "");
  (void)*r.counter("labelled", "", {"x"});
  ASSERT_TRUE(record_value(r, "c", 2));
  ASSERT_TRUE(record_value(r, "c", 3));
  ASSERT_TRUE(record_value(r, "g", 7));
  ASSERT_TRUE(record_value(r, "g", -1));
  ASSERT_TRUE(record_value(r, "h", 0.3));
  ASSERT_TRUE(record_value(r, "s", 4));
  EXPECT_EQ(c->get().value(), 5);
  EXPECT_EQ(g->get().value(), -1);
  EXPECT_EQ(h->get().count(), 1u);
  EXPECT_EQ(s->get().sum(), 4);
  EXPECT_FALSE(record_value(r, "c", -1)) << "a counter never decreases";
  EXPECT_EQ(c->get().value(), 5);
  EXPECT_FALSE(record_value(r, "nope", 1));
  EXPECT_FALSE(record_value(r, "labelled", 1));
}

TEST(Record, ParsesOneTrimmedNumberAsGoDoes) {
  EXPECT_EQ(parse_sample(" 42\n"), 42);
  EXPECT_EQ(parse_sample("-1.5e3"), -1500);
  EXPECT_TRUE(parse_sample("+Inf").has_value());
  EXPECT_TRUE(parse_sample("NaN").has_value());
  EXPECT_FALSE(parse_sample(""));
  EXPECT_FALSE(parse_sample("  \n"));
  EXPECT_FALSE(parse_sample("1 2"));
  EXPECT_FALSE(parse_sample("12ms"));
  EXPECT_FALSE(parse_sample("0x10"));
  EXPECT_FALSE(parse_sample("1\n2\n"));
}

}  // namespace
}  // namespace autopilot::metrics
