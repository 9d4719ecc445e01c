// The catalog conformance suite against a real etcd (one member on
// 127.0.0.1, started once for this test binary; each test gets a fresh key
// prefix), plus what is particular to etcd: lease TTLs, outages, compaction,
// never resurrecting an expired record.
#include "discovery/etcd/etcd_catalog.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "discovery/catalog_conformance.h"
#include "discovery/etcd/etcd_server.h"
#include "discovery/testing.h"

namespace autopilot::discovery::etcd {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using discovery::testing::await_result;
using discovery::testing::ids_of;
using discovery::testing::make_instance;
using discovery::testing::run_for;
using discovery::testing::run_until;

// One etcd for the whole binary (started on first use, stopped at exit).
testing::EtcdCluster& shared_etcd() {
  static std::unique_ptr<testing::EtcdCluster> cluster = [] {
    auto started = testing::EtcdCluster::start(1);
    if (!started) {
      ADD_FAILURE() << "cannot start etcd: " << started.error().message;
      std::abort();
    }
    return std::move(*started);
  }();
  return *cluster;
}

EtcdOptions options_for(const std::vector<std::string>& urls, const std::string& prefix) {
  EtcdOptions options;
  for (const auto& url : urls) options.client.endpoints.push_back(*parse_endpoint(url));
  options.prefix = prefix;
  return options;
}

std::string fresh_prefix() {
  static int counter = 0;
  return "/test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter) + "/";
}

std::unique_ptr<Catalog> open_etcd(boost::asio::io_context& io, os::Timers& timers, log::Log& log,
                                   const std::vector<std::string>& urls, const std::string& prefix) {
  auto catalog = EtcdCatalog::open(options_for(urls, prefix), io, timers, log);
  if (!catalog) {
    ADD_FAILURE() << catalog.error().message;
    return nullptr;
  }
  return std::move(*catalog);
}

conformance::CatalogBackend etcd_backend() {
  return {"Etcd", [] {
            std::string prefix = fresh_prefix();
            return conformance::CatalogStore{
                [prefix](boost::asio::io_context& io, os::Timers& timers, os::Files&, log::Log& log) {
                  return open_etcd(io, timers, log, shared_etcd().client_urls(), prefix);
                },
                {}};
          }};
}

}  // namespace
}  // namespace autopilot::discovery::etcd

namespace autopilot::discovery::conformance {
INSTANTIATE_TEST_SUITE_P(Etcd, CatalogConformanceTest, ::testing::Values(etcd::etcd_backend()), backend_name);
}  // namespace autopilot::discovery::conformance

namespace autopilot::discovery::etcd {
namespace {

class EtcdCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    etcd_ = &shared_etcd();
    prefix_ = fresh_prefix();
    catalog_ = open_etcd(io_, timers_, log_, etcd_->client_urls(), prefix_);
    ASSERT_NE(catalog_, nullptr);
  }
  template <class T>
  Result<T> call(const std::function<void(Callback<T>)>& start, std::chrono::milliseconds deadline = 5s) {
    return await_result<T>(io_, start, deadline);
  }
  Result<void> add(const Instance& instance, Duration ttl = 30s) {
    return call<void>([&](Callback<void> cb) { catalog_->register_instance(instance, ttl, cb); });
  }

  boost::asio::io_context io_;
  os::AsioTimers timers_{io_};
  log::Log log_;
  testing::EtcdCluster* etcd_ = nullptr;
  std::string prefix_;
  std::unique_ptr<Catalog> catalog_;
};

TEST(EtcdLeaseTest, TtlsRoundUpToWholeSecondsOfAtLeastTwo) {
  EXPECT_EQ(EtcdCatalog::lease_seconds(300ms), 2);
  EXPECT_EQ(EtcdCatalog::lease_seconds(2s), 2);
  EXPECT_EQ(EtcdCatalog::lease_seconds(2500ms), 3);
  EXPECT_EQ(EtcdCatalog::lease_seconds(10s), 10);
}

