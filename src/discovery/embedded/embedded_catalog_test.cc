#include "discovery/embedded/embedded_catalog.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "discovery/catalog_conformance.h"
#include "os/fake/fake_timers.h"

namespace autopilot::discovery::embedded {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using conformance::await_result;
using conformance::make_instance;
using conformance::run_until;

using testing::make_temp_dir;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::unique_ptr<EmbeddedCatalog> open_catalog(EmbeddedOptions options, boost::asio::io_context& io, os::Timers& timers,
                                              os::Files& files, log::Log& log) {
  auto catalog = EmbeddedCatalog::open(std::move(options), io, timers, files, log);
  if (!catalog) ADD_FAILURE() << catalog.error().message;
  return catalog ? std::move(*catalog) : nullptr;
}

// The records' wall clock for a catalog on `timers`: on FakeTimers it moves
// with them, from the real time of `origin`'s first use (shared by every
// catalog of one store, so they agree); else the real clock (a forked lock
// holder runs on AsioTimers).
using WallClockFn = std::function<WallClock::time_point()>;
using Origin = std::optional<std::pair<WallClock::time_point, os::Clock::time_point>>;
WallClockFn wall_clock_for(os::Timers& timers, const std::shared_ptr<Origin>& origin) {
  auto* fake = dynamic_cast<os::FakeTimers*>(&timers);
  if (!fake) return [] { return WallClock::now(); };
  if (!*origin) origin->emplace(WallClock::now(), fake->now());
  return [fake, origin] {
    return (*origin)->first + std::chrono::duration_cast<WallClock::duration>(fake->now() - (*origin)->second);
  };
}

// On real files and real inotify, on fake time: expiry, rescans and lock
// retries are our code, not the OS, and need no waiting.
conformance::CatalogBackend embedded_backend(bool use_inotify) {
  return {use_inotify ? "Embedded" : "EmbeddedRescanOnly",
          [use_inotify] {
            std::string root = make_temp_dir();
            EmbeddedOptions options;
            options.dir = root + "/catalog";
            options.use_inotify = use_inotify;
            if (!use_inotify) options.rescan_interval = 100ms;
            auto origin = std::make_shared<Origin>();
            return conformance::CatalogStore{
                [options, origin](boost::asio::io_context& io, os::Timers& timers, os::Files& files,
                                  log::Log& log) -> std::unique_ptr<Catalog> {
                  EmbeddedOptions o = options;
                  o.wall_clock = wall_clock_for(timers, origin);
                  return open_catalog(std::move(o), io, timers, files, log);
                },
                [root] { fs::remove_all(root); }};
          },
          /*uses_fake_time=*/true};
}

using conformance::CatalogConformanceTest;
INSTANTIATE_TEST_SUITE_P(Embedded, CatalogConformanceTest,
                         ::testing::Values(embedded_backend(true), embedded_backend(false)), conformance::backend_name);

class EmbeddedCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = make_temp_dir();
    ASSERT_FALSE(root_.empty());
  }
  void TearDown() override { fs::remove_all(root_); }

  EmbeddedOptions options(bool use_inotify = true) {
    EmbeddedOptions o;
    o.dir = root_ + "/catalog";
    o.use_inotify = use_inotify;
    o.rescan_interval = 1h;  // only what a test asks for
    return o;
  }
  Result<void> add(Catalog& c, const Instance& in, Duration ttl = 30s) {
    return await_result<void>(io_, [&](Callback<void> cb) { c.register_instance(in, ttl, cb); });
  }
  Result<std::vector<Instance>> list(Catalog& c, const std::string& service) {
    return await_result<std::vector<Instance>>(io_, [&](auto cb) { c.list(service, false, cb); });
  }

  std::string root_;
  boost::asio::io_context io_;
  os::AsioTimers timers_{io_};
  os::LinuxFiles files_{io_};
  log::Log log_;
};

