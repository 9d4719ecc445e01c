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

// End to end on the real OS: the embedded catalog, real files and processes.
// The renderer's behaviour is tested on fakes (RendererOnFakeCatalogTest).
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
  Renderer& make(TemplateConfig t) {
    Wiring wiring{.loop = loop_.io,
                  .timers = loop_.timers,
                  .processes = processes_,
                  .files = loop_.files,
                  .log = *log_,
                  .bus = loop_.bus,
                  .catalog = loop_.catalog.get(),
                  .env = [](const std::string&) { return std::nullopt; },
                  .child_env = [] { return os::Environment(std::vector<std::string>{"PATH=/usr/bin:/bin"}); }};
    renderer_ = std::make_unique<Renderer>(std::move(t), wiring);
    return *renderer_;
  }
  void add(const std::string& id, int port, Status status = Status::kPassing) {
    auto i = make_instance(id, "app", port, status);
    loop_.expect_ok([&](auto cb) { loop_.catalog->register_instance(i, 30s, cb); });
  }
  std::string dest() const { return renderer_->config().destination; }
  std::string contents() const { return read(dest()); }
  // Files beside the catalog's directory (the log).
  std::string scratch(const std::string& name) const { return (fs::path(loop_.dir()).parent_path() / name).string(); }
  void SetUp() override { ASSERT_TRUE(log_->open().ok()); }
  void TearDown() override {
    renderer_.reset();
    os::run_until(loop_.io, [&] { return processes_.running() == 0; }, 5s);
  }

  discovery::testing::CatalogLoop loop_;
  std::string log_path_ = scratch("autopilot.log");
  std::unique_ptr<log::Log> log_ =
      std::make_unique<log::Log>(log::LogConfig{log::Level::kDebug, log::Format::kDefault, log_path_});
  os::LinuxProcesses processes_{loop_.io};
  std::unique_ptr<Renderer> renderer_;
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

// Catalog templates on fakes: the in-memory catalog, fake files and fake
// timers; the commands and checks a template runs are ended by the test.
class RendererOnFakeCatalogTest : public ::testing::Test {
 protected:
  RendererOnFakeCatalogTest() {
    fakes_.bus.subscribe([this](const events::Event& e) { events_.push_back(e); });
  }
  void SetUp() override {
    ASSERT_FALSE(dir_.empty());
    ASSERT_TRUE(fakes_.log.open().ok());
  }
  void TearDown() override {
    renderer_.reset();
    fs::remove_all(dir_);
  }

  TemplateConfig config(const std::string& text, Duration min = 0ms, Duration max = 0ms) {
    TemplateConfig t;
    t.name = "upstreams";
    t.text = text;
    t.template_file = "upstreams.ctmpl";
    t.destination = "/out/upstreams.conf";
    t.wait_min = min;
    t.wait_max = max;
    return t;
  }
  Renderer& make(TemplateConfig t, Duration command_retry = 1s, Duration command_retry_max = 30s) {
    RenderOptions options{.command_retry = command_retry, .command_retry_max = command_retry_max};
    renderer_ = std::make_unique<Renderer>(std::move(t), fakes_.wiring(), options);
    renderer_->on_written = [this](const Result<Outcome>& r) {
      if (r && *r == Outcome::kWritten) ++writes_;
    };
    return *renderer_;
  }
  void settle() { fakes_.settle(); }
  bool run_until(const std::function<bool()>& done, Duration limit = 5s) { return fakes_.run_until(done, limit); }
  void expect_ok(const std::function<void(discovery::Callback<void>)>& start) { fakes_.expect_ok(start); }
  void add(const std::string& id, int port) {
    auto i = make_instance(id, "app", port);
    expect_ok([&](auto cb) { fakes_.catalog.register_instance(i, 30s, cb); });
  }
  std::string contents() {
    auto text = fakes_.files.read("/out/upstreams.conf");
    return text ? *text : "(" + text.error().message + ")";
  }
  int changed() const {
    return static_cast<int>(
        std::count(events_.begin(), events_.end(),
                   events::Event{events::Code::kStatusChanged, events::Source::templ("upstreams")}));
  }
  size_t spawned() const { return fakes_.processes.spawned().size(); }
  // Ends the check or command started last with `code`, after it printed `line`.
  void end_last(int code, const std::string& line = "") {
    ASSERT_GT(spawned(), 0u);
    int pid = fakes_.processes.spawned().back().pid;
    ASSERT_TRUE(fakes_.processes.is_running(pid));
    if (!line.empty()) fakes_.processes.output_for_test(pid, line);
    fakes_.processes.exit_for_test(pid, {code});
    settle();
  }
  int count_in_log(const std::string& text) const {
    std::string log = read(log_path_);
    int n = 0;
    for (size_t at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) ++n;
    return n;
  }

