// The multi-host case for real: each autopilot in its own network namespace
// (its own "host", reached over a veth pair and a bridge), advertising the
// address of its namespace's eth0, against a 3-member etcd cluster in a
// "lan" namespace. The namespaces, links and addresses (10.77.0.0/24) are
// made by the test and deleted at the end; nothing touches the host's own
// network. The test process itself joins the lan namespace to start etcd.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

#include "discovery/etcd/etcd_server.h"
#include "harness.h"

namespace autopilot::testing {
namespace {

using discovery::etcd::testing::EtcdCluster;
using discovery::etcd::testing::etcd_available;

bool sh(const std::string& command) { return std::system((command + " >/dev/null 2>&1").c_str()) == 0; }

// The namespaces of one test run: lan (bridge br0, 10.77.0.1) and host1..N
// (eth0 = 10.77.0.1N), and the test process moved into lan until the end.
class Network {
 public:
  explicit Network(int hosts) : tag_(std::to_string(::getpid())) {
    lan_ = "ap-lan-" + tag_;
    ok_ = sh("ip netns add " + lan_) && sh("ip -n " + lan_ + " link set lo up") &&
          sh("ip -n " + lan_ + " link add br0 type bridge") && sh("ip -n " + lan_ + " addr add 10.77.0.1/24 dev br0") &&
          sh("ip -n " + lan_ + " link set br0 up");
    for (int k = 1; ok_ && k <= hosts; ++k) {
      std::string ns = host(k);
      std::string peer = fmt::format("h{}", k);
      ok_ = sh("ip netns add " + ns) && sh("ip -n " + ns + " link set lo up") &&
            sh(fmt::format("ip link add eth0 netns {} type veth peer name {} netns {}", ns, peer, lan_)) &&
            sh(fmt::format("ip -n {} link set {} master br0 up", lan_, peer)) &&
            sh(fmt::format("ip -n {} addr add {}/24 dev eth0", ns, address(k))) &&
            sh(fmt::format("ip -n {} link set eth0 up", ns));
      hosts_ = k;
    }
    if (!ok_) return;
    home_ = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    int lan = ::open(("/var/run/netns/" + lan_).c_str(), O_RDONLY | O_CLOEXEC);
    ok_ = home_ >= 0 && lan >= 0 && ::setns(lan, CLONE_NEWNET) == 0;
    if (lan >= 0) ::close(lan);
  }
  ~Network() {
    if (home_ >= 0) {
      (void)::setns(home_, CLONE_NEWNET);
      ::close(home_);
    }
    for (int k = 1; k <= hosts_; ++k) sh("ip netns del " + host(k));
    sh("ip netns del " + lan_);
  }
  bool ok() const { return ok_; }
  std::string host(int k) const { return fmt::format("ap-h{}-{}", k, tag_); }
  static std::string address(int k) { return fmt::format("10.77.0.{}", 10 + k); }