TEST_F(EmbeddedCatalogTest, MalformedRecordsAreSkippedWithOneWarningEach) {
  std::string log_path = root_ + "/log.txt";
  log::Log log({log::Level::kInfo, log::Format::kDefault, log_path});
  ASSERT_TRUE(log.open().ok());
  auto catalog = open_catalog(options(), io_, timers_, files_, log);
  ASSERT_TRUE(add(*catalog, make_instance("good", "web")).ok());
  std::string dir = root_ + "/catalog/services/web/";
  std::ofstream(dir + "garbage.json") << "{not json";
  std::ofstream(dir + "liar.json") << fs::path(dir + "good.json").string();  // a path, not a record
  fs::copy_file(dir + "good.json", dir + "impostor.json");                   // id does not match the name
  for (int i = 0; i < 3; ++i) {
    auto listed = list(*catalog, "web");
    ASSERT_TRUE(listed.ok());
    EXPECT_THAT(conformance::ids_of(*listed), ::testing::ElementsAre("good"));
  }
  std::ifstream in(log_path);
  std::string line;
  int warnings = 0;
  while (std::getline(in, line)) warnings += line.find("skipping malformed record") != std::string::npos;
  EXPECT_EQ(warnings, 3) << "one per file, not one per read";
  EXPECT_EQ(catalog->skipped_records_for_test(), 9u);
}

TEST_F(EmbeddedCatalogTest, AVanishedCatalogIsAnErrorNotAnEmptyList) {
  auto catalog = open_catalog(options(), io_, timers_, files_, log_);
  ASSERT_TRUE(add(*catalog, make_instance("good", "web")).ok());
  fs::rename(root_ + "/catalog", root_ + "/moved-away");
  auto listed = list(*catalog, "web");
  ASSERT_FALSE(listed.ok()) << "an unavailable catalog must not read as 'no instances'";
  EXPECT_THAT(listed.error().message, ::testing::HasSubstr("is unavailable"));
  auto names = await_result<std::vector<ServiceSummary>>(io_, [&](auto cb) { catalog->services(cb); });
  EXPECT_FALSE(names.ok());
  auto kv = await_result<std::vector<KvEntry>>(io_, [&](auto cb) { catalog->list_kv("", cb); });
  EXPECT_FALSE(kv.ok());
  fs::rename(root_ + "/moved-away", root_ + "/catalog");
  listed = list(*catalog, "web");
  ASSERT_TRUE(listed.ok());
  EXPECT_THAT(conformance::ids_of(*listed), ::testing::ElementsAre("good"));
}

TEST_F(EmbeddedCatalogTest, InotifyBringsAnotherInstancesChangeQuickly) {
  auto mine = open_catalog(options(), io_, timers_, files_, log_);
  auto theirs = open_catalog(options(), io_, timers_, files_, log_);  // another container
  ASSERT_TRUE(mine->is_using_inotify());
  conformance::WatchLog seen;
  auto handle = mine->watch_service("app", false, 0, seen.callback());
  ASSERT_TRUE(run_until(io_, [&] { return seen.updates.size() == 1; }));
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(add(*theirs, make_instance("t1", "app")).ok());
  ASSERT_TRUE(run_until(
      io_, [&] { return seen.updates.size() == 2; }, 2s))
      << "no rescan for an hour: only inotify";
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);  // typically < 1ms; generous for loaded CI
  EXPECT_THAT(conformance::ids_of(seen.updates.back().instances), ::testing::ElementsAre("t1"));
}

// Real files on fake time: rescans and expiry are timers and the records'
// wall clock, which the test moves by hand.
class EmbeddedCatalogOnFakeTimeTest : public EmbeddedCatalogTest {
 protected:
  std::unique_ptr<EmbeddedCatalog> open_on_fake_time(EmbeddedOptions o) {
    o.wall_clock = wall_clock_for(fake_timers_, origin_);
    return open_catalog(std::move(o), io_, fake_timers_, files_, log_);
  }
  bool advance_until(const std::function<bool()>& done, Duration limit) {
    return testing::advance_until(fake_timers_, io_, done, limit);
  }