  std::string dir_ = discovery::testing::make_temp_dir("renderer-test");  // for the log only
  std::string log_path_ = dir_ + "/autopilot.log";
  FakeWiring fakes_{log::LogConfig{log::Level::kDebug, log::Format::kDefault, log_path_}};
  std::vector<events::Event> events_;
  std::unique_ptr<Renderer> renderer_;
  int writes_ = 0;
};

TEST_F(RendererOnFakeCatalogTest, FollowsChangesAndRendersAnEmptySetWhenTheCatalogSaysSo) {
  add("app-1", 8001);
  make(config(kUpstreams)).start();
  settle();
  EXPECT_EQ(contents(), "127.0.0.1:8001\n");
  add("app-2", 8002);
  EXPECT_EQ(contents(), "127.0.0.1:8001\n127.0.0.1:8002\n");
  expect_ok([&](auto cb) { fakes_.catalog.set_status("app-1", Status::kCritical, cb); });
  EXPECT_EQ(contents(), "127.0.0.1:8002\n");
  expect_ok([&](auto cb) { fakes_.catalog.deregister("app-2", cb); });
  EXPECT_EQ(contents(), "none\n");
  EXPECT_EQ(changed(), 4);
}

TEST_F(RendererOnFakeCatalogTest, AnUnavailableCatalogLeavesTheFileAlone) {
  add("app-1", 8001);
  auto& r = make(config(kUpstreams));
  r.start();
  settle();
  ASSERT_EQ(contents(), "127.0.0.1:8001\n");
  fakes_.catalog.set_available(false);
  settle();
  EXPECT_TRUE(r.is_waiting_for_catalog());
  fakes_.timers.advance(5s);  // its watch re-subscribed, and failed, every second
  EXPECT_EQ(contents(), "127.0.0.1:8001\n") << "never an empty upstream list because the catalog blinked";
  EXPECT_EQ(count_in_log("the catalog is unavailable; keeping the last good"), 1) << "said once";
  fakes_.catalog.set_available(true);
  add("app-2", 8002);
  ASSERT_TRUE(run_until([&] { return contents() == "127.0.0.1:8001\n127.0.0.1:8002\n"; }, 5s));
  EXPECT_FALSE(r.is_waiting_for_catalog());
}

TEST_F(RendererOnFakeCatalogTest, QuiescenceFoldsABurstIntoOneRender) {
  auto& r = make(config(kUpstreams, 100ms, 1s));
  r.start();
  settle();
  ASSERT_TRUE(r.has_rendered());
  int before = writes_;
  auto start = fakes_.timers.now();
  for (int i = 0; i < 50; ++i) add("app-" + std::to_string(100 + i), 9000 + i);
  ASSERT_TRUE(run_until([&] { return contents().size() == 50 * std::string("127.0.0.1:9000\n").size(); }, 5s));
  EXPECT_EQ(fakes_.timers.now() - start, 100ms) << "wait {min: 100ms}: after a quiet 100ms";
  fakes_.timers.advance(2s);
  EXPECT_EQ(writes_ - before, 1) << "50 registrations at once, wait {min: 100ms, max: 1s}";
}

TEST_F(RendererOnFakeCatalogTest, TemplateErrorsAtRenderTimeKeepTheOldFile) {
  add("app-1", 8001);
  auto& r = make(config("{{ range service \"app\" }}{{ .Port | printf \"%d\" }}{{ .Nope }}{{ end }}"));
  r.start();
  fakes_.timers.advance(300ms);
  EXPECT_FALSE(r.has_rendered());
  EXPECT_EQ(contents(), "(open /out/upstreams.conf: No such file or directory)");
}

TEST_F(RendererOnFakeCatalogTest, AFailedCommandIsRetriedWithBackoffUntilTheNewFileLands) {
  add("app-1", 8001);
  auto t = config(kUpstreams);
  t.command = {"nginx", "-s", "reload"};
  fakes_.files.write_for_test("/out/upstreams.conf", "old\n");
  auto& r = make(std::move(t), 100ms, 200ms);
  r.start();
  settle();
  ASSERT_EQ(spawned(), 1u);
  end_last(1, "reload refused, 2 to go");
  EXPECT_EQ(contents(), "old\n") << "rolled back";
  auto failed = fakes_.timers.now();
  ASSERT_TRUE(run_until([&] { return spawned() == 2; }, 1s));
  EXPECT_EQ(fakes_.timers.now() - failed, 100ms) << "first retry after command_retry";
  end_last(1, "reload refused, 1 to go");
  failed = fakes_.timers.now();
  ASSERT_TRUE(run_until([&] { return spawned() == 3; }, 1s));
  EXPECT_EQ(fakes_.timers.now() - failed, 200ms) << "then doubled";
  end_last(0, "reloaded");
  EXPECT_EQ(changed(), 1);
  EXPECT_EQ(contents(), "127.0.0.1:8001\n");
  EXPECT_FALSE(r.is_retrying());
  // Under command.<template>, once per failed attempt (Output's summary line repeats the tail).
  EXPECT_EQ(count_in_log("warning: reload refused, 2 to go"), 1) << read(log_path_);
  EXPECT_EQ(count_in_log("warning: reload refused, 1 to go"), 1);
  EXPECT_EQ(count_in_log("trying again in 100ms"), 1);
  EXPECT_EQ(count_in_log("trying again in 200ms"), 1);
  EXPECT_EQ(count_in_log("(after 2 failed commands)"), 1);
  fakes_.timers.advance(5s);
  EXPECT_EQ(changed(), 1) << "changed once, when it landed";
  EXPECT_EQ(spawned(), 3u) << "nothing runs once the file landed";
}