 private:
  std::string tag_, lan_;
  int hosts_ = 0;
  int home_ = -1;
  bool ok_ = false;
};

TEST(EtcdMultiHost, AutopilotsInNetworkNamespacesAdvertiseTheirOwnAddresses) {
  AUTOPILOT_SKIP_WITHOUT_ETCD();
  if (::geteuid() != 0) GTEST_SKIP() << "network namespaces need root";
  Network net(4);
  ASSERT_TRUE(net.ok()) << "could not set up the network namespaces";
  auto started = EtcdCluster::start({"10.77.0.1", "10.77.0.1", "10.77.0.1"});
  ASSERT_TRUE(started.ok()) << started.error().message;
  EtcdCluster& etcd = **started;
  std::string endpoints;
  for (const auto& url : etcd.client_urls()) endpoints += (endpoints.empty() ? "" : ",") + url;

  const int port = 8080;  // every "host" has its own network: the same port everywhere
  TempDir dir;
  std::string rendered = dir.path() + "/upstreams.txt";
  std::string source = dir.write("upstreams.ctmpl", "{{ range service \"app\" }}{{ .Address }}:{{ .Port }} {{ end }}");
  // No `interfaces`: each autopilot advertises its eth0 (the default).
  auto app_config = [&](int k) {
    return dir.write(fmt::format("app{}.json5", k), fmt::format(R"({{
  discovery: {{ etcd: {{ endpoints: "{0}", timeout: "500ms" }} }},
  jobs: [{{
    name: "app", exec: ["{1}", "{2}", "{3}"], port: {3},
    health: {{ http: "http://{2}:{3}/", interval: "500ms", ttl: "3s", timeout: "300ms" }},
  }}],
}})",
                                                                   endpoints, DEMO_APP, Network::address(k), port));
  };
  std::string watcher_config = dir.write("watcher.json5", fmt::format(R"({{
  discovery: {{ etcd: {{ endpoints: "{0}", timeout: "500ms" }} }},
  watches: [{{ name: "app", interval: 5 }}],
  templates: [{{ source: "{1}", destination: "{2}" }}],
  jobs: [{{ name: "idle", exec: "sleep 3600" }}],
}})",
                                                                      endpoints, source, rendered));
  auto in_host = [&](int k, const std::string& config) {
    return Process({"ip", "netns", "exec", net.host(k), autopilot_bin(), "-config", config});
  };
  auto watcher = in_host(4, watcher_config);
  auto a = in_host(1, app_config(1));
  auto b = in_host(2, app_config(2));
  auto c = in_host(3, app_config(3));
  int a_app = demo_app_pid(a), b_app = demo_app_pid(b);
  ASSERT_GT(a_app, 0) << a.output();
  ASSERT_GT(b_app, 0) << b.output();
  ASSERT_GT(demo_app_pid(c), 0) << c.output();
  // Each registered its own namespace's address, found on its eth0.
  for (auto [p, k] : {std::pair{&a, 1}, {&b, 2}, {&c, 3}})
    EXPECT_TRUE(p->wait_for(fmt::format("registered app-.* at {}:{}", Network::address(k), port))) << p->output();
  auto set = [&](std::vector<int> hosts) {
    std::string s;
    for (int k : hosts) s += fmt::format("{}:{} ", Network::address(k), port);
    return s;
  };
  auto file_is = [&](const std::string& want) {
    return watcher.wait_until([&] { return read_text(rendered) == want; }, 10s);
  };
  ASSERT_TRUE(file_is(set({1, 2, 3}))) << read_text(rendered) << "\n" << watcher.output();

  // The leader dies; after the election, changes still reach the watcher.
  int leader = etcd.leader();
  ASSERT_GE(leader, 0);
  etcd.kill(leader);
  ASSERT_GE(etcd.leader(), 0) << "no new leader";
  ASSERT_EQ(::kill(b_app, SIGSTOP), 0);
  EXPECT_TRUE(file_is(set({1, 3}))) << read_text(rendered) << "\n" << watcher.output();
  ::kill(b_app, SIGCONT);
  EXPECT_TRUE(file_is(set({1, 2, 3}))) << read_text(rendered) << "\n" << watcher.output();
  for (Process* p : {&a, &b, &c}) EXPECT_EQ(p->find("no longer in the catalog"), -1) << p->output();

  // A host cut off from the network for longer than its TTL: etcd drops its
  // record; once the link is back, its autopilot registers it again (a new
  // lease, the same instance id) and the watcher has the full set again.
  ASSERT_TRUE(sh(fmt::format("ip -n {} link set eth0 down", net.host(2))));
  EXPECT_TRUE(file_is(set({1, 3}))) << read_text(rendered) << "\n" << watcher.output();
  ASSERT_TRUE(sh(fmt::format("ip -n {} link set eth0 up", net.host(2))));
  EXPECT_TRUE(b.wait_for("no longer in the catalog; registering it again", 10s)) << b.output();
  EXPECT_TRUE(file_is(set({1, 2, 3}))) << read_text(rendered) << "\n" << watcher.output();
  EXPECT_EQ(a.find("no longer in the catalog"), -1) << a.output();

  // kill -9 of a host's autopilot (and its app): gone within its TTL.
  a.signal(SIGKILL);
  ASSERT_TRUE(a.wait_exit());
  ::kill(a_app, SIGKILL);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(file_is(set({2, 3}))) << read_text(rendered) << "\n" << watcher.output();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 4s) << "within its TTL (3 s) and etcd's expiry sweep";

  for (Process* p : {&b, &c, &watcher}) p->signal(SIGTERM);
  for (Process* p : {&b, &c, &watcher}) EXPECT_TRUE(p->wait_exit()) << p->output();
}

}  // namespace
}  // namespace autopilot::testing