  os::FakeTimers fake_timers_;
  std::shared_ptr<Origin> origin_ = std::make_shared<Origin>();
};

TEST_F(EmbeddedCatalogOnFakeTimeTest, RescanFindsChangesWithoutInotify) {
  EmbeddedOptions polling = options(false);
  polling.rescan_interval = 100ms;
  auto mine = open_on_fake_time(polling);
  auto theirs = open_on_fake_time(options());
  EXPECT_FALSE(mine->is_using_inotify());
  conformance::WatchLog seen;
  auto handle = mine->watch_service("app", false, 0, seen.callback());
  ASSERT_TRUE(advance_until([&] { return seen.updates.size() == 1; }, 0ms));
  auto start = fake_timers_.now();
  ASSERT_TRUE(add(*theirs, make_instance("t1", "app")).ok());
  ASSERT_TRUE(advance_until([&] { return seen.updates.size() == 2; }, 1s));
  EXPECT_GT(fake_timers_.now() - start, 0ms) << "no inotify: not before a rescan";
  EXPECT_LE(fake_timers_.now() - start, 100ms) << "the next rescan finds it";
}

TEST_F(EmbeddedCatalogOnFakeTimeTest, SweeperDeletesExpiredRecordFiles) {
  EmbeddedOptions sweeping = options();
  sweeping.rescan_interval = 50ms;
  auto catalog = open_on_fake_time(sweeping);
  auto start = fake_timers_.now();
  ASSERT_TRUE(add(*catalog, make_instance("brief", "web"), 100ms).ok());
  std::string path = root_ + "/catalog/services/web/brief.json";
  EXPECT_TRUE(fs::exists(path));
  ASSERT_TRUE(advance_until([&] { return !fs::exists(path); }, 1s));
  EXPECT_GE(fake_timers_.now() - start, 100ms) << "not before it expired";
  EXPECT_LE(fake_timers_.now() - start, 150ms) << "by the first rescan after that";
}

TEST_F(EmbeddedCatalogOnFakeTimeTest, ExpiredRecordsAreHiddenBeforeTheSweep) {
  auto catalog = open_on_fake_time(options(false));  // no inotify, a rescan (and sweep) an hour away
  ASSERT_TRUE(add(*catalog, make_instance("brief", "web"), 100ms).ok());
  ASSERT_TRUE(add(*catalog, make_instance("lasting", "web"), 1h).ok());
  fake_timers_.advance(150ms);
  std::string path = root_ + "/catalog/services/web/brief.json";
  auto listed = list(*catalog, "web");
  ASSERT_TRUE(listed.ok());
  EXPECT_THAT(conformance::ids_of(*listed), ::testing::ElementsAre("lasting"));
  EXPECT_TRUE(fs::exists(path)) << "not swept yet: readers skip it on their own";
  auto names = await_result<std::vector<ServiceSummary>>(io_, [&](auto cb) { catalog->services(cb); });
  ASSERT_TRUE(names.ok());
  ASSERT_EQ(names->size(), 1u);
  auto hb = await_result<void>(io_, [&](auto cb) { catalog->heartbeat("brief", cb); });
  EXPECT_FALSE(hb.ok()) << "an expired record cannot be renewed";
}

TEST_F(EmbeddedCatalogTest, OpenMakesMissingParentsAndReportsFailures) {
  EmbeddedOptions nested = options();
  nested.dir = root_ + "/run/autopilot/catalog";
  EXPECT_TRUE(EmbeddedCatalog::open(nested, io_, timers_, files_, log_).ok());
  EXPECT_TRUE(fs::is_directory(nested.dir + "/services"));
  std::ofstream(root_ + "/file") << "x";
  nested.dir = root_ + "/file/catalog";
  auto failed = EmbeddedCatalog::open(nested, io_, timers_, files_, log_);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().message, "mkdir " + nested.dir + ": Not a directory");
}

