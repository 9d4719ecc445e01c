// Conformance tests for KV, prefix watches and locks. See catalog_conformance.h.
#include <gmock/gmock.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "discovery/catalog_conformance.h"

namespace autopilot::discovery::conformance {

using ::testing::ElementsAre;
using LockResult = Result<std::unique_ptr<Lock>>;

namespace {

std::vector<std::string> keys_of(const std::vector<KvEntry>& entries) {
  std::vector<std::string> keys;
  for (const auto& e : entries) keys.push_back(e.key);
  return keys;
}

}  // namespace

TEST_P(CatalogConformanceTest, KvGetPutDelete) {
  auto missing = call<std::optional<KvEntry>>([&](auto cb) { catalog_->get("cfg/a", cb); });
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  auto first = call<Index>([&](auto cb) { catalog_->put("cfg/a", "one", cb); });
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto second = call<Index>([&](auto cb) { catalog_->put("cfg/a", "two", cb); });
  ASSERT_TRUE(second.ok());
  EXPECT_GT(*second, *first);
  auto got = call<std::optional<KvEntry>>([&](auto cb) { catalog_->get("cfg/a", cb); });
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ(**got, (KvEntry{"cfg/a", "two", *first, *second}));

  ASSERT_TRUE(call<void>([&](auto cb) { catalog_->del("cfg/a", cb); }).ok());
  EXPECT_FALSE(call<std::optional<KvEntry>>([&](auto cb) { catalog_->get("cfg/a", cb); })->has_value());
  EXPECT_TRUE(call<void>([&](auto cb) { catalog_->del("cfg/a", cb); }).ok()) << "deleting a missing key is fine";
}

TEST_P(CatalogConformanceTest, KvListPrefixIsSorted) {
  for (const char* key : {"app/z", "app/a", "apple", "other/x", "app/m/deep"}) {
    ASSERT_TRUE(call<Index>([&](auto cb) { catalog_->put(key, key, cb); }).ok()) << key;
  }
  auto app = call<std::vector<KvEntry>>([&](auto cb) { catalog_->list_kv("app/", cb); });
  ASSERT_TRUE(app.ok());
  EXPECT_THAT(keys_of(*app), ElementsAre("app/a", "app/m/deep", "app/z"));
  auto all = call<std::vector<KvEntry>>([&](auto cb) { catalog_->list_kv("", cb); });
  EXPECT_THAT(keys_of(*all), ElementsAre("app/a", "app/m/deep", "app/z", "apple", "other/x"));
}

TEST_P(CatalogConformanceTest, KvCompareAndSet) {
  using Cas = std::optional<Index>;
  auto created = call<Cas>([&](auto cb) { catalog_->compare_and_set("leader", 0, "me", cb); });
  ASSERT_TRUE(created.ok() && created->has_value());
  auto again = call<Cas>([&](auto cb) { catalog_->compare_and_set("leader", 0, "you", cb); });
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value()) << "0 means: must not exist";
  auto stale = call<Cas>([&](auto cb) { catalog_->compare_and_set("leader", **created + 1000, "you", cb); });
  EXPECT_FALSE(stale->has_value());
  auto swapped = call<Cas>([&](auto cb) { catalog_->compare_and_set("leader", **created, "you", cb); });
  ASSERT_TRUE(swapped.ok() && swapped->has_value());
  EXPECT_GT(**swapped, **created);
  auto got = call<std::optional<KvEntry>>([&](auto cb) { catalog_->get("leader", cb); });
  EXPECT_EQ((*got)->value, "you");
  EXPECT_EQ((*got)->create_index, **created);
}

TEST_P(CatalogConformanceTest, KvInvalidKeysAreRejected) {
  for (std::string key : {std::string(), std::string("../x"), std::string("a/../b"), std::string("/abs"),
                          std::string("a/./b"), std::string("a\0b", 3), std::string(300, 'k')}) {
    EXPECT_FALSE(call<Index>([&](auto cb) { catalog_->put(key, "v", cb); }).ok()) << key;
    EXPECT_FALSE(call<std::optional<KvEntry>>([&](auto cb) { catalog_->get(key, cb); }).ok()) << key;
  }
  // Odd but valid keys round-trip.
  for (std::string key : {"a..b", "sp ace", "pct%41", "dots.", "UPPER/lower", "x/y/"}) {
    ASSERT_TRUE(call<Index>([&](auto cb) { catalog_->put(key, "v", cb); }).ok()) << key;
    auto got = call<std::optional<KvEntry>>([&](auto cb) { catalog_->get(key, cb); });
    ASSERT_TRUE(got.ok() && got->has_value()) << key;
    EXPECT_EQ((*got)->key, key);
  }
}

TEST_P(CatalogConformanceTest, PrefixWatchFiresOnPutAndDelete) {
  std::vector<KvUpdate> updates;
  auto handle = catalog_->watch_prefix("w/", 0, [&](Result<KvUpdate> r) {
    if (r) updates.push_back(std::move(*r));
  });
  ASSERT_TRUE(run_until([&] { return updates.size() == 1; }));
  EXPECT_TRUE(updates[0].entries.empty());
  ASSERT_TRUE(call<Index>([&](auto cb) { catalog_->put("elsewhere", "x", cb); }).ok());
  ASSERT_TRUE(call<Index>([&](auto cb) { catalog_->put("w/1", "x", cb); }).ok());
  ASSERT_TRUE(run_until([&] { return updates.size() >= 2; }));
  EXPECT_THAT(keys_of(updates.back().entries), ElementsAre("w/1"));
  ASSERT_TRUE(call<void>([&](auto cb) { catalog_->del("w/1", cb); }).ok());
  ASSERT_TRUE(run_until([&] { return updates.back().entries.empty(); }));
  for (size_t i = 1; i < updates.size(); ++i) EXPECT_GT(updates[i].index, updates[i - 1].index);
}

