#include "os/fake/fake_files.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <vector>

#include "os/fake/fake_timers.h"

namespace autopilot::os {
namespace {

class FakeFilesTest : public ::testing::Test {
 protected:
  std::vector<std::string> seen_;
  FakeTimers timers_;
  FakeFiles files_{timers_};

  std::unique_ptr<Files::Watch> watch(const std::string& dir) {
    auto w = files_.watch(dir, [this](const std::string& d) { seen_.push_back(d); });
    EXPECT_TRUE(w.ok()) << w.error().message;
    return w ? std::move(*w) : nullptr;
  }
};

TEST_F(FakeFilesTest, ReadsStatsAndListsWhatWasWritten) {
  files_.write_for_test("/etc/app/a.conf", "hello", 0640);
  files_.write_for_test("/etc/app/b.conf", "");
  EXPECT_EQ(*files_.read("/etc/app/a.conf"), "hello");
  EXPECT_EQ(*files_.read("/etc/app/../app//a.conf"), "hello") << "paths are taken lexically";
  auto info = **files_.stat("/etc/app/a.conf");
  EXPECT_EQ(info.kind, FileKind::kFile);
  EXPECT_EQ(info.size, 5u);
  EXPECT_EQ(info.mode, 0640u);
  EXPECT_EQ((**files_.stat("/etc/app")).kind, FileKind::kDirectory);
  EXPECT_EQ(*files_.list("/etc/app"), (std::vector<std::string>{"a.conf", "b.conf"}));
  EXPECT_EQ(*files_.list("/etc"), std::vector<std::string>{"app"});
}

TEST_F(FakeFilesTest, MissingPathsHaveLinuxWordsAndCodes) {
  files_.write_for_test("/etc/file", "");
  auto missing = files_.read("/etc/nope");
  EXPECT_EQ(missing.error().message, "open /etc/nope: No such file or directory");
  EXPECT_EQ(missing.error().code, kNotFound);
  EXPECT_EQ(files_.read("/etc/file/x").error().message, "open /etc/file/x: Not a directory");
  EXPECT_EQ(files_.read("/etc").error().message, "/etc is not a regular file");
  EXPECT_EQ(*files_.stat("/etc/nope"), std::nullopt);
  EXPECT_EQ(files_.list("/nope").error().code, kNotFound);
  EXPECT_EQ(files_.make_dirs("/etc/file/sub").error().message, "mkdir /etc/file/sub: Not a directory");
  EXPECT_EQ(files_.read("/etc/file", ReadLimits{0, true}).ok(), true);
  files_.write_for_test("/etc/big", "12345");
  EXPECT_EQ(files_.read("/etc/big", ReadLimits{4, true}).error().message, "/etc/big is larger than 4 bytes");
}

TEST_F(FakeFilesTest, WriteAtomicReplacesTheFileWithANewOneAndLeavesNoTemp) {
  files_.write_for_test("/etc/a.conf", "old");
  auto before = **files_.stat("/etc/a.conf");
  ASSERT_TRUE(files_.write_atomic("/etc/a.conf", "new", {.mode = 0600}).ok());
  auto after = **files_.stat("/etc/a.conf");
  EXPECT_EQ(*files_.read("/etc/a.conf"), "new");
  EXPECT_EQ(after.mode, 0600u);
  EXPECT_NE(after.inode, before.inode);
  EXPECT_GT(after.mtime, before.mtime);
  EXPECT_EQ(*files_.list("/etc"), std::vector<std::string>{"a.conf"});
}

TEST_F(FakeFilesTest, AStagedWriteShowsItsTempFileUntilCommittedOrDropped) {
  files_.write_for_test("/etc/a.conf", "old");
  auto staged = files_.stage("/etc/a.conf", "new", {});
  ASSERT_TRUE(staged.ok());
  const std::string temp = (*staged)->temp_path();
  EXPECT_TRUE(temp.starts_with("/etc/.a.conf.autopilot-")) << temp;
  EXPECT_EQ(*files_.read(temp), "new");
  EXPECT_EQ(*files_.read("/etc/a.conf"), "old");
  ASSERT_TRUE((*staged)->commit().ok());
  EXPECT_EQ(*files_.read("/etc/a.conf"), "new");
  EXPECT_EQ(*files_.stat(temp), std::nullopt);

  auto dropped = files_.stage("/etc/a.conf", "newer", {});
  ASSERT_TRUE(dropped.ok());
  dropped->reset();
  EXPECT_EQ(*files_.list("/etc"), std::vector<std::string>{"a.conf"});
}

TEST_F(FakeFilesTest, AnUnwritableDirectoryRefusesWritesAndKeepsTheOldFile) {
  files_.write_for_test("/etc/a.conf", "old");
  files_.set_writable_for_test("/etc", false);
  auto r = files_.write_atomic("/etc/a.conf", "new", {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "mkstemp /etc/.a.conf.autopilot-XXXXXX: Permission denied");
  EXPECT_EQ(files_.remove("/etc/a.conf").error().message, "unlink /etc/a.conf: Permission denied");
  EXPECT_EQ(files_.make_dirs("/etc/sub").error().message, "mkdir /etc/sub: Permission denied");
  EXPECT_EQ(*files_.read("/etc/a.conf"), "old");
  files_.set_writable_for_test("/etc", true);
  EXPECT_TRUE(files_.write_atomic("/etc/a.conf", "new", {}).ok());
}

TEST_F(FakeFilesTest, AFailedRenameOrWriteKeepsTheOldContent) {
  files_.write_for_test("/etc/a.conf", "old");
  files_.fail_next_rename_for_test(EIO);
  auto renamed = files_.write_atomic("/etc/a.conf", "new", {});
  ASSERT_FALSE(renamed.ok());
  EXPECT_TRUE(renamed.error().message.starts_with("rename /etc/.a.conf.autopilot-")) << renamed.error().message;
  EXPECT_TRUE(renamed.error().message.ends_with(" /etc/a.conf: Input/output error")) << renamed.error().message;
  files_.fail_next_write_for_test(ENOSPC);
  auto written = files_.write_atomic("/etc/a.conf", "new", {});
  ASSERT_FALSE(written.ok());
  EXPECT_TRUE(written.error().message.ends_with(": No space left on device")) << written.error().message;
  EXPECT_EQ(*files_.read("/etc/a.conf"), "old");
  EXPECT_EQ(*files_.list("/etc"), std::vector<std::string>{"a.conf"});
  EXPECT_TRUE(files_.write_atomic("/etc/a.conf", "new", {}).ok()) << "each failure happens once";
}

TEST_F(FakeFilesTest, LinkAtomicSharesTheFile) {
  files_.write_for_test("/etc/a.conf", "v1");
  ASSERT_TRUE(files_.link_atomic("/etc/a.conf", "/etc/a.conf.bak").ok());
  EXPECT_EQ((**files_.stat("/etc/a.conf.bak")).inode, (**files_.stat("/etc/a.conf")).inode);
  files_.write_for_test("/etc/a.conf", "v2");  // in place: both names see it
  EXPECT_EQ(*files_.read("/etc/a.conf.bak"), "v2");
  files_.make_dirs("/etc/d").ok();
  EXPECT_TRUE(files_.link_atomic("/etc/a.conf", "/etc/d").error().message.ends_with(" /etc/d: Is a directory"));
  EXPECT_EQ(*files_.list("/etc"), (std::vector<std::string>{"a.conf", "a.conf.bak", "d"}));
}

TEST_F(FakeFilesTest, WatchersHearOfChangesOnTheTimersNeverInline) {
  files_.make_dirs("/etc/app").ok();
  auto w = watch("/etc/app");
  files_.write_for_test("/etc/app/a", "1");
  ASSERT_TRUE(files_.write_atomic("/etc/app/b", "2", {}).ok());
  ASSERT_TRUE(files_.remove("/etc/app/a").ok());
  EXPECT_TRUE(seen_.empty());
  timers_.advance(Duration::zero());
  EXPECT_EQ(seen_, std::vector<std::string>{"/etc/app"}) << "coalesced, as one inotify read";
  timers_.advance(Duration::zero());
  EXPECT_EQ(seen_.size(), 1u);
}

TEST_F(FakeFilesTest, TempFilesAndUnseenWritesAreNotReported) {
  files_.make_dirs("/etc").ok();
  auto w = watch("/etc");
  auto staged = files_.stage("/etc/a", "x", {});
  staged->reset();
  files_.write_for_test("/etc/b", "x", 0644, false);
  timers_.advance(Duration::zero());
  EXPECT_TRUE(seen_.empty());
}

TEST_F(FakeFilesTest, OnlyTheChangedDirectoryIsReportedAndAnEndedWatchHearsNothing) {
  files_.make_dirs("/a").ok();
  files_.make_dirs("/b").ok();
  auto a = watch("/a");
  auto b = watch("/b");
  files_.write_for_test("/a/x", "1");
  a.reset();  // after the change, before the delivery
  files_.write_for_test("/b/x", "1");
  timers_.advance(Duration::zero());
  EXPECT_EQ(seen_, std::vector<std::string>{"/b"});
  EXPECT_EQ(files_.watch_count(), 1u);
  EXPECT_EQ(files_.watch("/nope", [](const std::string&) {}).error().message,
            "inotify_add_watch /nope: No such file or directory");
}

TEST_F(FakeFilesTest, DirRefusesALinkOnTheWayAsLinuxFilesDoes) {
  files_.write_for_test("/root/services/web/a1.json", "ours");
  files_.write_for_test("/elsewhere/web/a1.json", "theirs");
  auto dir = files_.open_dir("/root");
  ASSERT_TRUE(dir.ok());
  Files::Dir& root = **dir;
  EXPECT_EQ(*root.read("services/web/a1.json", 100), "ours");
  files_.remove_for_test("/root/services");
  files_.symlink_for_test("/root/services", "/elsewhere");
  std::string refused = "/root/services is a symbolic link: refused";
  EXPECT_EQ(root.read("services/web/a1.json", 100).error().message, refused);
  EXPECT_EQ(root.write_atomic("services/web/a2.json", "x", {}).error().message, refused);
  EXPECT_EQ(root.list("services").error().message, refused);
  EXPECT_EQ(root.make_dir("services/db", 0755).error().message, refused);
  EXPECT_EQ((**root.stat("services")).kind, FileKind::kSymlink);
  EXPECT_FALSE(files_.stat("/elsewhere/web/a2.json")->has_value());

  files_.remove_for_test("/root/services");
  files_.write_for_test("/root/services/web/.keep", "");
  files_.symlink_for_test("/root/services/web/a1.json", "/elsewhere/web/a1.json");
  EXPECT_EQ(root.read("services/web/a1.json", 100).error().message,
            "/root/services/web/a1.json is a symbolic link: refused");
  ASSERT_TRUE(root.write_atomic("services/web/a1.json", "ours", {}).ok()) << "replaces the link";
  EXPECT_EQ(*root.read("services/web/a1.json", 100), "ours");
  EXPECT_EQ(*files_.read("/elsewhere/web/a1.json"), "theirs");
}

TEST_F(FakeFilesTest, DirLocksAreExclusiveAndTheirReleaseIsSeen) {
  files_.write_for_test("/root/locks/.keep", "");
  auto dir = files_.open_dir("/root");
  ASSERT_TRUE(dir.ok());
  auto w = watch("/root/locks");
  auto first = (*dir)->try_lock("locks/a.lock", 0600, true);
  ASSERT_TRUE(first.ok() && *first);
  EXPECT_EQ(*(*dir)->try_lock("locks/a.lock", 0600, true), nullptr);
  timers_.advance(Duration::zero());
  seen_.clear();
  first->reset();
  timers_.advance(Duration::zero());
  EXPECT_EQ(seen_, std::vector<std::string>{"/root/locks"});
  EXPECT_NE(*(*dir)->try_lock("locks/a.lock", 0600, true), nullptr);
}

}  // namespace
}  // namespace autopilot::os