TEST_F(EmbeddedCatalogTest, RecordsAreWholeFilesReadableByOthers) {
  auto catalog = open_catalog(options(), io_, timers_, files_, log_);
  ASSERT_TRUE(add(*catalog, make_instance("r1", "web")).ok());
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(root_ + "/catalog/services/web")) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  EXPECT_THAT(names, ::testing::ElementsAre(".index", "r1.json")) << "no temp file left behind";
  auto perms = fs::status(root_ + "/catalog/services/web/r1.json").permissions();
  EXPECT_EQ(perms, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
}

TEST_F(EmbeddedCatalogTest, KeysTooLongForAFileNameAreRefused) {
  auto catalog = open_catalog(options(), io_, timers_, files_, log_);
  std::string key;
  for (int i = 0; i < 70; ++i) key += "a/";  // valid (140 bytes), but 283 once encoded
  auto put = await_result<Index>(io_, [&](auto cb) { catalog->put(key, "v", cb); });
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().message, "key \"" + key + "\" is too long once encoded as a file name");
}

// --- trust model -------------------------------------------------------------------

TEST_F(EmbeddedCatalogTest, DirectoriesGetFixedModesWhateverTheUmask) {
  for (mode_t umask : {mode_t{0}, mode_t{077}}) {
    fs::remove_all(root_ + "/catalog");
    mode_t old = ::umask(umask);
    auto catalog = open_catalog(options(), io_, timers_, files_, log_);
    bool added = catalog && add(*catalog, make_instance("a1", "web")).ok();
    ::umask(old);
    ASSERT_TRUE(added);
    auto dir_mode = fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read |
                    fs::perms::others_exec;
    for (const char* dir : {"", "/services", "/kv", "/locks", "/services/web"}) {
      EXPECT_EQ(fs::status(root_ + "/catalog" + dir).permissions(), dir_mode) << dir << " under umask " << umask;
    }
  }
}

TEST_F(EmbeddedCatalogTest, AWorldWritableCatalogIsWarnedAbout) {
  std::string log_path = root_ + "/log.txt";
  log::Log log({log::Level::kInfo, log::Format::kDefault, log_path});
  ASSERT_TRUE(log.open().ok());
  fs::create_directories(root_ + "/catalog");
  fs::permissions(root_ + "/catalog", fs::perms::all);
  auto catalog = open_catalog(options(), io_, timers_, files_, log);
  ASSERT_TRUE(catalog);
  EXPECT_THAT(read_file(log_path), ::testing::HasSubstr("/catalog is world-writable (mode 0777)"));
}

TEST_F(EmbeddedCatalogTest, ASymlinkPlantedInTheCatalogIsNeverFollowed) {
  std::string elsewhere = root_ + "/elsewhere";
  fs::create_directories(elsewhere);
  fs::create_directories(root_ + "/catalog");
  fs::create_directory_symlink(elsewhere, root_ + "/catalog/services");
  auto refused = EmbeddedCatalog::open(options(), io_, timers_, files_, log_);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message, ::testing::HasSubstr("catalog/services is a symbolic link: refused"));

  // Planted while we run: writes fail, and nothing lands where it points.
  fs::remove(root_ + "/catalog/services");
  auto catalog = open_catalog(options(), io_, timers_, files_, log_);
  ASSERT_TRUE(catalog);
  ASSERT_TRUE(add(*catalog, make_instance("a1", "web")).ok());
  fs::rename(root_ + "/catalog/services", root_ + "/moved");
  fs::create_directory_symlink(elsewhere, root_ + "/catalog/services");
  fs::create_directories(elsewhere + "/web");
  auto added = add(*catalog, make_instance("a2", "web"));
  EXPECT_FALSE(added.ok());
  auto removed = await_result<void>(io_, [&](auto cb) { catalog->deregister("a1", cb); });
  EXPECT_FALSE(removed.ok());
  EXPECT_TRUE(fs::is_empty(elsewhere + "/web")) << "nothing written through the link";
  auto listed = list(*catalog, "web");
  EXPECT_FALSE(listed.ok()) << "a catalog with a planted link is unavailable, not empty";
}

