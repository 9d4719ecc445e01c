#include "metrics/registry.h"

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
