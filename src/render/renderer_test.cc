#include "render/renderer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "discovery/testing.h"
#include "os/linux/linux_processes.h"

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
  Renderer& make(TemplateConfig t) {
    renderer_ = std::make_unique<Renderer>(
        std::move(t), RendererContext{loop_.bus, processes_, loop_.timers, loop_.log, loop_.catalog.get(),
                                      [](const std::string&) { return std::nullopt; }, nullptr});
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

  discovery::testing::CatalogLoop loop_{100ms};  // rescans notice a vanished directory
  os::LinuxProcesses processes_{loop_.io};
  std::unique_ptr<Renderer> renderer_;
  int writes_ = 0;
};

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

}  // namespace
}  // namespace autopilot::render