TEST_F(RendererOnFakeCatalogTest, OperatorMetricsCountRendersByResultCommandFailuresAndTheLastGoodRender) {
  auto& m = fakes_.enable_operator_metrics();
  add("app-1", 8001);
  auto t = config(kUpstreams);
  t.command = {"nginx", "-s", "reload"};
  fakes_.files.write_for_test("/out/upstreams.conf", "old\n");
  auto& r = make(std::move(t), 100ms, 200ms);
  r.start();
  settle();
  ASSERT_EQ(spawned(), 1u);
  end_last(1);
  EXPECT_EQ(m.template_renders->with({"upstreams", "command_failed"}).value(), 1);
  EXPECT_EQ(m.template_command_failures->with({"upstreams"}).value(), 1);
  EXPECT_EQ(m.template_last_success->series().count({"upstreams"}), 0u) << "nothing good yet";
  ASSERT_TRUE(run_until([&] { return spawned() == 2; }, 1s));
  end_last(0);
  EXPECT_EQ(m.template_renders->with({"upstreams", "written"}).value(), 1);
  EXPECT_EQ(m.template_last_success->with({"upstreams"}).value(), 1700000000.0);
  EXPECT_EQ(m.template_render_duration->with({"upstreams"}).count(), 1u) << "one pass; the retry writes it again";
  std::string text = fakes_.metrics.expose();
  EXPECT_NE(text.find("autopilot_template_renders_total{template=\"upstreams\",result=\"written\"} 1\n"),
            std::string::npos)
      << text;
}

TEST_F(RendererOnFakeCatalogTest, RetriesOfAFailingCommandAreCappedAndACatalogChangeStartsThemOver) {
  add("app-1", 8001);
  auto t = config(kUpstreams);
  t.command = {"nginx", "-s", "reload"};
  fakes_.files.write_for_test("/out/upstreams.conf", "old\n");
  auto& r = make(std::move(t), 20ms, 40ms);
  r.start();
  settle();
  for (size_t run = 1; run <= 4; ++run) {
    ASSERT_TRUE(run_until([&] { return spawned() == run; }, 1s));
    end_last(1, "reload refused");
  }
  EXPECT_EQ(contents(), "old\n") << "rolled back after every failure";
  EXPECT_EQ(count_in_log("trying again in 20ms"), 1) << "20ms, then 40ms and no more";
  EXPECT_EQ(count_in_log("trying again in 40ms"), 3);
  EXPECT_EQ(count_in_log("trying again in 80ms"), 0);
  EXPECT_TRUE(r.is_retrying());
  add("app-2", 8002);  // a new pass writes at once
  ASSERT_EQ(spawned(), 5u);
  end_last(1, "reload refused");
  EXPECT_EQ(count_in_log("trying again in 20ms"), 2) << "a new pass starts the backoff over";
  ASSERT_TRUE(run_until([&] { return spawned() == 6; }, 1s));
  end_last(0);
  EXPECT_EQ(changed(), 1);
  EXPECT_EQ(contents(), "127.0.0.1:8001\n127.0.0.1:8002\n");
  EXPECT_FALSE(r.is_retrying());
}

TEST_F(RendererOnFakeCatalogTest, AFailedCheckIsNotRetried) {
  add("app-1", 8001);
  auto t = config(kUpstreams);
  t.check = {"nginx", "-t"};
  auto& r = make(std::move(t), 20ms, 40ms);
  r.start();
  settle();
  ASSERT_EQ(spawned(), 1u);
  end_last(1, "bad config");
  fakes_.timers.advance(5s);
  EXPECT_EQ(spawned(), 1u) << "the content was refused; the same content is not tried again";
  EXPECT_FALSE(r.is_retrying());
  EXPECT_EQ(contents(), "(open /out/upstreams.conf: No such file or directory)");
}

}  // namespace
}  // namespace autopilot::render
