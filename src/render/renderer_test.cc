#include "render/renderer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "discovery/testing.h"
#include "os/linux/linux_processes.h"
#include "os/linux/loop_testing.h"
#include "wiring/testing/fake_wiring.h"

namespace autopilot::render {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using discovery::Status;
using discovery::testing::make_instance;

const char* kUpstreams =
    "{{ range service \"app\" }}{{ .Address }}:{{ .Port }}\n{{ else }}none\n{{ end }}";

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class RendererTest : public ::testing::Test {
 protected:
  TemplateConfig config(const std::string& text, Duration min = 0ms, Duration max = 0ms) {
    TemplateConfig t;
    t.name = "upstreams";
    t.text = text;
    t.template_file = "upstreams.ctmpl";
    t.destination = (fs::path(loop_.dir()).parent_path() / "out/upstreams.conf").string();
    t.wait_min = min;
    t.wait_max = max;
    return t;
  }
  Renderer& make(TemplateConfig t, Duration command_retry = 1s, Duration command_retry_max = 30s) {
    Wiring wiring{.loop = loop_.io,
                  .timers = loop_.timers,
                  .processes = processes_,
                  .files = loop_.files,
                  .log = *log_,
                  .bus = loop_.bus,
                  .catalog = loop_.catalog.get(),
                  .env = [](const std::string&) { return std::nullopt; },
                  .child_env = [] { return os::Environment(std::vector<std::string>{"PATH=/usr/bin:/bin"}); }};
    RenderOptions options{.files_refresh = files_refresh_,
                          .command_retry = command_retry,
                          .command_retry_max = command_retry_max};
    renderer_ = std::make_unique<Renderer>(std::move(t), wiring, options);
    renderer_->on_written = [this](const Result<Outcome>& r) {
      if (r && *r == Outcome::kWritten) ++writes_;
    };
    return *renderer_;
  }
  void add(const std::string& id, int port, Status status = Status::kPassing) {
    auto i = make_instance(id, "app", port, status);
    loop_.expect_ok([&](auto cb) { loop_.catalog->register_instance(i, 30s, cb); });
  }
  std::string dest() const { return renderer_->config().destination; }
  std::string contents() const { return read(dest()); }
  // Files beside the catalog's directory, for the tests' own bookkeeping.
  std::string scratch(const std::string& name) const { return (fs::path(loop_.dir()).parent_path() / name).string(); }
  int count_in_log(const std::string& text) const {
    std::string log = read(log_path_);
    int n = 0;
    for (size_t at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) ++n;
    return n;
  }
  void SetUp() override { ASSERT_TRUE(log_->open().ok()); }
  void TearDown() override {
    renderer_.reset();
    os::run_until(loop_.io, [&] { return processes_.running() == 0; }, 5s);
  }

  discovery::testing::CatalogLoop loop_{100ms};  // rescans notice a vanished directory
  std::string log_path_ = scratch("autopilot.log");
  std::unique_ptr<log::Log> log_ =
      std::make_unique<log::Log>(log::LogConfig{log::Level::kDebug, log::Format::kDefault, log_path_});
  os::LinuxProcesses processes_{loop_.io};
  std::unique_ptr<Renderer> renderer_;
  int writes_ = 0;
  Duration files_refresh_ = 50ms;
};

// Templates that read only files (no catalog), on fake timers, files and
// processes: every change and every poll is driven by hand.
class RendererOnFakesTest : public ::testing::Test {
 protected:
  Renderer& make(const std::string& text) {
    TemplateConfig t;
    t.name = "motd";
    t.text = text;
    t.template_file = "motd.ctmpl";
    t.destination = "/out/motd.conf";
    renderer_ = std::make_unique<Renderer>(std::move(t), fakes_.wiring(nullptr),
                                           RenderOptions{.files_refresh = files_refresh_});
    return *renderer_;
  }
  std::string contents() {
    auto text = fakes_.files.read("/out/motd.conf");
    return text ? *text : "(" + text.error().message + ")";
  }
  // Runs what is due now: directory watches, renders, writes.
  void settle() { fakes_.settle(); }