TEST(EtcdOpenTest, BadOptionsAreRefused) {
  boost::asio::io_context io;
  os::AsioTimers timers(io);
  log::Log log;
  auto no_slash = EtcdCatalog::open(options_for({"http://127.0.0.1:1"}, "autopilot"), io, timers, log);
  ASSERT_FALSE(no_slash.ok());
  EXPECT_THAT(no_slash.error().message, ::testing::HasSubstr("must start and end with '/'"));
}

TEST_F(EtcdCatalogTest, SetStatusNeverResurrectsAnExpiredRecord) {
  ASSERT_TRUE(add(make_instance("z1", "zombie"), 1s).ok());
  // Another catalog (another container) learns of z1 only from etcd.
  auto other = open_etcd(io_, timers_, log_, etcd_->client_urls(), prefix_);
  ASSERT_TRUE(run_until(
      io_,
      [&] {
        auto l = call<std::vector<Instance>>([&](auto cb) { catalog_->list("zombie", false, cb); });
        return l.ok() && l->empty();
      },
      8s))
      << "the 2 s lease never expired";
  auto status = call<void>([&](auto cb) { other->set_status("z1", Status::kCritical, cb); });
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, ErrorKind::kNotFound) << status.error().message;
  auto mine = call<void>([&](auto cb) { catalog_->set_status("z1", Status::kCritical, cb); });
  EXPECT_EQ(mine.error().kind, ErrorKind::kNotFound) << mine.error().message;
  EXPECT_TRUE(call<std::vector<Instance>>([&](auto cb) { catalog_->list("zombie", false, cb); })->empty());
}

TEST_F(EtcdCatalogTest, AnotherCatalogCanHeartbeatAndDeregisterById) {
  ASSERT_TRUE(add(make_instance("h1", "web")).ok());
  auto other = open_etcd(io_, timers_, log_, etcd_->client_urls(), prefix_);
  EXPECT_TRUE(call<void>([&](auto cb) { other->heartbeat("h1", cb); }).ok());
  ASSERT_TRUE(call<void>([&](auto cb) { other->set_status("h1", Status::kWarning, cb); }).ok());
  auto listed = call<std::vector<Instance>>([&](auto cb) { catalog_->list("web", false, cb); });
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].status, Status::kWarning);
  ASSERT_TRUE(call<void>([&](auto cb) { other->deregister("h1", cb); }).ok());
  EXPECT_TRUE(call<std::vector<Instance>>([&](auto cb) { catalog_->list("web", false, cb); })->empty());
  // The lease went with it: the registering catalog's heartbeat says so.
  auto beat = call<void>([&](auto cb) { catalog_->heartbeat("h1", cb); });
  ASSERT_FALSE(beat.ok());
  EXPECT_EQ(beat.error().kind, ErrorKind::kNotFound) << beat.error().message;
}

TEST_F(EtcdCatalogTest, WatchResumesAfterCompactionWithAFullRead) {
  ASSERT_TRUE(add(make_instance("c1", "comp")).ok());
  std::vector<WatchUpdate> first;
  auto handle = catalog_->watch_service("comp", false, 0, [&](Result<WatchUpdate> r) {
    if (r) first.push_back(*r);
  });
  ASSERT_TRUE(run_until(io_, [&] { return !first.empty(); }));
  Index seen = first.back().index;
  handle.cancel();
  // Changes while nobody watches, then compaction past the watcher's index.
  ASSERT_TRUE(add(make_instance("c2", "comp")).ok());
  ASSERT_TRUE(call<Index>([&](auto cb) { catalog_->put("bump", "x", cb); }).ok());
  auto head = call<Index>([&](auto cb) { catalog_->put("bump", "y", cb); });
  ASSERT_TRUE(head.ok());
  auto client = Client::create(options_for(etcd_->client_urls(), prefix_).client, io_, timers_, log_);
  ASSERT_TRUE(client.ok());
  auto compacted = call<Json>([&](auto cb) {
    (*client)->call("kv/compaction", Json{{"revision", std::to_string(*head)}, {"physical", true}}, cb);
  });
  ASSERT_TRUE(compacted.ok()) << compacted.error().message;

  std::vector<WatchUpdate> resumed;
  auto again = catalog_->watch_service("comp", false, seen, [&](Result<WatchUpdate> r) {
    if (r) resumed.push_back(*r);
  });
  ASSERT_TRUE(run_until(io_, [&] { return !resumed.empty(); }));
  EXPECT_THAT(ids_of(resumed[0].instances), ElementsAre("c1", "c2"));
  // And it keeps watching from there.
  ASSERT_TRUE(call<void>([&](auto cb) { catalog_->deregister("c1", cb); }).ok());
  ASSERT_TRUE(run_until(io_, [&] { return resumed.back().instances.size() == 1; }));
  EXPECT_THAT(ids_of(resumed.back().instances), ElementsAre("c2"));
}