TEST_P(CatalogConformanceTest, LockIsExclusiveUntilReleased) {
  auto held = call<std::unique_ptr<Lock>>([&](auto cb) { catalog_->try_lock("leader", 10s, cb); });
  ASSERT_TRUE(held.ok()) << held.error().message;
  ASSERT_NE(*held, nullptr);
  EXPECT_TRUE((*held)->is_held());
  EXPECT_EQ((*held)->name(), "leader");
  auto other = open_another();
  auto denied = call<std::unique_ptr<Lock>>([&](auto cb) { other->try_lock("leader", 10s, cb); });
  ASSERT_TRUE(denied.ok());
  EXPECT_EQ(*denied, nullptr);

  std::unique_ptr<Lock> waited;
  auto wait = other->lock("leader", 10s, [&](LockResult r) {
    if (r) waited = std::move(*r);
  });
  run_for(150ms);
  EXPECT_EQ(waited, nullptr) << "still held";
  (*held)->release();
  EXPECT_FALSE((*held)->is_held());
  ASSERT_TRUE(run_until([&] { return waited != nullptr; }, 3s));
  auto again = call<std::unique_ptr<Lock>>([&](auto cb) { catalog_->try_lock("leader", 10s, cb); });
  EXPECT_EQ(*again, nullptr);
  waited.reset();  // destroying the handle releases too
  // A backend with a server frees the lock once it has applied the release.
  std::unique_ptr<Lock> finally;
  for (int attempt = 0; attempt < 20 && !finally; ++attempt) {
    auto r = call<std::unique_ptr<Lock>>([&](auto cb) { catalog_->try_lock("leader", 10s, cb); });
    ASSERT_TRUE(r.ok()) << r.error().message;
    finally = std::move(*r);
    if (!finally) run_for(50ms);
  }
  EXPECT_NE(finally, nullptr) << "the released lock was not free within a second";
  EXPECT_FALSE(call<std::unique_ptr<Lock>>([&](auto cb) { catalog_->try_lock("bad/name", 1s, cb); }).ok());
}

namespace {

// Forks a child that takes lock `name` through its own catalog on `store`
// and then waits to be killed; returns its pid once it holds the lock.
std::optional<pid_t> fork_lock_holder(const CatalogStore& store, const std::string& name) {
  int ready[2];
  if (::pipe(ready) != 0) return std::nullopt;
  pid_t child = ::fork();
  if (child < 0) return std::nullopt;
  if (child == 0) {
    // The holder: its own loop and catalog on the same store. Never returns.
    boost::asio::io_context io;
    os::AsioTimers timers(io);
    os::LinuxFiles files(io);
    log::Log log;
    auto catalog = store.open(io, timers, files, log);
    auto held = await_result<std::unique_ptr<Lock>>(io, [&](auto cb) { catalog->try_lock(name, 2s, cb); });
    char ok = held.ok() && *held != nullptr ? '1' : '0';
    (void)!::write(ready[1], &ok, 1);
    for (;;) ::pause();
  }
  ::close(ready[1]);
  pollfd pfd{ready[0], POLLIN, 0};
  char ok = 0;
  bool answered = ::poll(&pfd, 1, 10000) == 1 && ::read(ready[0], &ok, 1) == 1;
  ::close(ready[0]);
  if (!answered || ok != '1') {
    ADD_FAILURE() << "the child could not take the lock";
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    return std::nullopt;
  }
  return child;
}

}  // namespace

TEST_P(CatalogConformanceTest, LockDiesWithItsHolder) {
  std::function<void()> kill_holder;
  std::unique_ptr<Catalog> holder;
  std::unique_ptr<Lock> left_behind;
  if (GetParam().in_process) {
    // The holder is another catalog on the store; it dies without releasing
    // (a killed process runs no destructors), so its Lock is left behind.
    holder = open_another();
    auto held = call<std::unique_ptr<Lock>>([&](auto cb) { holder->try_lock("boss", 2s, cb); });
    ASSERT_TRUE(held.ok() && *held != nullptr) << "the holder could not take the lock";
    left_behind = std::move(*held);
    kill_holder = [&] { holder.reset(); };
  } else {
    auto child = fork_lock_holder(store_, "boss");
    ASSERT_TRUE(child.has_value());
    kill_holder = [pid = *child] {
      ::kill(pid, SIGKILL);
      int status = 0;
      ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    };
  }

  auto denied = call<std::unique_ptr<Lock>>([&](auto cb) { catalog_->try_lock("boss", 2s, cb); });
  EXPECT_EQ(*denied, nullptr);
  std::unique_ptr<Lock> mine;
  auto wait = catalog_->lock("boss", 2s, [&](LockResult r) {
    if (r) mine = std::move(*r);
  });
  kill_holder();
  // The embedded catalog frees it at once; a lease backend within its TTL.
  ASSERT_TRUE(run_until([&] { return mine != nullptr; }, 10s));
}

}  // namespace autopilot::discovery::conformance
