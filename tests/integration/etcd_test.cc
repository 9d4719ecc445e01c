// The etcd catalog end to end, against a real 3-member etcd cluster started
// by the test: three autopilots register an app each, a fourth watches them
// (hooks) and renders their addresses into a file. Then members die: a
// follower, the leader, and finally all three for 30 s.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "discovery/etcd/blocking_http.h"
#include "discovery/etcd/etcd_server.h"
#include "harness.h"

namespace autopilot::testing {
namespace {

using discovery::etcd::testing::EtcdCluster;
using discovery::etcd::testing::etcd_available;

std::string endpoints_of(const EtcdCluster& etcd) {
  std::string out;
  for (const auto& url : etcd.client_urls()) out += (out.empty() ? "" : "\", \"") + url;
  return "[\"" + out + "\"]";
}

std::string etcd_app_config(const std::string& endpoints, const std::string& ip, int port) {
  return fmt::format(R"({{
  discovery: {{ etcd: {{ endpoints: {0}, prefix: "/it/", timeout: "500ms" }} }},
  jobs: [{{
    name: "app", exec: ["{1}", "{2}", "{3}"], port: {3}, interfaces: ["static:{2}"],
    health: {{ http: "http://{2}:{3}/", interval: "500ms", ttl: "3s", timeout: "300ms" }},
  }}],
}})",
                     endpoints, DEMO_APP, ip, port);
}

std::string etcd_watcher_config(const std::string& endpoints, const std::string& source, const std::string& out) {
  return fmt::format(R"({{
  discovery: {{ etcd: {{ endpoints: {0}, prefix: "/it/", timeout: "500ms" }} }},
  watches: [{{ name: "app", interval: 5 }}],
  templates: [{{
    source: "{1}",
    destination: "{2}",
  }}],
  jobs: [
    {{ name: "idle", exec: "sleep 3600" }},
    {{ name: "on-healthy", exec: "echo WATCH-HEALTHY", when: {{ source: "watch.app", each: "healthy" }} }},
    {{ name: "on-unhealthy", exec: "echo WATCH-UNHEALTHY", when: {{ source: "watch.app", each: "unhealthy" }} }},
  ],
}})",
                     endpoints, source, out);
}

bool process_exists(int pid) { return ::kill(pid, 0) == 0; }

