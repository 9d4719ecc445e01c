// The control socket of the real binary: every endpoint and bad input with
// curl --unix-socket, the socket file's mode and what happens to what is
// already at its path, and the CLI mirrors (-maintenance against the
// embedded catalog's healthy list, -reload against a changed config,
// -putenv against a later job, -putmetric against /metrics).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "discovery/etcd/blocking_http.h"
#include "harness.h"

namespace autopilot::testing {
namespace {

using discovery::etcd::testing::free_port;
using discovery::etcd::testing::http_request;

struct Ran {
  int code = -1;
  std::string output;
};

Ran run(std::vector<std::string> argv) {
  Process p(std::move(argv));
  auto exit = p.wait_exit();
  return {exit ? exit->code : -1, p.output()};
}

// `autopilot ARGS...` with the config of `dir`.
Ran cli(const TempDir& dir, std::vector<std::string> args) {
  std::vector<std::string> argv{autopilot_bin(), "-config", dir.path() + "/autopilot.json5"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(std::move(argv));
}

struct Reply {
  int status = -1;
  std::string body;
};

// One request with curl over the unix socket; the body from a file, so
// that a large one fits on no command line.
Reply curl(const TempDir& dir, const std::string& method, const std::string& path, const std::string& body = "",
           const std::string& header = "X-Test: 1") {
  std::string file = dir.write("body", body);
  auto ran = run({"curl", "-sS", "--unix-socket", dir.path() + "/control.sock", "-X", method, "--data-binary",
                  "@" + file, "-H", header, "-w", "\nSTATUS=%{http_code}", "http://control" + path});
  std::smatch m;
  static const std::regex kStatus("\nSTATUS=(\\d+)$");
  if (!std::regex_search(ran.output, m, kStatus)) return {-1, ran.output};
  return {std::stoi(m[1]), ran.output.substr(0, static_cast<size_t>(m.position(0)))};
}

std::string control_config(const TempDir& dir, const std::string& rest) {
  return fmt::format(R"({{
  control: {{ socket: "{}/control.sock" }},
  {}
}})",
                     dir.path(), rest);
}

std::string telemetry_config(const TempDir& dir, int port) {
  return control_config(dir, fmt::format(R"(
  jobs: [{{ name: "app", exec: ["sleep", "60"] }}],
  telemetry: {{
    port: {}, interfaces: ["static:127.0.0.1"],
    metrics: [
      {{ name: "hits_total", help: "hits", type: "counter" }},
      {{ name: "temperature", help: "degrees", type: "gauge" }},
      {{ name: "latency_seconds", help: "latency", type: "histogram" }},
    ],
  }},)",
                                         port));
}