  FakeWiring fakes_{log::LogConfig{}};  // no catalog: these templates read files only
  Duration files_refresh_ = 1h;  // the poll never comes unless a test says so
  std::unique_ptr<Renderer> renderer_;
};

TEST_F(RendererOnFakesTest, AFileChangeShowsAtOnceThroughTheDirectoryWatch) {
  fakes_.files.write_for_test("/etc/motd.txt", "one");
  make("motd: {{ file \"/etc/motd.txt\" }}\n").start();
  settle();
  EXPECT_EQ(contents(), "motd: one\n");
  auto start = fakes_.timers.now();
  fakes_.files.write_for_test("/etc/motd.txt", "two");  // in place
  settle();
  EXPECT_EQ(contents(), "motd: two\n");
  ASSERT_TRUE(fakes_.files.write_atomic("/etc/motd.txt", "three", {}).ok());  // replaced by a rename, as editors do
  settle();
  EXPECT_EQ(contents(), "motd: three\n");
  EXPECT_EQ(fakes_.timers.now(), start) << "no poll was needed";
  EXPECT_EQ(renderer_->passes(), 3u);
}

TEST_F(RendererOnFakesTest, AChangeNoWatchSeesIsFoundByThePoll) {
  files_refresh_ = 2s;
  fakes_.files.write_for_test("/etc/motd.txt", "one");
  make("motd: {{ file \"/etc/motd.txt\" }}\n").start();
  settle();
  EXPECT_EQ(contents(), "motd: one\n");
  // As through a symlink into another directory, or on a network file system.
  fakes_.files.write_for_test("/etc/motd.txt", "two", 0644, /*is_seen=*/false);
  settle();
  fakes_.timers.advance(1999ms);
  EXPECT_EQ(contents(), "motd: one\n");
  fakes_.timers.advance(1ms);
  EXPECT_EQ(contents(), "motd: two\n");
}

TEST_F(RendererOnFakesTest, AFileThatAppearsLaterIsRenderedThen) {
  ASSERT_TRUE(fakes_.files.make_dirs("/etc").ok());
  make("motd: {{ file \"/etc/motd.txt\" }}\n").start();
  settle();
  EXPECT_EQ(contents(), "(open /out/motd.conf: No such file or directory)") << "a failed pass writes nothing";
  EXPECT_FALSE(renderer_->has_rendered());
  fakes_.files.write_for_test("/etc/motd.txt", "here");
  settle();
  EXPECT_EQ(contents(), "motd: here\n");
}

TEST_F(RendererOnFakesTest, AWriteThatFailsKeepsTheOldFileAndTheNextChangeWritesAgain) {
  fakes_.files.write_for_test("/etc/motd.txt", "one");
  make("motd: {{ file \"/etc/motd.txt\" }}\n").start();
  settle();
  ASSERT_EQ(contents(), "motd: one\n");
  fakes_.files.set_writable_for_test("/out", false);
  fakes_.files.write_for_test("/etc/motd.txt", "two");
  settle();
  EXPECT_EQ(contents(), "motd: one\n");
  fakes_.files.set_writable_for_test("/out", true);
  fakes_.files.write_for_test("/etc/motd.txt", "three");
  settle();
  EXPECT_EQ(contents(), "motd: three\n");
  EXPECT_EQ(*fakes_.files.list("/out"), std::vector<std::string>{"motd.conf"}) << "no temp file left";
}

TEST_F(RendererTest, RendersOnceTheDataHasArrivedAndPublishesChanged) {
  add("app-1", 8001);
  add("app-2", 8002);
  auto& r = make(config(kUpstreams));
  r.start();
  ASSERT_TRUE(loop_.run_until([&] { return r.has_rendered(); }));
  EXPECT_EQ(contents(), "127.0.0.1:8001\n127.0.0.1:8002\n");
  EXPECT_EQ(r.passes(), 1u) << "the pass that had no data yet wrote nothing";
  ASSERT_TRUE(loop_.run_until([&] { return loop_.count(events::Code::kStatusChanged, "template.upstreams") == 1; }));
}

TEST_F(RendererTest, FollowsChangesAndRendersAnEmptySetWhenTheCatalogSaysSo) {
  add("app-1", 8001);
  auto& r = make(config(kUpstreams));
  r.start();
  ASSERT_TRUE(loop_.run_until([&] { return contents() == "127.0.0.1:8001\n"; }));
  add("app-2", 8002);
  ASSERT_TRUE(loop_.run_until([&] { return contents() == "127.0.0.1:8001\n127.0.0.1:8002\n"; }));
  loop_.expect_ok([&](auto cb) { loop_.catalog->set_status("app-1", Status::kCritical, cb); });
  ASSERT_TRUE(loop_.run_until([&] { return contents() == "127.0.0.1:8002\n"; }));
  loop_.expect_ok([&](auto cb) { loop_.catalog->deregister("app-2", cb); });
  ASSERT_TRUE(loop_.run_until([&] { return contents() == "none\n"; }));
}

TEST_F(RendererTest, AnUnavailableCatalogLeavesTheFileAlone) {
  add("app-1", 8001);
  auto& r = make(config(kUpstreams));
  r.start();
  ASSERT_TRUE(loop_.run_until([&] { return contents() == "127.0.0.1:8001\n"; }));
  std::string catalog = loop_.dir();
  fs::rename(catalog, catalog + ".away");
  // The embedded catalog's rescan (100 ms here) finds the directory gone.
  ASSERT_TRUE(loop_.run_until([&] { return r.is_waiting_for_catalog(); }, 3s));
  loop_.run_for(300ms);
  EXPECT_EQ(contents(), "127.0.0.1:8001\n") << "never an empty upstream list because the catalog blinked";
  fs::rename(catalog + ".away", catalog);
  add("app-2", 8002);
  ASSERT_TRUE(loop_.run_until([&] { return contents() == "127.0.0.1:8001\n127.0.0.1:8002\n"; }, 5s));
  EXPECT_FALSE(r.is_waiting_for_catalog());
}

TEST_F(RendererTest, QuiescenceFoldsABurstIntoOneOrTwoRenders) {
  auto& r = make(config(kUpstreams, 100ms, 1s));
  r.start();
  ASSERT_TRUE(loop_.run_until([&] { return r.has_rendered(); }));
  int before = writes_;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 50; ++i) add("app-" + std::to_string(100 + i), 9000 + i);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s) << "the burst itself must be quick for this test";
  ASSERT_TRUE(loop_.run_until([&] { return contents().size() == 50 * std::string("127.0.0.1:9000\n").size(); }));
  loop_.run_for(300ms);
  int renders = writes_ - before;
  EXPECT_GE(renders, 1);
  EXPECT_LE(renders, 2) << "50 registrations, wait {min: 100ms, max: 1s}";
}