// LinuxFiles, but the first write below services/web/ is preceded by
// `before_write`: another user's move at the worst moment, between
// whatever the catalog checked and the write itself.
class RacingFiles : public os::Files {
 public:
  RacingFiles(os::Files& real, std::function<void()> before_write)
      : real_(real), before_write_(std::move(before_write)) {}
  using Files::read;
  Result<std::string> read(const std::string& p, const os::ReadLimits& l) override { return real_.read(p, l); }
  Result<std::optional<os::FileInfo>> stat(const std::string& p) override { return real_.stat(p); }
  Result<std::vector<std::string>> list(const std::string& d) override { return real_.list(d); }
  Result<void> make_dirs(const std::string& d) override { return real_.make_dirs(d); }
  Result<void> remove(const std::string& p) override { return real_.remove(p); }
  Result<std::unique_ptr<StagedWrite>> stage(const std::string& p, const std::string& c,
                                              const os::WriteOptions& o) override {
    if (p.find("/services/web/") != std::string::npos) race();
    return real_.stage(p, c, o);
  }
  Result<void> link_atomic(const std::string& t, const std::string& p) override { return real_.link_atomic(t, p); }
  Result<std::unique_ptr<Watch>> watch(const std::string& d, OnChange f) override { return real_.watch(d, f); }
  Result<std::unique_ptr<Dir>> open_dir(const std::string& p) override {
    auto dir = real_.open_dir(p);
    if (!dir) return dir;
    return std::unique_ptr<Dir>(std::make_unique<RacingDir>(*this, std::move(*dir)));
  }

 private:
  class RacingDir : public Dir {
   public:
    RacingDir(RacingFiles& files, std::unique_ptr<Dir> real) : files_(files), real_(std::move(real)) {}
    const std::string& path() const override { return real_->path(); }
    Result<os::FileInfo> info() override { return real_->info(); }
    Result<void> set_mode(mode_t m) override { return real_->set_mode(m); }
    Result<std::string> read(const std::string& r, size_t n) override { return real_->read(r, n); }
    Result<std::optional<os::FileInfo>> stat(const std::string& r) override { return real_->stat(r); }
    Result<std::vector<std::string>> list(const std::string& r) override { return real_->list(r); }
    Result<void> make_dir(const std::string& r, mode_t m) override { return real_->make_dir(r, m); }
    Result<void> remove(const std::string& r) override { return real_->remove(r); }
    Result<void> write_atomic(const std::string& r, const std::string& c, const os::WriteOptions& o) override {
      if (r.starts_with("services/web/")) files_.race();
      return real_->write_atomic(r, c, o);
    }
    Result<std::unique_ptr<Lock>> try_lock(const std::string& r, mode_t m, bool n) override {
      return real_->try_lock(r, m, n);
    }

   private:
    RacingFiles& files_;
    std::unique_ptr<Dir> real_;
  };

  void race() {
    if (auto f = std::exchange(before_write_, nullptr)) f();
  }
  os::Files& real_;
  std::function<void()> before_write_;
};

TEST_F(EmbeddedCatalogTest, ALinkSwappedInBetweenCheckAndWriteIsNotFollowed) {
  std::string elsewhere = root_ + "/elsewhere";
  fs::create_directories(elsewhere);
  std::string web = root_ + "/catalog/services/web";
  RacingFiles racing(files_, [&] {
    fs::rename(web, root_ + "/moved");
    fs::create_directory_symlink(elsewhere, web);
  });
  auto catalog = open_catalog(options(), io_, timers_, racing, log_);
  ASSERT_TRUE(catalog);
  fs::create_directories(web);  // the directory a registration checks, there already
  auto added = add(*catalog, make_instance("a1", "web"));
  EXPECT_FALSE(added.ok()) << "the write found the link, and refused it";
  EXPECT_TRUE(fs::is_empty(elsewhere)) << "nothing written through the link";
}