TEST(Control, EveryEndpointAndEveryBadInputOverTheSocket) {
  TempDir dir;
  int port = free_port("127.0.0.1");
  auto p = run_autopilot(dir, telemetry_config(dir, port));
  ASSERT_TRUE(p.wait_for("control: serving the control API on .*/control.sock")) << p.output();
  struct stat st {};
  ASSERT_EQ(::lstat((dir.path() + "/control.sock").c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto ok = [&](const std::string& method, const std::string& path, const std::string& body = "") {
    auto r = curl(dir, method, path, body);
    EXPECT_EQ(r.status, 200) << method << " " << path << ": " << r.body;
    EXPECT_EQ(r.body, "\n") << method << " " << path;
  };
  ok("GET", "/v3/ping");
  ok("POST", "/v3/metric", R"({"hits_total": 2, "temperature": "21.5", "latency_seconds": 0.2})");
  ok("POST", "/v3/environ", R"({"GREETING": "hello", "EMPTY": null})");
  ok("POST", "/v3/maintenance/enable");
  ok("POST", "/v3/maintenance/disable");
  ok("POST", "/v3/reload");
  auto status = curl(dir, "GET", "/v3/status");
  EXPECT_EQ(status.status, 200);
  auto json = nlohmann::json::parse(status.body, nullptr, false);
  ASSERT_TRUE(json.is_object()) << status.body;
  EXPECT_EQ(json["Jobs"], nlohmann::json::parse(R"([{"Name":"app","Status":"unknown"}])")) << status.body;

  auto refused = [&](int code, const std::string& method, const std::string& path, const std::string& body,
                     const std::string& message) {
    auto r = curl(dir, method, path, body);
    EXPECT_EQ(r.status, code) << method << " " << path << " " << body.substr(0, 80);
    EXPECT_NE(r.body.find(message), std::string::npos) << r.body.substr(0, 200);
  };
  refused(422, "POST", "/v3/environ", "{bad", R"({"error":"invalid JSON: parse error at line 1, column 2)");
  refused(422, "POST", "/v3/environ", R"({"A": 1})", R"({"error":"the value of \"A\" must be a string, not number"})");
  refused(422, "POST", "/v3/environ", R"(["A"])", R"({"error":"the body must be a JSON object, not array"})");
  refused(422, "POST", "/v3/metric", "", R"({"error":"invalid JSON)");
  refused(422, "POST", "/v3/metric", R"({"nope": 1})", R"({"error":"unknown metric \"nope\")");
  refused(422, "POST", "/v3/metric", R"({"temperature": [1]})", R"(must be a number, not [1])");
  refused(422, "POST", "/v3/metric", R"({"temperature": 5, "hits_total": -1})",
          R"(counter \"hits_total\" cannot decrease (adding -1))");
  refused(413, "POST", "/v3/environ", R"({"A":")" + std::string(1024 * 1024, 'x') + R"("})", "request too large");
  auto big_head = curl(dir, "GET", "/v3/ping", "", "X-Big: " + std::string(9000, 'h'));
  EXPECT_EQ(big_head.status, 431) << big_head.body;
  refused(405, "GET", "/v3/reload", "", "405 method not allowed");
  refused(405, "PUT", "/v3/metric", "{}", "405 method not allowed");
  refused(405, "POST", "/v3/status", "", "405 method not allowed");
  refused(404, "POST", "/v3/env", "{}", "404 page not found");

  // What was accepted shows on /metrics, what was refused does not.
  auto metrics = http_request(fmt::format("http://127.0.0.1:{}", port), "GET", "/metrics");
  ASSERT_TRUE(metrics);
  for (const char* line : {"\nhits_total 2\n", "\ntemperature 21.5\n", "\nlatency_seconds_count 1\n",
                           "\ncontainerpilot_control_http_requests{code=\"200\",path=\"/v3/ping\"} 1\n",
                           "\ncontainerpilot_control_http_requests{code=\"422\",path=\"/v3/metric\"} 4\n",
                           "\ncontainerpilot_control_http_requests{code=\"405\",path=\"/v3/reload\"} 1\n"})
    EXPECT_NE(metrics->body.find(line), std::string::npos) << line << " not in\n" << metrics->body;
  EXPECT_EQ(metrics->body.find("path=\"/v3/env\""), std::string::npos) << "unknown paths are not counted";

  p.signal(SIGTERM);
  ASSERT_TRUE(p.wait_exit()) << p.output();
  EXPECT_NE(::access((dir.path() + "/control.sock").c_str(), F_OK), 0) << "the socket outlived its autopilot";
}

TEST(Control, PutmetricAndPingFromTheCommandLine) {
  TempDir dir;
  int port = free_port("127.0.0.1");
  auto p = run_autopilot(dir, telemetry_config(dir, port));
  ASSERT_TRUE(p.wait_for("control: serving the control API")) << p.output();
  auto ping = cli(dir, {"-ping"});
  EXPECT_EQ(ping.code, 0);
  EXPECT_EQ(ping.output, "ok\n");
  auto put = cli(dir, {"-putmetric", "hits_total=3", "-putmetric", "temperature=-4.5"});
  EXPECT_EQ(put.code, 0) << put.output;
  EXPECT_EQ(put.output, "");
  auto metrics = http_request(fmt::format("http://127.0.0.1:{}", port), "GET", "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("\nhits_total 3\n"), std::string::npos) << metrics->body;
  EXPECT_NE(metrics->body.find("\ntemperature -4.5\n"), std::string::npos) << metrics->body;

  auto unknown = cli(dir, {"-putmetric", "nope=1"});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_EQ(unknown.output,
            "autopilot: -putmetric: unknown metric \"nope\" (only the metrics of the config's telemetry block)\n");
  auto no_equals = cli(dir, {"-putenv", "FOO"});
  EXPECT_EQ(no_equals.code, 1);
  EXPECT_EQ(no_equals.output, "autopilot: flag value 'FOO' was not in the format 'key=val'\n");
  // Precedence: -reload before -putmetric (which would fail).
  auto both = cli(dir, {"-putmetric", "nope=1", "-reload"});
  EXPECT_EQ(both.code, 0) << both.output;

  auto table = cli(dir, {"status"});
  // `autopilot -config F status`: the subcommand after the flag, too.
  EXPECT_EQ(table.code, 0) << table.output;
  EXPECT_EQ(table.output, "autopilot " + std::string(std::regex_replace(run({autopilot_bin(), "-version"}).output,
                                                                         std::regex("^Version: ([^\n]*)\n[^]*$"), "$1")) +
                              "\n\nJOB  STATUS\napp  unknown\n");
  auto json = run({autopilot_bin(), "status", "-config", dir.path() + "/autopilot.json5", "--json"});
  EXPECT_EQ(json.code, 0);
  EXPECT_TRUE(nlohmann::json::parse(json.output, nullptr, false).is_object()) << json.output;

  p.signal(SIGTERM);
  ASSERT_TRUE(p.wait_exit()) << p.output();
  auto gone = cli(dir, {"-ping"});
  EXPECT_EQ(gone.code, 1);
  EXPECT_EQ(gone.output, "autopilot: -ping: connect " + dir.path() + "/control.sock: No such file or directory\n");
}

// What a crashed run leaves: a socket file nobody accepts on.
void leave_stale_socket(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, path.size());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::close(fd);
}

TEST(Control, AStaleSocketIsReplaced) {
  TempDir dir;
  leave_stale_socket(dir.path() + "/control.sock");
  auto p = run_autopilot(dir, control_config(dir, R"(jobs: [{ name: "app", exec: ["sleep", "60"] }],)"));
  ASSERT_TRUE(p.wait_for("control: serving the control API")) << p.output();
  EXPECT_EQ(cli(dir, {"-ping"}).output, "ok\n");
  p.signal(SIGTERM);
  ASSERT_TRUE(p.wait_exit()) << p.output();
}

TEST(Control, ARegularFileAtTheSocketPathIsKeptAndNothingStarts) {
  TempDir dir;
  std::string path = dir.write("control.sock", "precious");
  auto p = run_autopilot(dir, control_config(dir, R"(jobs: [{ name: "app", exec: ["sh", "-c", "echo APP-STARTED"] }],)"));
  auto exit = p.wait_exit();
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->code, 1);
  EXPECT_GE(p.find("control: listening on " + path + ": " + path + " exists and is not a socket; not replacing it"), 0)
      << p.output();
  EXPECT_LT(p.find("APP-STARTED"), 0) << p.output();
  EXPECT_EQ(read_text(path), "precious");
}

