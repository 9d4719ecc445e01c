// `autopilot migrate`: every v2 fixture, written out as v3, loads as the same
// jobs and watches as the v2 file itself.
#include "config/migrate.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "base/file.h"
#include "base/strings.h"

namespace autopilot::config {
namespace {

namespace fs = std::filesystem;

const Env kEnv{{"CONSUL", "consul.svc"}, {"LOG_LEVEL", "DEBUG"}};

// What must match between the v2 file and its migration.
std::string describe(const Config& c) {
  std::string s = "main=" + c.main_job + " stop=" + std::to_string(c.stop_timeout.count()) +
                  " consul=" + std::to_string(c.consul_given) + " catalog=" + c.discovery.describe() +
                  " log=" + std::to_string(static_cast<int>(c.logging.level)) + "\n";
  for (const auto& j : c.jobs) {
    s += "job " + j.name + " exec=[" + join(j.exec, "|") + "] when=" + j.when.source.str() + "/" +
         std::to_string(static_cast<int>(j.when.event)) + (j.when.each ? "/each" : "") +
         " every=" + std::to_string(j.when.interval.count()) + " timeout=" + std::to_string(j.timeout.count()) +
         " restarts=" + std::to_string(j.restarts) + " port=" + std::to_string(j.service.port) +
         " tags=[" + join(j.service.tags, "|") + "] address=" + j.service.address;
    if (j.gate) s += " after=" + j.gate->source.str() + "/" + std::to_string(static_cast<int>(j.gate->code));
    if (j.health)
      s += " health=[" + join(j.health->exec, "|") + "]/" + std::to_string(j.health->interval.count()) + "/" +
           std::to_string(j.health->ttl.count()) + "/" + std::to_string(j.health->timeout.count());
    s += "\n";
  }
  for (const auto& w : c.watches) s += "watch " + w.name + " " + w.tag + " " + std::to_string(w.interval.count()) + "\n";
  return s;
}

Result<Config> load_text(const std::string& file, const std::string& text, const std::vector<std::string>& app) {
  auto rendered = render_config_text(file, text, kEnv);
  if (!rendered) return rendered.error();
  return parse(file, *rendered, true, app);
}

class Migrate : public ::testing::TestWithParam<std::string> {};

TEST_P(Migrate, TheV3OutputLoadsAsTheSameJobsAndWatches) {
  std::string path = "testdata/v2/" + GetParam();
  auto text = read_file(path);
  ASSERT_TRUE(text.ok()) << text.error().message;
  const std::vector<std::string> app{"nginx", "-g", "daemon off; # {{ .LOG_LEVEL }}"};
  std::vector<std::string> rendered_app{"nginx", "-g", "daemon off; # DEBUG"};
  auto v2 = load_text(path, *text, rendered_app);
  ASSERT_TRUE(v2.ok()) << v2.error().format();
  auto migrated = migrate_v2(path, *text, app, kEnv);
  ASSERT_TRUE(migrated.ok()) << migrated.error().format();
  auto v3 = load_text("migrated.json5", *migrated, {});
  ASSERT_TRUE(v3.ok()) << v3.error().format() << "\n" << *migrated;
  EXPECT_FALSE(v3->is_v2);
  EXPECT_EQ(describe(*v3), describe(*v2)) << *migrated;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, Migrate,
                         ::testing::Values("nginx_autopilot.json", "redis_etcd.json", "worker_minimal.json"),
                         [](const auto& info) { return info.param.substr(0, info.param.find('.')); });

TEST(MigrateOutput, KeepsTemplatesAndCommentsEachTranslatedBlock) {
  auto out = migrate_v2("cp.json", R"({
  "consul": "{{ .CONSUL }}:8500",
  "preStart": "/bin/prestart.sh",
  "backends": [ { "name": "api", "poll": 3, "onChange": "/bin/reload.sh" } ]
})", {"node", "app.js"}, kEnv);
  ASSERT_TRUE(out.ok()) << out.error().format();
  EXPECT_EQ(*out, R"(// Translated from the ContainerPilot v2 config cp.json by `autopilot migrate`.
{
  // v2 `consul`: accepted and logged; autopilot keeps its own catalog
  consul: "{{ .CONSUL }}:8500",
  jobs: [
    // v2 `preStart`: runs first; the app waits for its success
    { name: "preStart", exec: "/bin/prestart.sh" },
    // the app of the command line
    {
      name: "app",
      exec: ["node", "app.js"],
      when: { source: "preStart", once: "exitSuccess" },
    },
    // v2 `backends[0].onChange`: on each change of api, once preStart succeeded; v2 skipped it in maintenance (SIGUSR1), which v3 cannot say
    {
      name: "onChange-api",
      exec: "/bin/reload.sh",
      when: {
        source: "watch.api",
        each: "changed",
        after: { source: "preStart", once: "exitSuccess" },
      },
    },
  ],
  // v2's app (the command line) is the main job
  mainJob: "app",
  watches: [
    // v2 `backends[0]`: the watch
    { name: "api", interval: 3 },
  ],
}
)");
}

TEST(MigrateOutput, RefusesAV3Config) {
  auto out = migrate_v2("c.json5", "{ jobs: [] }", {}, kEnv);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().format(),
            "c.json5 is read as a ContainerPilot v3 config because of `jobs`; migrate translates ContainerPilot v2 "
            "configs");
}

}  // namespace
}  // namespace autopilot::config