TEST(Etcd, RegistrationsSurviveMemberFailuresAndAFullOutage) {
  AUTOPILOT_SKIP_WITHOUT_ETCD();
  auto started = EtcdCluster::start(3);
  ASSERT_TRUE(started.ok()) << started.error().message;
  EtcdCluster& etcd = **started;
  std::string endpoints = endpoints_of(etcd);
  int port = discovery::etcd::testing::free_port("127.0.0.11");  // free on .12 and .13 too, in practice
  auto set = [&](std::vector<std::string> ips) {
    std::string s = fmt::format("changed: {} healthy instances? \\[", ips.size());
    for (size_t i = 0; i < ips.size(); ++i) s += (i ? " " : "") + ips[i] + ":" + std::to_string(port);
    return s + "\\]";
  };
  TempDir wdir, adir, bdir, cdir;
  std::string rendered = wdir.path() + "/upstreams.txt";
  std::string source = wdir.path() + "/upstreams.ctmpl";
  std::ofstream(source) << "{{ range service \"app\" }}{{ .Address }}:{{ .Port }} {{ end }}";
  auto watcher = run_autopilot(wdir, etcd_watcher_config(endpoints, source, rendered));
  auto a = run_autopilot(adir, etcd_app_config(endpoints, "127.0.0.11", port));
  auto b = run_autopilot(bdir, etcd_app_config(endpoints, "127.0.0.12", port));
  auto c = run_autopilot(cdir, etcd_app_config(endpoints, "127.0.0.13", port));
  int a_app = demo_app_pid(a), b_app = demo_app_pid(b), c_app = demo_app_pid(c);
  ASSERT_GT(a_app, 0) << a.output();
  ASSERT_GT(b_app, 0) << b.output();
  ASSERT_GT(c_app, 0) << c.output();
  auto all3 = set({"127.0.0.11", "127.0.0.12", "127.0.0.13"});
  ASSERT_TRUE(watcher.wait_for(all3)) << watcher.output() << a.output();
  ASSERT_TRUE(watcher.wait_seen("WATCH-HEALTHY")) << watcher.output();
  std::string full = fmt::format("127.0.0.11:{0} 127.0.0.12:{0} 127.0.0.13:{0} ", port);
  // The file follows (once its quiescence has passed).
  auto file_is = [&](const std::string& want) {
    return watcher.wait_until([&] { return read_text(rendered) == want; }, 5s);
  };
  EXPECT_TRUE(file_is(full)) << read_text(rendered) << "\n" << watcher.output();

  // A change flows to the watcher (proof that watches still work): hang an
  // app, see it leave, let it go on, see it back.
  auto bounce = [&](int app, const std::vector<std::string>& others, const char* when) {
    ASSERT_EQ(::kill(app, SIGSTOP), 0);
    EXPECT_TRUE(watcher.wait_for(set(others), 8s)) << when << "\n" << watcher.output();
    ::kill(app, SIGCONT);
    EXPECT_TRUE(watcher.wait_for(all3, 8s)) << when << "\n" << watcher.output();
  };
  auto no_loss = [&](const char* when) {
    for (Process* p : {&a, &b, &c}) {
      EXPECT_EQ(p->find("no longer in the catalog"), -1) << when << "\n" << p->output();
      EXPECT_EQ(p->find("deregistered"), -1) << when << "\n" << p->output();
    }
    EXPECT_EQ(watcher.count("WATCH-UNHEALTHY"), 0) << when << "\n" << watcher.output();
  };

  // 1. A follower dies (SIGKILL), and comes back.
  int leader = etcd.leader();
  ASSERT_GE(leader, 0);
  int follower = (leader + 1) % 3;
  etcd.kill(follower);
  bounce(a_app, {"127.0.0.12", "127.0.0.13"}, "after a follower died");
  no_loss("after a follower died");
  ASSERT_TRUE(etcd.restart(follower).ok()) << etcd.log_tail(follower);

  // 2. The leader dies (SIGKILL): a new one is elected (about 1.2 s here);
  // keep-alives and watches carry on through the election.
  leader = etcd.leader();
  ASSERT_GE(leader, 0);
  etcd.kill(leader);
  ASSERT_GE(etcd.leader(), 0) << "no new leader";
  bounce(b_app, {"127.0.0.11", "127.0.0.13"}, "after the leader died");
  no_loss("after the leader died");
  ASSERT_TRUE(etcd.restart(leader).ok()) << etcd.log_tail(leader);
  ASSERT_GE(etcd.leader(), 0);

  // 3. All three members stop for 30 s: apps untouched, file unchanged.
  int lines_before = static_cast<int>(watcher.lines().size());
  for (int i = 0; i < 3; ++i) etcd.stop(i);
  // Watched every 100 ms for the 30 s: the first app death or file change ends the wait early.
  watcher.wait_until(
      [&] {
        return !process_exists(a_app) || !process_exists(b_app) || !process_exists(c_app) || read_text(rendered) != full;
      },
      30s);
  for (int pid : {a_app, b_app, c_app}) ASSERT_TRUE(process_exists(pid)) << "an app died during the outage";
  EXPECT_EQ(read_text(rendered), full) << "the rendered file changed during the outage";
  auto restarted = etcd.restart(std::vector<int>{0, 1, 2});
  ASSERT_TRUE(restarted.ok()) << restarted.error().message << etcd.log_tail(0);
  auto back = std::chrono::steady_clock::now();
  ASSERT_GE(etcd.leader(), 0);
  // In sync: the next change reaches the watcher promptly.
  ASSERT_EQ(::kill(c_app, SIGSTOP), 0);
  EXPECT_TRUE(watcher.wait_for(set({"127.0.0.11", "127.0.0.12"}), 8s)) << watcher.output();
  ::kill(c_app, SIGCONT);
  EXPECT_TRUE(watcher.wait_for(all3, 8s)) << watcher.output();
  EXPECT_LT(std::chrono::steady_clock::now() - back, 10s);
  EXPECT_TRUE(file_is(full)) << read_text(rendered);
  for (size_t i = lines_before; i < watcher.lines().size(); ++i)
    EXPECT_EQ(watcher.lines()[i].find("WATCH-UNHEALTHY"), std::string::npos) << watcher.lines()[i];

  // 4. kill -9 of an autopilot: its instance goes when its lease (3 s) ends.
  auto t0 = std::chrono::steady_clock::now();
  a.signal(SIGKILL);
  ASSERT_TRUE(a.wait_exit());
  ::kill(a_app, SIGKILL);
  ASSERT_TRUE(watcher.wait_for(set({"127.0.0.12", "127.0.0.13"}), 8s)) << watcher.output();
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(took, 3.0 + 1.0) << "within its TTL (3 s) plus etcd's expiry sweep";

  for (Process* p : {&b, &c, &watcher}) p->signal(SIGTERM);
  for (Process* p : {&b, &c, &watcher}) EXPECT_TRUE(p->wait_exit()) << p->output();
}

}  // namespace
}  // namespace autopilot::testing