TEST_F(RendererTest, TemplateErrorsAtRenderTimeKeepTheOldFile) {
  add("app-1", 8001);
  auto& r = make(config("{{ range service \"app\" }}{{ .Port | printf \"%d\" }}{{ .Nope }}{{ end }}"));
  r.start();
  loop_.run_for(300ms);
  EXPECT_FALSE(r.has_rendered());
  EXPECT_FALSE(fs::exists(dest()));
}

// A reload command that fails its first N runs (nginx still starting), as a
// script counting in files: `runs` gets one line per run (its time in ns),
// `failures` holds how many runs are still to fail.
std::vector<std::string> flaky_command(const std::string& runs, const std::string& failures) {
  return {"sh", "-c",
          "date +%s%N >> " + runs + "; n=$(cat " + failures + "); if [ \"$n\" -gt 0 ]; then echo $((n - 1)) > " +
              failures + "; echo \"reload refused, $n to go\" >&2; exit 1; fi; echo reloaded"};
}

std::vector<int64_t> run_times(const std::string& runs) {
  std::vector<int64_t> out;
  std::istringstream in(read(runs));
  for (int64_t t; in >> t;) out.push_back(t);
  return out;
}

TEST_F(RendererTest, AFailedCommandIsRetriedWithBackoffUntilTheNewFileLands) {
  std::string runs = scratch("runs"), failures = scratch("failures");
  std::ofstream(failures) << "2\n";
  add("app-1", 8001);
  auto t = config(kUpstreams);
  t.command = flaky_command(runs, failures);
  fs::create_directories(fs::path(t.destination).parent_path());
  std::ofstream(t.destination) << "old\n";
  auto& r = make(std::move(t), 100ms, 200ms);
  r.start();
  ASSERT_TRUE(loop_.run_until([&] { return loop_.count(events::Code::kStatusChanged, "template.upstreams") == 1; }, 5s))
      << "runs: " << run_times(runs).size() << ", file: " << contents();
  EXPECT_EQ(contents(), "127.0.0.1:8001\n");
  EXPECT_FALSE(r.is_retrying());
  auto times = run_times(runs);
  ASSERT_EQ(times.size(), 3u) << "two failed reloads, then one that worked";
  EXPECT_GE(times[1] - times[0], 100'000'000) << "first retry after command_retry";
  EXPECT_GE(times[2] - times[1], 200'000'000) << "then doubled";
  // Under command.<template>, once per failed attempt (Output's summary line repeats the tail).
  EXPECT_EQ(count_in_log("warning: reload refused, 2 to go"), 1) << read(log_path_);
  EXPECT_EQ(count_in_log("warning: reload refused, 1 to go"), 1);
  EXPECT_EQ(count_in_log("trying again in 100ms"), 1);
  EXPECT_EQ(count_in_log("trying again in 200ms"), 1);
  EXPECT_EQ(count_in_log("(after 2 failed commands)"), 1);
  loop_.run_for(500ms);
  EXPECT_EQ(loop_.count(events::Code::kStatusChanged, "template.upstreams"), 1) << "changed once, when it landed";
  EXPECT_EQ(run_times(runs).size(), 3u) << "nothing runs once the file landed";
}

