#include "os/linux/linux_files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "os/linux/loop_testing.h"

namespace autopilot::os {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

class LinuxFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "linux_files_test.XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  void put(const std::string& name, const std::string& content) {
    std::ofstream(path(name), std::ios::binary) << content;
  }
  std::vector<std::string> names() {
    std::vector<std::string> out;
    for (const auto& entry : fs::directory_iterator(dir_)) out.push_back(entry.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }

  std::string dir_;
  boost::asio::io_context io_;
  LinuxFiles files_{io_};
};

// Sets the umask for one scope.
class Umask {
 public:
  explicit Umask(mode_t mask) : old_(::umask(mask)) {}
  ~Umask() { ::umask(old_); }

 private:
  mode_t old_;
};

TEST_F(LinuxFilesTest, ReadsAWholeFileAndSaysWhenItIsMissing) {
  std::string big(200 * 1024, 'x');  // more than one read(2)
  put("a", big);
  auto text = files_.read(path("a"));
  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_EQ(*text, big);

  auto missing = files_.read(path("nope"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "open " + path("nope") + ": No such file or directory");
  EXPECT_EQ(missing.error().code, kNotFound);
}

TEST_F(LinuxFilesTest, ReadRefusesDirectoriesFifosLargeFilesAndSymlinksWhenAsked) {
  fs::create_directory(path("d"));
  EXPECT_EQ(files_.read(path("d")).error().message, path("d") + " is not a regular file");
  ASSERT_EQ(::mkfifo(path("fifo").c_str(), 0600), 0);
  EXPECT_EQ(files_.read(path("fifo")).error().message, path("fifo") + " is not a regular file") << "never blocks";

  put("a", "12345");
  EXPECT_EQ(files_.read(path("a"), ReadLimits{4, true}).error().message, path("a") + " is larger than 4 bytes");
  EXPECT_EQ(*files_.read(path("a"), ReadLimits{5, true}), "12345");

  fs::create_symlink(path("a"), path("link"));
  EXPECT_EQ(*files_.read(path("link")), "12345");
  auto refused = files_.read(path("link"), ReadLimits{1024, false});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message, "open " + path("link") + ": Too many levels of symbolic links");
  EXPECT_NE(refused.error().code, kNotFound);
}

TEST_F(LinuxFilesTest, StatTellsKindSizeModeAndInodeThroughSymlinks) {
  put("a", "hello");
  ASSERT_EQ(::chmod(path("a").c_str(), 0640), 0);
  fs::create_symlink(path("a"), path("link"));
  fs::create_symlink(path("gone"), path("dangling"));
  auto info = files_.stat(path("link"));
  ASSERT_TRUE(info.ok() && info->has_value());
  EXPECT_EQ((*info)->kind, FileKind::kFile);
  EXPECT_EQ((*info)->size, 5u);
  EXPECT_EQ((*info)->mode, 0640u);
  EXPECT_EQ((*info)->inode, (*files_.stat(path("a")))->inode);
  EXPECT_EQ((*files_.stat(dir_))->kind, FileKind::kDirectory);
  EXPECT_EQ(*files_.stat(path("nope")), std::nullopt);
  EXPECT_EQ(*files_.stat(path("dangling")), std::nullopt);
  auto through_file = files_.stat(path("a/b"));
  ASSERT_FALSE(through_file.ok());
  EXPECT_EQ(through_file.error().message, "stat " + path("a/b") + ": Not a directory");
}

