// Tests of the etcd test harness (etcd_server.h) against the real etcd:
// one and three members, a put and a read over the JSON gateway, a leader
// kill and a new election, a member restarted with its data.
#include "discovery/etcd/etcd_server.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "base/base64.h"
#include "discovery/etcd/blocking_http.h"

namespace autopilot::discovery::etcd::testing {
namespace {

using namespace std::chrono_literals;

#define SKIP_WITHOUT_ETCD() AUTOPILOT_SKIP_WITHOUT_ETCD()

Result<void> put(const std::string& url, const std::string& key, const std::string& value) {
  nlohmann::json body = {{"key", base64_encode(key)}, {"value", base64_encode(value)}};
  auto reply = http_request(url, "POST", "/v3/kv/put", body.dump());
  if (!reply) return reply.error();
  if (reply->status != 200) return make_error(fmt::format("put: HTTP {}: {}", reply->status, reply->body));
  return {};
}

// The value of `key`, "" when absent.
Result<std::string> get(const std::string& url, const std::string& key) {
  nlohmann::json body = {{"key", base64_encode(key)}};
  auto reply = http_request(url, "POST", "/v3/kv/range", body.dump());
  if (!reply) return reply.error();
  if (reply->status != 200) return make_error(fmt::format("range: HTTP {}: {}", reply->status, reply->body));
  auto json = nlohmann::json::parse(reply->body, nullptr, false);
  if (json.is_discarded()) return make_error("range: bad JSON: " + reply->body);
  if (!json.contains("kvs")) return std::string();
  auto value = base64_decode(json["kvs"][0].value("value", ""));
  if (!value) return value.error();
  return *value;
}

bool process_gone(pid_t pid) { return ::kill(pid, 0) != 0 && errno == ESRCH; }

TEST(EtcdServerTest, SingleMemberPutGetStopRestart) {
  SKIP_WITHOUT_ETCD();
  auto started = EtcdCluster::start(1);
  ASSERT_TRUE(started.ok()) << started.error().message;
  auto& cluster = **started;
  ASSERT_EQ(cluster.size(), 1);
  EXPECT_TRUE(cluster.running(0));
  EXPECT_GT(cluster.pid(0), 0);
  EXPECT_EQ(cluster.client_urls(), std::vector<std::string>{cluster.client_url(0)});
  EXPECT_EQ(cluster.client_url(0).rfind("http://127.0.0.1:", 0), 0u) << cluster.client_url(0);

  auto health = http_request(cluster.client_url(0), "GET", "/health");
  ASSERT_TRUE(health.ok()) << health.error().message;
  EXPECT_EQ(health->status, 200);
  EXPECT_NE(health->body.find("\"health\":\"true\""), std::string::npos) << health->body;

  ASSERT_TRUE(put(cluster.client_url(0), "/test/a", "one").ok());
  auto value = get(cluster.client_url(0), "/test/a");
  ASSERT_TRUE(value.ok()) << value.error().message;
  EXPECT_EQ(*value, "one");
  EXPECT_EQ(cluster.leader(), 0);
  EXPECT_NE(cluster.log_tail(0, 5), "");

  // Restarting a running member is refused.
  EXPECT_FALSE(cluster.restart(0).ok());

  pid_t old = cluster.pid(0);
  cluster.stop(0);
  EXPECT_FALSE(cluster.running(0));
  EXPECT_EQ(cluster.pid(0), 0);
  EXPECT_TRUE(process_gone(old));
  EXPECT_EQ(cluster.leader(200ms), -1);

  auto restarted = cluster.restart(0);
  ASSERT_TRUE(restarted.ok()) << restarted.error().message;
  EXPECT_TRUE(cluster.running(0));
  value = get(cluster.client_url(0), "/test/a");
  ASSERT_TRUE(value.ok()) << value.error().message;
  EXPECT_EQ(*value, "one") << "the data survives a restart";
}

TEST(EtcdServerTest, ThreeMembersLeaderKillAndRestart) {
  SKIP_WITHOUT_ETCD();
  auto started = EtcdCluster::start(3);
  ASSERT_TRUE(started.ok()) << started.error().message;
  auto& cluster = **started;
  ASSERT_EQ(cluster.size(), 3);
  auto urls = cluster.client_urls();
  ASSERT_EQ(urls.size(), 3u);
  EXPECT_NE(urls[0], urls[1]);
  EXPECT_NE(urls[1], urls[2]);

  ASSERT_TRUE(put(urls[0], "/test/k", "v1").ok());
  for (int i = 0; i < 3; ++i) {
    auto value = get(urls[i], "/test/k");
    ASSERT_TRUE(value.ok()) << value.error().message;
    EXPECT_EQ(*value, "v1") << "member " << i;
  }

  int old_leader = cluster.leader();
  ASSERT_GE(old_leader, 0);
  pid_t old_pid = cluster.pid(old_leader);
  cluster.kill(old_leader);
  EXPECT_FALSE(cluster.running(old_leader));
  EXPECT_TRUE(process_gone(old_pid));

  int new_leader = cluster.leader(10s);
  ASSERT_GE(new_leader, 0) << "no new leader; log:\n" << cluster.log_tail((old_leader + 1) % 3);
  EXPECT_NE(new_leader, old_leader);
  EXPECT_TRUE(cluster.running(new_leader));
  ASSERT_TRUE(put(urls[new_leader], "/test/k", "v2").ok());

  auto restarted = cluster.restart(old_leader);
  ASSERT_TRUE(restarted.ok()) << restarted.error().message;
  EXPECT_TRUE(cluster.running(old_leader));
  auto value = get(urls[old_leader], "/test/k");
  ASSERT_TRUE(value.ok()) << value.error().message;
  EXPECT_EQ(*value, "v2") << "the restarted member catches up";
  EXPECT_GE(cluster.leader(), 0);
}

TEST(EtcdServerTest, ExplicitAddressesAndCleanupOnDestruction) {
  SKIP_WITHOUT_ETCD();
  std::vector<pid_t> pids;
  {
    auto started = EtcdCluster::start({"127.0.0.21", "127.0.0.22", "127.0.0.23"});
    ASSERT_TRUE(started.ok()) << started.error().message;
    auto& cluster = **started;
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(cluster.client_url(i).rfind(fmt::format("http://127.0.0.2{}:", i + 1), 0), 0u) << cluster.client_url(i);
      pids.push_back(cluster.pid(i));
    }
    ASSERT_TRUE(put(cluster.client_url(2), "/test/x", "y").ok());
  }
  for (pid_t pid : pids) EXPECT_TRUE(process_gone(pid)) << pid;
}

}  // namespace
}  // namespace autopilot::discovery::etcd::testing