TEST_F(RendererTest, RetriesOfAFailingCommandAreCappedAndACatalogChangeStartsThemOver) {
  std::string runs = scratch("runs"), failures = scratch("failures");
  std::ofstream(failures) << "1000\n";
  add("app-1", 8001);
  auto t = config(kUpstreams);
  t.command = flaky_command(runs, failures);
  fs::create_directories(fs::path(t.destination).parent_path());
  std::ofstream(t.destination) << "old\n";
  auto& r = make(std::move(t), 20ms, 40ms);
  r.start();
  ASSERT_TRUE(loop_.run_until([&] { return count_in_log("trying again in 40ms") >= 3; }, 5s));
  EXPECT_EQ(contents(), "old\n") << "rolled back after every failure";
  EXPECT_EQ(count_in_log("trying again in 20ms"), 1) << "20ms, then 40ms and no more";
  EXPECT_EQ(count_in_log("trying again in 80ms"), 0);
  EXPECT_TRUE(r.is_retrying());
  add("app-2", 8002);
  ASSERT_TRUE(loop_.run_until([&] { return count_in_log("trying again in 20ms") == 2; }, 5s))
      << "a new pass starts the backoff over";
  std::ofstream(failures) << "0\n";
  ASSERT_TRUE(loop_.run_until([&] { return loop_.count(events::Code::kStatusChanged, "template.upstreams") == 1; }, 5s));
  EXPECT_EQ(contents(), "127.0.0.1:8001\n127.0.0.1:8002\n");
  EXPECT_FALSE(r.is_retrying());
}

TEST_F(RendererTest, AFailedCheckIsNotRetried) {
  std::string runs = scratch("runs");
  add("app-1", 8001);
  auto t = config(kUpstreams);
  t.check = {"sh", "-c", "echo run >> " + runs + "; exit 1"};
  auto& r = make(std::move(t), 20ms, 40ms);
  r.start();
  ASSERT_TRUE(loop_.run_until([&] { return fs::exists(runs); }));
  loop_.run_for(300ms);
  EXPECT_EQ(read(runs), "run\n") << "the content was refused; the same content is not tried again";
  EXPECT_FALSE(r.is_retrying());
  EXPECT_FALSE(fs::exists(dest()));
}

}  // namespace
}  // namespace autopilot::render