TEST_F(LinuxFilesTest, ListIsSortedAndAMissingDirectoryIsNotFound) {
  for (const char* name : {"b", "a", ".hidden", "c"}) put(name, "");
  auto listed = files_.list(dir_);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(*listed, (std::vector<std::string>{".hidden", "a", "b", "c"}));
  auto missing = files_.list(path("nope"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "opendir " + path("nope") + ": No such file or directory");
  EXPECT_EQ(missing.error().code, kNotFound);
}

TEST_F(LinuxFilesTest, MakeDirsMakesParentsAndNamesAFileInTheWay) {
  Umask umask(022);
  ASSERT_TRUE(files_.make_dirs(path("x/y/z")).ok());
  EXPECT_TRUE(fs::is_directory(path("x/y/z")));
  EXPECT_EQ(mode_of(path("x/y")), 0755u);
  EXPECT_TRUE(files_.make_dirs(path("x/y/z")).ok()) << "existing directories are fine";
  put("file", "");
  EXPECT_EQ(files_.make_dirs(path("file")).error().message, "mkdir " + path("file") + ": Not a directory");
  EXPECT_EQ(files_.make_dirs(path("file/sub")).error().message, "mkdir " + path("file/sub") + ": Not a directory");
}

TEST_F(LinuxFilesTest, RemoveTakesFilesAndIgnoresMissingOnes) {
  put("a", "");
  EXPECT_TRUE(files_.remove(path("a")).ok());
  EXPECT_FALSE(fs::exists(path("a")));
  EXPECT_TRUE(files_.remove(path("a")).ok());
  fs::create_directory(path("d"));
  EXPECT_EQ(files_.remove(path("d")).error().message, "unlink " + path("d") + ": Is a directory");
}

TEST_F(LinuxFilesTest, WriteAtomicSetsTheModeWhateverTheUmask) {
  {
    Umask umask(077);
    ASSERT_TRUE(files_.write_atomic(path("a"), "one", {.mode = 0644}).ok());
    EXPECT_EQ(mode_of(path("a")), 0644u);
  }
  {
    Umask umask(0);
    ASSERT_TRUE(files_.write_atomic(path("a"), "two", {.mode = 0600}).ok());
    EXPECT_EQ(mode_of(path("a")), 0600u);
  }
  EXPECT_EQ(slurp(path("a")), "two");
  EXPECT_EQ(names(), std::vector<std::string>{"a"}) << "no temp file left";
}

TEST_F(LinuxFilesTest, WriteAtomicGivesTheOwnerAsked) {
  if (::geteuid() != 0) GTEST_SKIP() << "chown needs root";
  WriteOptions options;
  options.owner = WriteOptions::Owner{1234, 5678};
  ASSERT_TRUE(files_.write_atomic(path("a"), "x", options).ok());
  auto info = **files_.stat(path("a"));
  EXPECT_EQ(info.uid, 1234u);
  EXPECT_EQ(info.gid, 5678u);
}

TEST_F(LinuxFilesTest, AStagedWriteIsInvisibleUntilCommitted) {
  put("a", "old");
  auto staged = files_.stage(path("a"), "new", {.mode = 0640});
  ASSERT_TRUE(staged.ok()) << staged.error().message;
  const std::string temp = (*staged)->temp_path();
  EXPECT_TRUE(temp.starts_with(path(".a.autopilot-"))) << temp;
  EXPECT_TRUE(is_temp_name(fs::path(temp).filename().string()));
  EXPECT_EQ(slurp(temp), "new");
  EXPECT_EQ(mode_of(temp), 0640u);
  EXPECT_EQ(slurp(path("a")), "old");
  ASSERT_TRUE((*staged)->commit().ok());
  EXPECT_EQ(slurp(path("a")), "new");
  EXPECT_FALSE(fs::exists(temp));

  auto dropped = files_.stage(path("a"), "newer", {});
  ASSERT_TRUE(dropped.ok());
  std::string dropped_temp = (*dropped)->temp_path();
  dropped->reset();
  EXPECT_FALSE(fs::exists(dropped_temp)) << "an uncommitted temp file goes with its StagedWrite";
  EXPECT_EQ(slurp(path("a")), "new");
}

TEST_F(LinuxFilesTest, AFailedRenameKeepsTheOldContentAndLeavesNoTempFile) {
  put("a", "old");
  auto staged = files_.stage(path("a"), "new", {});
  ASSERT_TRUE(staged.ok());
  const std::string temp = (*staged)->temp_path();
  fs::remove(temp);  // someone swept it away: the rename cannot happen
  auto committed = (*staged)->commit();
  ASSERT_FALSE(committed.ok());
  EXPECT_EQ(committed.error().message, "rename " + temp + " " + path("a") + ": No such file or directory");
  EXPECT_EQ(slurp(path("a")), "old");

  fs::create_directories(path("d/occupied"));
  auto over_dir = files_.write_atomic(path("d"), "new", {});
  ASSERT_FALSE(over_dir.ok());
  EXPECT_TRUE(over_dir.error().message.starts_with("rename " + path(".d.autopilot-"))) << over_dir.error().message;
  EXPECT_TRUE(over_dir.error().message.ends_with(" " + path("d") + ": Is a directory")) << over_dir.error().message;
  EXPECT_TRUE(fs::exists(path("d/occupied")));
  EXPECT_EQ(names(), (std::vector<std::string>{"a", "d"}));
}

TEST_F(LinuxFilesTest, WriteAtomicIntoAMissingDirectoryNamesThePattern) {
  auto r = files_.write_atomic(path("nope/a.conf"), "x", {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "mkstemp " + path("nope/.a.conf.autopilot-XXXXXX") + ": No such file or directory");
}

TEST_F(LinuxFilesTest, LinkAtomicMakesAnotherNameOfTheSameFile) {
  put("a", "v1");
  put("a.bak", "older");
  ASSERT_TRUE(files_.link_atomic(path("a"), path("a.bak")).ok());
  EXPECT_EQ(slurp(path("a.bak")), "v1");
  EXPECT_EQ((*files_.stat(path("a.bak")))->inode, (*files_.stat(path("a")))->inode);
  ASSERT_TRUE(files_.link_atomic(path("a"), path("a.bak")).ok()) << "already the same file";
  EXPECT_EQ(names(), (std::vector<std::string>{"a", "a.bak"}));
  auto missing = files_.link_atomic(path("nope"), path("b"));
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.error().message.starts_with("link " + path("nope") + " " + path(".nope.autopilot-")));
  EXPECT_EQ(names(), (std::vector<std::string>{"a", "a.bak"}));
}

TEST_F(LinuxFilesTest, TempNamesAreRecognised) {
  EXPECT_EQ(temp_name("a.conf"), ".a.conf.autopilot-XXXXXX");
  EXPECT_TRUE(is_temp_name(".a.conf.autopilot-Zb3kQx"));
  EXPECT_FALSE(is_temp_name("a.conf.autopilot-Zb3kQx"));
  EXPECT_FALSE(is_temp_name(".a.conf.autopilot-Zb3kQ"));
  EXPECT_FALSE(is_temp_name(".index"));
}

// inotify: each test waits for a callback it caused (bounded), never for time
// to pass. Events of one inotify fd come in order, so once a change made
// later in another directory was reported, an earlier one would have been too.
TEST_F(LinuxFilesTest, AWatchReportsChangesButNotTempFiles) {
  fs::create_directories(path("w"));
  fs::create_directories(path("marker"));
  std::vector<std::string> seen;
  auto watch = files_.watch(path("w"), [&](const std::string& dir) { seen.push_back(dir); });
  ASSERT_TRUE(watch.ok()) << watch.error().message;
  auto marker = files_.watch(path("marker"), [&](const std::string& dir) { seen.push_back(dir); });
  ASSERT_TRUE(marker.ok());

  auto staged = files_.stage(path("w/a"), "x", {});
  ASSERT_TRUE(staged.ok());
  staged->reset();
  put("marker/m", "");
  ASSERT_TRUE(run_until(io_, [&] { return !seen.empty(); }, 5s));
  EXPECT_EQ(seen, std::vector<std::string>{path("marker")}) << "a temp file is not a change";

  seen.clear();
  ASSERT_TRUE(files_.write_atomic(path("w/a"), "y", {}).ok());
  EXPECT_TRUE(seen.empty()) << "never inline";
  ASSERT_TRUE(run_until(io_, [&] { return !seen.empty(); }, 5s));
  EXPECT_EQ(seen.front(), path("w"));
}

TEST_F(LinuxFilesTest, WatchesOfOneDirectoryAreIndependentAndEndWithTheirHandle) {
  fs::create_directories(path("w"));
  fs::create_directories(path("marker"));
  int first = 0, second = 0, markers = 0;
  auto one = files_.watch(path("w"), [&](const std::string&) { ++first; });
  auto two = files_.watch(path("w"), [&](const std::string&) { ++second; });
  auto marker = files_.watch(path("marker"), [&](const std::string&) { ++markers; });
  ASSERT_TRUE(one.ok() && two.ok() && marker.ok());

  put("w/a", "1");
  ASSERT_TRUE(run_until(io_, [&] { return first > 0 && second > 0; }, 5s));
  one->reset();
  first = second = 0;
  put("w/b", "2");
  ASSERT_TRUE(run_until(io_, [&] { return second > 0; }, 5s));
  EXPECT_EQ(first, 0) << "a destroyed watch reports nothing";

  two->reset();
  second = 0;
  put("w/c", "3");
  put("marker/m", "");
  ASSERT_TRUE(run_until(io_, [&] { return markers > 0; }, 5s));
  EXPECT_EQ(second, 0);
}

TEST_F(LinuxFilesTest, AWatchMayEndItselfFromItsCallback) {
  fs::create_directories(path("w"));
  int calls = 0;
  std::unique_ptr<Files::Watch> watch;
  auto made = files_.watch(path("w"), [&](const std::string&) {
    ++calls;
    watch.reset();
  });
  ASSERT_TRUE(made.ok());
  watch = std::move(*made);
  put("w/a", "1");
  ASSERT_TRUE(run_until(io_, [&] { return calls > 0; }, 5s));
  EXPECT_EQ(calls, 1);
}

// A Kubernetes ConfigMap volume: app.conf -> ..data/app.conf, ..data -> v1;
// an update renames a new ..data symlink over the old one. The renderer
// watches the directory of app.conf and re-stats it through the symlinks.
TEST_F(LinuxFilesTest, AWatchSeesAConfigMapSwapAndStatFollowsIt) {
  fs::create_directories(path("conf/v1"));
  fs::create_directories(path("conf/v2"));
  put("conf/v1/app.conf", "v1");
  put("conf/v2/app.conf", "v2, longer");
  fs::create_directory_symlink("v1", path("conf/..data"));
  fs::create_symlink("..data/app.conf", path("conf/app.conf"));
  auto before = **files_.stat(path("conf/app.conf"));
  EXPECT_EQ(*files_.read(path("conf/app.conf")), "v1");
  int changes = 0;
  auto watch = files_.watch(path("conf"), [&](const std::string&) { ++changes; });
  ASSERT_TRUE(watch.ok());
  fs::create_directory_symlink("v2", path("conf/..data_tmp"));
  fs::rename(path("conf/..data_tmp"), path("conf/..data"));
  ASSERT_TRUE(run_until(io_, [&] { return changes > 0; }, 5s));
  auto after = **files_.stat(path("conf/app.conf"));
  EXPECT_NE(after.inode, before.inode);
  EXPECT_EQ(after.size, 10u);
  EXPECT_EQ(*files_.read(path("conf/app.conf")), "v2, longer");
}

TEST_F(LinuxFilesTest, WatchingAMissingDirectoryFails) {
  auto watch = files_.watch(path("nope"), [](const std::string&) {});
  ASSERT_FALSE(watch.ok());
  EXPECT_EQ(watch.error().message, "inotify_add_watch " + path("nope") + ": No such file or directory");
}

// --- Dir: nothing below it reached through a link -------------------------------

TEST_F(LinuxFilesTest, DirRefusesALinkOnTheWayOrAtTheEnd) {
  fs::create_directories(path("root/services/web"));
  fs::create_directories(path("elsewhere/web"));
  put("elsewhere/web/a1.json", "theirs");
  put("elsewhere/secret", "secret");
  auto dir = files_.open_dir(path("root"));
  ASSERT_TRUE(dir.ok()) << dir.error().message;
  Files::Dir& root = **dir;
  EXPECT_EQ(root.read("services/web/a1.json", 100).error().code, kNotFound);
  ASSERT_TRUE(root.write_atomic("services/web/a1.json", "ours", {}).ok());
  EXPECT_EQ(*root.read("services/web/a1.json", 100), "ours");

  // A link in place of a directory: every call is refused, nothing lands there.
  fs::rename(path("root/services"), path("moved"));
  fs::create_directory_symlink(path("elsewhere"), path("root/services"));
  std::string refused = path("root/services") + " is a symbolic link: refused";
  EXPECT_EQ(root.read("services/web/a1.json", 100).error().message, refused);
  EXPECT_EQ(root.write_atomic("services/web/a2.json", "x", {}).error().message, refused);
  EXPECT_EQ(root.remove("services/web/a1.json").error().message, refused);
  EXPECT_EQ(root.list("services/web").error().message, refused);
  EXPECT_EQ(root.list("services").error().message, refused);
  EXPECT_EQ(root.make_dir("services/db", 0755).error().message, refused);
  EXPECT_EQ(root.try_lock("services/x.lock", 0600, false).error().message, refused);
  EXPECT_EQ(root.make_dir("services", 0755).error().message, refused) << "an existing link is no directory";
  EXPECT_EQ((**root.stat("services")).kind, FileKind::kSymlink);
  EXPECT_EQ(slurp(path("elsewhere/web/a1.json")), "theirs");
  EXPECT_FALSE(fs::exists(path("elsewhere/web/a2.json")));
  EXPECT_FALSE(fs::exists(path("elsewhere/db")));

  // A link at the end: not read; a write replaces the link, not its target.
  fs::remove(path("root/services"));
  fs::rename(path("moved"), path("root/services"));
  fs::remove(path("root/services/web/a1.json"));
  fs::create_symlink(path("elsewhere/secret"), path("root/services/web/a1.json"));
  EXPECT_EQ(root.read("services/web/a1.json", 100).error().message,
            path("root/services/web/a1.json") + " is a symbolic link: refused");
  ASSERT_TRUE(root.write_atomic("services/web/a1.json", "ours", {.mode = 0644}).ok());
  EXPECT_FALSE(fs::is_symlink(path("root/services/web/a1.json")));
  EXPECT_EQ(slurp(path("elsewhere/secret")), "secret");
  EXPECT_EQ(mode_of(path("root/services/web/a1.json")), 0644u);
  fs::create_symlink(path("elsewhere/secret"), path("root/services/web/a3.json"));
  ASSERT_TRUE(root.remove("services/web/a3.json").ok());
  EXPECT_EQ(slurp(path("elsewhere/secret")), "secret") << "the link went, not its target";
  EXPECT_FALSE(root.read("../elsewhere/secret", 100).ok()) << "\"..\" is not a plain name";
  EXPECT_FALSE(root.read("/etc/passwd", 100).ok());
}

TEST_F(LinuxFilesTest, DirMakesDirectoriesAndLocksWithTheirModesWhateverTheUmask) {
  fs::create_directories(path("root"));
  auto dir = files_.open_dir(path("root"));
  ASSERT_TRUE(dir.ok());
  mode_t old = ::umask(0077);
  ASSERT_TRUE((*dir)->make_dir("locks", 0755).ok());
  ASSERT_TRUE((*dir)->make_dir("locks", 0755).ok()) << "an existing directory is fine";
  auto first = (*dir)->try_lock("locks/a.lock", 0660, true);
  ::umask(old);
  EXPECT_EQ(mode_of(path("root/locks")), 0755u);
  ASSERT_TRUE(first.ok() && *first);
  EXPECT_EQ(mode_of(path("root/locks/a.lock")), 0660u);
  auto second = (*dir)->try_lock("locks/a.lock", 0660, true);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, nullptr) << "held: not waited for";
  first->reset();
  auto third = (*dir)->try_lock("locks/a.lock", 0660, true);
  ASSERT_TRUE(third.ok());
  EXPECT_NE(*third, nullptr);
  EXPECT_EQ(names(), std::vector<std::string>{"root"}) << "no temp file left anywhere";
}

}  // namespace
}  // namespace autopilot::os