TEST_F(EmbeddedCatalogTest, ALinkPlantedAtARecordIsNeitherReadNorWrittenThrough) {
  auto catalog = open_catalog(options(), io_, timers_, files_, log_);
  ASSERT_TRUE(catalog);
  ASSERT_TRUE(add(*catalog, make_instance("a1", "web")).ok());
  std::string record = root_ + "/catalog/services/web/a1.json";
  std::string target = root_ + "/target.json";
  fs::copy_file(record, target);  // a valid record, reachable only through the link
  std::string original = read_file(target);
  fs::remove(record);
  fs::create_symlink(target, record);
  auto listed = list(*catalog, "web");
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty()) << "the link is not read";
  ASSERT_TRUE(add(*catalog, make_instance("a1", "web")).ok());
  EXPECT_FALSE(fs::is_symlink(record)) << "the write replaced the link";
  EXPECT_EQ(read_file(target), original) << "and left its target alone";
  ASSERT_TRUE(await_result<void>(io_, [&](auto cb) { catalog->deregister("a1", cb); }).ok());
  EXPECT_TRUE(fs::exists(target));
}

// --- catalog.lock held by another process -------------------------------------------

// Another process holding an exclusive flock on `path`: from construction
// until `hold` has passed or the object is destroyed, whichever comes first.
class LockHolder {
 public:
  LockHolder(const std::string& path, std::chrono::milliseconds hold) {
    int ready[2], release[2];
    if (::pipe(ready) != 0 || ::pipe(release) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      // Its own copy of the write end would keep `release` from ever reading
      // EOF: the holder would sit out the whole `hold` after being released.
      ::close(release[1]);
      ::close(ready[0]);
      int fd = ::open(path.c_str(), O_RDWR | O_CREAT, 0600);
      if (fd < 0 || ::flock(fd, LOCK_EX) != 0) ::_exit(1);
      (void)!::write(ready[1], "x", 1);
      pollfd wait{release[0], POLLIN, 0};
      ::poll(&wait, 1, static_cast<int>(hold.count()));  // until released (EOF) or `hold` passed
      ::_exit(0);
    }
    ::close(ready[1]);
    ::close(release[0]);
    release_fd_ = release[1];
    char c;
    is_holding_ = ::read(ready[0], &c, 1) == 1;
    ::close(ready[0]);
  }
  ~LockHolder() {
    if (release_fd_ >= 0) ::close(release_fd_);
    if (pid_ > 0) ::waitpid(pid_, nullptr, 0);
  }
  pid_t pid() const { return pid_; }
  bool is_holding() const { return is_holding_; }

 private:
  pid_t pid_ = -1;
  int release_fd_ = -1;
  bool is_holding_ = false;
};

TEST_F(EmbeddedCatalogTest, ChangesWaitOnTheLoopWhileAnotherProcessHoldsCatalogLock) {
  std::string log_path = root_ + "/log.txt";
  log::Log log({log::Level::kInfo, log::Format::kDefault, log_path});
  ASSERT_TRUE(log.open().ok());
  auto catalog = open_catalog(options(), io_, timers_, files_, log);
  LockHolder holder(root_ + "/catalog/catalog.lock", 1500ms);
  ASSERT_TRUE(holder.is_holding());
  auto start = std::chrono::steady_clock::now();
  std::optional<Result<void>> added;
  catalog->register_instance(make_instance("a1", "web"), 30s, [&](Result<void> r) { added = std::move(r); });
  EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms) << "the call waited for the flock";
  bool ticked = false;
  os::Timer tick(timers_);
  tick.after(100ms, [&] { ticked = true; });
  ASSERT_TRUE(run_until(io_, [&] { return ticked; }, 1s));
  EXPECT_FALSE(added.has_value()) << "not before the holder lets go";
  ASSERT_TRUE(run_until(io_, [&] { return added.has_value(); }, 5s));
  EXPECT_TRUE(added->ok()) << added->error().message;
  EXPECT_GE(std::chrono::steady_clock::now() - start, 1s) << "it waited for the holder";
  EXPECT_THAT(read_file(log_path), ::testing::HasSubstr(fmt::format("catalog.lock is busy, held by pid {}", holder.pid())));
}

