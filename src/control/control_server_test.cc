#include "control/control_server.h"

#include <stdlib.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "wiring/testing/fake_wiring.h"

namespace autopilot::control {
namespace {

using net::HttpRequest;
using net::HttpResponse;

HttpRequest post(std::string path, std::string body = {}) { return {"POST", path, path, std::move(body)}; }
HttpRequest get(std::string path) { return {"GET", path, path, {}}; }

// A server whose endpoints record what they were asked; never listening
// (handle() is called directly).
class ControlServerTest : public ::testing::Test {
 protected:
  ControlServerTest() {
    EXPECT_TRUE(w.metrics.counter("app_jobs_total", "jobs"));
    EXPECT_TRUE(w.metrics.gauge("app_queue", "queue"));
    EXPECT_TRUE(w.metrics.histogram("app_latency", "latency"));
    EXPECT_TRUE(w.metrics.summary("app_size", "size"));
    EXPECT_TRUE(w.metrics.counter("containerpilot_events", "built in", {"code", "source"}));
  }

  ControlServer& server() {
    if (!server_) {
      ControlOptions options{
          .reload = [this]() -> Result<void> {
            ++reloads;
            if (!reload_error.empty()) return make_error(reload_error);
            return {};
          },
          .set_maintenance = [this](bool enable) { maintenance.push_back(enable); },
          .putenv = [this](const std::map<std::string, std::string>& vars) { env.push_back(vars); },
          .status_json = [] { return std::string(R"({"Version":"v"})"); },
          .user_metrics = {"app_jobs_total", "app_queue", "app_latency", "app_size", "app_missing"}};
      ControlConfig config{.socket = dir_ + "/control.sock", .is_given = true};
      server_ = std::make_unique<ControlServer>(config, w.wiring(), std::move(options));
    }
    return *server_;
  }

  double gauge(const std::string& name) {
    return static_cast<metrics::Family<metrics::Gauge>*>(w.metrics.find(name))->get().value();
  }
  double counter(const std::string& name) {
    return static_cast<metrics::Family<metrics::Counter>*>(w.metrics.find(name))->get().value();
  }

  FakeWiring w;
  int reloads = 0;
  std::string reload_error;
  std::vector<bool> maintenance;
  std::vector<std::map<std::string, std::string>> env;

 private:
  std::string dir_ = [] {
    std::string tmpl = (std::filesystem::temp_directory_path() / "control_test.XXXXXX").string();
    return ::mkdtemp(tmpl.data()) ? tmpl : std::string();
  }();
  std::unique_ptr<ControlServer> server_;

 public:
  ~ControlServerTest() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
};

TEST_F(ControlServerTest, PingAnswersAnyMethod) {
  for (const char* method : {"GET", "POST", "HEAD"}) {
    auto r = server().handle({method, "/v3/ping", "/v3/ping", {}});
    EXPECT_EQ(r.status, 200) << method;
    EXPECT_EQ(r.body, "\n");
  }
}

TEST_F(ControlServerTest, ReloadReportsARefusedConfig) {
  EXPECT_EQ(server().handle(post("/v3/reload")).status, 200);
  reload_error = "c.json5:3:4: jobs[0]: unknown key \"exe\"";
  auto r = server().handle(post("/v3/reload"));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, R"({"error":"c.json5:3:4: jobs[0]: unknown key \"exe\""})" "\n");
  EXPECT_EQ(reloads, 2);
}

TEST_F(ControlServerTest, MaintenanceEnablesAndDisables) {
  EXPECT_EQ(server().handle(post("/v3/maintenance/enable")).status, 200);
  EXPECT_EQ(server().handle(post("/v3/maintenance/disable")).status, 200);
  EXPECT_EQ(maintenance, (std::vector<bool>{true, false}));
}

TEST_F(ControlServerTest, WrongMethodsAndPaths) {
  auto r = server().handle(get("/v3/reload"));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers, (std::vector<std::pair<std::string, std::string>>{{"Allow", "POST"}}));
  EXPECT_EQ(server().handle(get("/v3/maintenance/enable")).status, 405);
  EXPECT_EQ(server().handle(post("/v3/status")).status, 405);
  EXPECT_EQ(server().handle(post("/v3/maintenance")).status, 404);
  EXPECT_EQ(server().handle(post("/v3/env", "{}")).status, 404);  // ContainerPilot's docs' wrong name
  EXPECT_EQ(reloads, 0);
  EXPECT_TRUE(maintenance.empty());
}

TEST_F(ControlServerTest, EnvironTakesAnObjectOfStrings) {
  EXPECT_EQ(server().handle(post("/v3/environ", R"({"A":"1","B":"x=y","C":null})")).status, 200);
  ASSERT_EQ(env.size(), 1u);
  EXPECT_EQ(env[0], (std::map<std::string, std::string>{{"A", "1"}, {"B", "x=y"}, {"C", ""}}));
}

TEST_F(ControlServerTest, EnvironRefusesWhatIsNotAnObjectOfStrings) {
  auto error = [&](const std::string& body) {
    auto r = server().handle(post("/v3/environ", body));
    EXPECT_EQ(r.status, 422) << body;
    return r.body;
  };
  EXPECT_EQ(error(R"({"A":1})"), R"({"error":"the value of \"A\" must be a string, not number"})" "\n");
  EXPECT_EQ(error(R"(["A"])"), R"({"error":"the body must be a JSON object, not array"})" "\n");
  EXPECT_EQ(error(R"({"A=B":"x"})"), R"({"error":"\"A=B\" is not an environment variable name"})" "\n");
  EXPECT_EQ(error(R"({"":"x"})"), R"({"error":"\"\" is not an environment variable name"})" "\n");
  EXPECT_EQ(error(R"({"A":"1","B":2})").substr(0, 10), R"({"error":")");
  EXPECT_EQ(error("{A:"),
            R"({"error":"invalid JSON: parse error at line 1, column 2: syntax error while parsing object key - )"
            R"(invalid literal; last read: '{A'; expected string literal"})" "\n");
  EXPECT_EQ(error(""), R"({"error":"invalid JSON: parse error at line 1, column 1: syntax error while parsing )"
                       R"(value - unexpected end of input; expected '[', '{', or a literal"})" "\n");
  EXPECT_TRUE(env.empty()) << "a refused request set something";
}