TEST_F(EtcdCatalogTest, ServicesListsNamesWithInstancesAndTheirTags) {
  ASSERT_TRUE(add(make_instance("a1", "alpha")).ok());
  ASSERT_TRUE(add(make_instance("b1", "beta")).ok());
  Instance b2 = make_instance("b2", "beta");
  b2.tags = {"blue"};
  ASSERT_TRUE(add(b2).ok());
  auto services = call<std::vector<ServiceSummary>>([&](auto cb) { catalog_->services(cb); });
  ASSERT_TRUE(services.ok()) << services.error().message;
  EXPECT_THAT(*services, ElementsAre(ServiceSummary{"alpha", {"primary", "v1"}},
                                     ServiceSummary{"beta", {"blue", "primary", "v1"}}));
}

// A member that goes away and comes back: operations fail clearly meanwhile
// (code 14), the watch stays quiet, then resumes without losing a change.
class EtcdOutageTest : public ::testing::Test {
 protected:
  boost::asio::io_context io_;
  os::AsioTimers timers_{io_};
  log::Log log_;
};

TEST_F(EtcdOutageTest, WatchResumesAfterTheMemberComesBack) {
  auto started = testing::EtcdCluster::start(1);
  ASSERT_TRUE(started.ok()) << started.error().message;
  auto& etcd = **started;
  auto catalog = open_etcd(io_, timers_, log_, etcd.client_urls(), "/outage/");
  auto writer = open_etcd(io_, timers_, log_, etcd.client_urls(), "/outage/");
  std::vector<WatchUpdate> seen;
  std::vector<Error> errors;
  auto handle = catalog->watch_service("svc", false, 0, [&](Result<WatchUpdate> r) {
    if (r)
      seen.push_back(*r);
    else
      errors.push_back(r.error());
  });
  ASSERT_TRUE(run_until(io_, [&] { return !seen.empty(); }));
  etcd.stop(0);
  auto failed = await_result<void>(io_, [&](auto cb) {
    writer->register_instance(make_instance("o1", "svc"), 30s, cb);
  });
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().kind, ErrorKind::kUnavailable) << failed.error().message;
  EXPECT_EQ(failed.error().code, kCodeUnavailable);
  run_for(io_, 300ms);
  EXPECT_EQ(seen.size(), 1u) << "nothing delivered while etcd is down";
  EXPECT_TRUE(errors.empty());
  ASSERT_TRUE(etcd.restart(0).ok());
  ASSERT_TRUE(await_result<void>(io_, [&](auto cb) {
                writer->register_instance(make_instance("o1", "svc"), 30s, cb);
              }).ok());
  ASSERT_TRUE(run_until(
      io_, [&] { return seen.back().instances.size() == 1; }, 10s))
      << "the watch did not resume";
  EXPECT_TRUE(errors.empty());
}

}  // namespace
}  // namespace autopilot::discovery::etcd