// The holder's release (its close of a write descriptor of the lock file)
// wakes a waiting change at once: with the retry timer out of reach (30 s),
// only the root's watch can run it within the bound. On a busy disk the
// holders' fsyncs made such waits frequent, each up to a retry late.
TEST_F(EmbeddedCatalogTest, AWaitingChangeRunsAsSoonAsTheHolderLetsGo) {
  std::string log_path = root_ + "/log.txt";
  log::Log log({log::Level::kInfo, log::Format::kDefault, log_path});
  ASSERT_TRUE(log.open().ok());
  EmbeddedOptions o = options();
  o.lock_retry_interval = 30s;
  auto catalog = open_catalog(o, io_, timers_, files_, log);
  ASSERT_TRUE(catalog->is_using_inotify());
  LockHolder holder(root_ + "/catalog/catalog.lock", 300ms);
  ASSERT_TRUE(holder.is_holding());
  std::optional<Result<void>> added;
  catalog->register_instance(make_instance("a1", "web"), 30s, [&](Result<void> r) { added = std::move(r); });
  ASSERT_TRUE(run_until(io_, [&] { return added.has_value(); }, 5s)) << "not woken by the release";
  EXPECT_TRUE(added->ok()) << added->error().message;
  // A wait this short is the catalog's normal sharing: no warning.
  EXPECT_THAT(read_file(log_path), ::testing::Not(::testing::HasSubstr("is busy")));
}

TEST_F(EmbeddedCatalogTest, AChangeGivesUpAfterTheLockTimeoutNamingTheHolder) {
  EmbeddedOptions o = options();
  o.catalog_lock_timeout = 300ms;
  auto catalog = open_catalog(o, io_, timers_, files_, log_);
  ASSERT_TRUE(add(*catalog, make_instance("a1", "web")).ok());
  LockHolder holder(root_ + "/catalog/catalog.lock", 20s);
  ASSERT_TRUE(holder.is_holding());
  auto start = std::chrono::steady_clock::now();
  auto put = await_result<Index>(io_, [&](auto cb) { catalog->put("k", "v", cb); });
  ASSERT_FALSE(put.ok());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 300ms);
  EXPECT_THAT(put.error().message, ::testing::HasSubstr("gave up after 300ms waiting for"));
  EXPECT_THAT(put.error().message, ::testing::HasSubstr(fmt::format("held by pid {}", holder.pid())));
  // Reads never take the lock.
  auto listed = list(*catalog, "web");
  ASSERT_TRUE(listed.ok());
  EXPECT_THAT(conformance::ids_of(*listed), ::testing::ElementsAre("a1"));
}

TEST_F(EmbeddedCatalogTest, LockFilesAreForWritersOnlyWhateverTheUmask) {
  mode_t old = ::umask(0);
  auto catalog = open_catalog(options(), io_, timers_, files_, log_);
  ASSERT_TRUE(add(*catalog, make_instance("a1", "web")).ok());
  auto lock = await_result<std::unique_ptr<Lock>>(io_, [&](auto cb) { catalog->try_lock("leader", 10s, cb); });
  ::umask(old);
  ASSERT_TRUE(lock.ok() && *lock);
  // Others could flock a file they can read, and so freeze every writer.
  auto writers_only = fs::perms::owner_read | fs::perms::owner_write;
  EXPECT_EQ(fs::status(root_ + "/catalog/catalog.lock").permissions(), writers_only);
  EXPECT_EQ(fs::status(root_ + "/catalog/locks/leader.lock").permissions(), writers_only);
}