// The healthy instances of `service` in the embedded catalog at `catalog`.
int healthy_instances(const std::string& catalog, const std::string& service) {
  auto ran = run({autopilot_bin(), "catalog", "service", service, "--discovery-dir", catalog});
  auto j = nlohmann::json::parse(ran.output, nullptr, false);
  return j.is_array() ? static_cast<int>(j.size()) : -1;
}

TEST(Control, MaintenanceFromTheCommandLineLeavesTheHealthyListAndComesBack) {
  TempDir dir;
  std::string catalog = dir.path() + "/catalog";
  auto p = run_autopilot(dir, control_config(dir, fmt::format(R"(
  discovery: {{ embedded: {{ dir: "{}" }} }},
  jobs: [{{
    name: "web", exec: ["sleep", "60"], port: 8080, interfaces: ["static:127.0.0.1"],
    health: {{ exec: "true", interval: "200ms", ttl: "2s" }},
  }}],)",
                                                               catalog)));
  ASSERT_TRUE(p.wait_for("job web: registered")) << p.output();
  ASSERT_TRUE(p.wait_until([&] { return healthy_instances(catalog, "web") == 1; })) << p.output();
  auto enable = cli(dir, {"-maintenance", "enable"});
  EXPECT_EQ(enable.code, 0) << enable.output;
  EXPECT_TRUE(p.wait_until([&] { return healthy_instances(catalog, "web") == 0; })) << p.output();
  auto status = cli(dir, {"status"});
  EXPECT_TRUE(std::regex_search(status.output, std::regex("\nSERVICE +ADDRESS +PORT +STATUS\n"
                                                          "web +127\\.0\\.0\\.1 +8080 +maintenance\n")))
      << status.output;
  // ContainerPilot's defect D3: the instance never came back.
  auto disable = cli(dir, {"-maintenance", "disable"});
  EXPECT_EQ(disable.code, 0) << disable.output;
  EXPECT_TRUE(p.wait_until([&] { return healthy_instances(catalog, "web") == 1; })) << p.output();
  auto typo = cli(dir, {"-maintenance", "enabel"});
  EXPECT_EQ(typo.code, 1);
  EXPECT_EQ(typo.output, "autopilot: -maintenance takes enable or disable, not \"enabel\"\n");
  p.signal(SIGTERM);
  ASSERT_TRUE(p.wait_exit()) << p.output();
}