// Found by fuzz/http_fuzz (fuzz/findings/http_fuzz/crash-94fa…): nlohmann
// throws out_of_range, not parse_error, for a number beyond a double; it
// escaped the handler and ended the process.
TEST_F(ControlServerTest, ANumberBeyondADoubleIsInvalidJsonNotACrash) {
  for (const char* path : {"/v3/metric", "/v3/environ"}) {
    auto r = server().handle(post(path, R"({"app_jobs_total":21e308})"));
    EXPECT_EQ(r.status, 422) << path;
    EXPECT_EQ(r.body, R"({"error":"invalid JSON: number overflow parsing '21e308'"})" "\n") << path;
  }
  EXPECT_EQ(counter("app_jobs_total"), 0);
  EXPECT_TRUE(env.empty());
}

TEST_F(ControlServerTest, MetricUpdatesEachKindAsContainerPilot) {
  auto r = server().handle(post("/v3/metric", R"({"app_jobs_total":2,"app_queue":"7.5 ","app_latency":0.3,)"
                                              R"("app_size":"12"})"));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(server().handle(post("/v3/metric", R"({"app_jobs_total":"1","app_queue":-3})")).status, 200);
  EXPECT_EQ(counter("app_jobs_total"), 3);
  EXPECT_EQ(gauge("app_queue"), -3);
  auto* h = static_cast<metrics::Family<metrics::Histogram>*>(w.metrics.find("app_latency"));
  EXPECT_EQ(h->get().count(), 1u);
  EXPECT_EQ(h->get().sum(), 0.3);
  auto* s = static_cast<metrics::Family<metrics::Summary>*>(w.metrics.find("app_size"));
  EXPECT_EQ(s->get().sum(), 12);
}

TEST_F(ControlServerTest, MetricRefusesUnknownNamesBadValuesAndDecreasingCountersAndSetsNothing) {
  auto error = [&](const std::string& body) {
    auto r = server().handle(post("/v3/metric", body));
    EXPECT_EQ(r.status, 422) << body;
    return r.body;
  };
  EXPECT_EQ(error(R"({"app_queue":5,"app_jobs_total":-1})"),
            R"x({"error":"counter \"app_jobs_total\" cannot decrease (adding -1)"})x" "\n");
  EXPECT_EQ(error(R"({"app_queue":5,"nope":1})"),
            R"x({"error":"unknown metric \"nope\" (only the metrics of the config's telemetry block)"})x" "\n");
  // A built-in metric, and a user metric the registry does not have.
  EXPECT_EQ(error(R"({"containerpilot_events":1})").substr(0, 34), R"({"error":"unknown metric \"contain)");
  EXPECT_EQ(error(R"({"app_missing":1})").substr(0, 34), R"({"error":"unknown metric \"app_mis)");
  EXPECT_EQ(error(R"({"app_queue":"many"})"), R"({"error":"the value of \"app_queue\" must be a number, not \"many\""})" "\n");
  EXPECT_EQ(error(R"({"app_queue":true})"), R"({"error":"the value of \"app_queue\" must be a number, not true"})" "\n");
  EXPECT_EQ(error(R"({"app_queue":"5x"})").substr(0, 9), R"({"error":)");
  // The sensors' rule (Go's ParseFloat): no hexadecimal floats, no empty text.
  EXPECT_EQ(error(R"({"app_queue":"0x10"})"), R"({"error":"the value of \"app_queue\" must be a number, not \"0x10\""})" "\n");
  EXPECT_EQ(error(R"({"app_queue":"  "})").substr(0, 9), R"({"error":)");
  EXPECT_EQ(error("[1]"), R"({"error":"the body must be a JSON object, not array"})" "\n");
  EXPECT_EQ(gauge("app_queue"), 0) << "a refused request set something";
  EXPECT_EQ(counter("app_jobs_total"), 0);
}

TEST_F(ControlServerTest, StatusIsTheJsonItIsGiven) {
  auto r = server().handle(get("/v3/status"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, R"({"Version":"v"})");
}

TEST_F(ControlServerTest, CountsRequestsToKnownPathsByCodeAndPath) {
  ASSERT_TRUE(server().start());  // registers the counter
  server().handle(get("/v3/ping"));
  server().handle(get("/v3/ping"));
  server().handle(post("/v3/metric", "{"));
  server().handle(get("/v3/reload"));
  server().handle(get("/v3/made-up"));
  auto text = w.metrics.expose();
  EXPECT_NE(text.find("# TYPE containerpilot_control_http_requests counter\n"
                      "containerpilot_control_http_requests{code=\"200\",path=\"/v3/ping\"} 2\n"
                      "containerpilot_control_http_requests{code=\"405\",path=\"/v3/reload\"} 1\n"
                      "containerpilot_control_http_requests{code=\"422\",path=\"/v3/metric\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("made-up"), std::string::npos);
}

}  // namespace
}  // namespace autopilot::control