// --- 20 processes -----------------------------------------------------------------

constexpr int kProcesses = 20;

// A record whose meta can be checked for tearing: `len` entries p0, p1, ...
// each of 500 copies of one letter chosen by `n` (1..31 KB in all).
Instance numbered(int process, int n) {
  Instance in = make_instance("p" + std::to_string(process), "torn", 1000 + process);
  int len = 2 + (n * 7 + process * 13) % 60;
  in.meta = {{"n", std::to_string(n)}, {"len", std::to_string(len)}};
  for (int i = 0; i < len; ++i) in.meta["p" + std::to_string(i)] = std::string(500, static_cast<char>('a' + n % 26));
  return in;
}

bool is_whole(const Instance& in) {
  int n = std::stoi(in.meta.at("n"));
  int len = std::stoi(in.meta.at("len"));
  if (in.meta.size() != static_cast<size_t>(len) + 2) return false;
  for (int i = 0; i < len; ++i) {
    const std::string& part = in.meta.at("p" + std::to_string(i));
    if (part != std::string(500, static_cast<char>('a' + n % 26))) return false;
  }
  return true;
}

// The body of one writer/reader process; returns its exit code.
int churn(const EmbeddedOptions& options, int process, int report_fd) {
  boost::asio::io_context io;
  os::AsioTimers timers(io);
  os::LinuxFiles files(io);
  log::Log log;
  auto catalog = EmbeddedCatalog::open(options, io, timers, files, log);
  if (!catalog) {
    std::fprintf(stderr, "process %d: %s\n", process, catalog.error().message.c_str());
    return 2;
  }
  int rounds = 0;
  auto end = std::chrono::steady_clock::now() + 3s;
  for (; rounds < 40 && std::chrono::steady_clock::now() < end; ++rounds) {
    auto added =
        await_result<void>(io, [&](auto cb) { (*catalog)->register_instance(numbered(process, rounds), 30s, cb); });
    auto listed = await_result<std::vector<Instance>>(io, [&](auto cb) { (*catalog)->list("torn", false, cb); });
    if (!added || !listed) {
      std::fprintf(stderr, "process %d: %s\n", process, (!added ? added.error() : listed.error()).message.c_str());
      return 2;
    }
    for (const auto& in : *listed) {
      if (!is_whole(in)) return 1;
    }
  }
  if ((*catalog)->skipped_records_for_test() != 0) return 1;  // a torn file would be skipped as malformed
  (void)!::write(report_fd, &rounds, sizeof rounds);
  return 0;
}

TEST_F(EmbeddedCatalogTest, TwentyProcessesNeverSeeATornRecord) {
  EmbeddedOptions shared = options(false);
  { auto init = open_catalog(shared, io_, timers_, files_, log_); }
  int report[2];
  ASSERT_EQ(::pipe(report), 0);
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) ::_exit(churn(shared, p, report[1]));
    children.push_back(pid);
  }
  ::close(report[1]);
  auto deadline = std::chrono::steady_clock::now() + 60s;
  int failures = 0;
  for (pid_t pid : children) {
    int status = 0;
    while (::waitpid(pid, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) ::kill(pid, SIGKILL);
      ::usleep(10000);  // bounded by the deadline above
    }
    bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok) ADD_FAILURE() << "child " << pid << " ended with wait status " << status;
    failures += !ok;
  }
  int total = 0, rounds = 0, reports = 0;
  while (::read(report[0], &rounds, sizeof rounds) == sizeof rounds) {
    total += rounds;
    ++reports;
  }
  ::close(report[0]);
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(reports, kProcesses);
  EXPECT_GE(total, kProcesses) << "every process did at least one round";
  auto listed = list(*open_catalog(shared, io_, timers_, files_, log_), "torn");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), static_cast<size_t>(kProcesses));
}

}  // namespace
}  // namespace autopilot::discovery::embedded