TEST(Control, ReloadFromTheCommandLineIsSighup) {
  TempDir dir;
  auto config = [&](const char* side) {
    return control_config(dir, fmt::format(R"(jobs: [
    {{ name: "app", exec: ["sh", "-c", "echo app-up; exec sleep 60"] }},
    {{ name: "side", exec: ["sh", "-c", "echo {}; exec sleep 60"] }},
  ],)",
                                           side));
  };
  auto p = run_autopilot(dir, config("side-v1"));
  ASSERT_TRUE(p.wait_seen("side-v1")) << p.output();
  ASSERT_TRUE(p.wait_seen("control: serving the control API")) << p.output();
  dir.write("autopilot.json5", config("side-v2"));
  auto reload = cli(dir, {"-reload"});
  EXPECT_EQ(reload.code, 0) << reload.output;
  ASSERT_TRUE(p.wait_seen("side-v2")) << p.output();
  EXPECT_EQ(p.count("app-up"), 1) << "an unchanged job must not restart\n" << p.output();

  // A bad config: refused, said on the command line (which finds the
  // socket through a config of its own), and the old one runs on.
  std::string cli_config = dir.write("cli.json5", control_config(dir, ""));
  dir.write("autopilot.json5", "{ jobs: [{ name: \"app\", exec: 5 }] }");
  auto refused = run({autopilot_bin(), "-config", cli_config, "-reload"});
  EXPECT_EQ(refused.code, 1);
  EXPECT_EQ(refused.output, "autopilot: -reload: reload refused, keeping the running config: " + dir.path() +
                                "/autopilot.json5:1:31: jobs[0].exec: must be a command string or a list of strings\n");
  EXPECT_TRUE(p.wait_seen("reload refused, keeping the running config: .*autopilot.json5:1:31")) << p.output();
  EXPECT_EQ(cli(dir, {"-ping"}).code, 1) << "the CLI needs a good config to find the socket";
  EXPECT_EQ(run({autopilot_bin(), "-config", cli_config, "-ping"}).output, "ok\n");
  p.signal(SIGTERM);
  ASSERT_TRUE(p.wait_exit()) << p.output();
}

TEST(Control, PutenvIsSeenByJobsStartedLater) {
  TempDir dir;
  auto p = run_autopilot(
      dir, control_config(dir, R"(jobs: [{ name: "tick", exec: ["sh", "-c", "echo \"GREETING=[$GREETING]\""],
                                           when: { interval: "100ms" } }],)"));
  ASSERT_TRUE(p.wait_for("GREETING=\\[\\]")) << p.output();
  auto put = cli(dir, {"-putenv", "GREETING=hello there", "-putenv", "OTHER=1"});
  EXPECT_EQ(put.code, 0) << put.output;
  EXPECT_TRUE(p.wait_for("GREETING=\\[hello there\\]")) << p.output();
  p.signal(SIGTERM);
  ASSERT_TRUE(p.wait_exit()) << p.output();
}

}  // namespace
}  // namespace autopilot::testing
