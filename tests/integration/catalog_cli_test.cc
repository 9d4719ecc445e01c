// `autopilot catalog services|service` and `autopilot render`: a real
// autopilot registers a job in an embedded catalog under a temp dir; the
// catalog command, run as another process, must print it as JSON on stdout
// (stderr apart), render must write it into a file, and neither may create a
// catalog where there is none.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "harness.h"

namespace autopilot::testing {
namespace {

struct Ran {
  int code = -1;
  std::string out;  // stdout only
  std::string err;  // stderr only
};

// Runs `autopilot <args>` with stdout and stderr kept apart (the harness
// merges them), so stdout can be checked to be pure JSON.
Ran run_cli(const TempDir& dir, const std::vector<std::string>& args, std::vector<std::string> env = {}) {
  std::string err_path = dir.path() + "/cli-stderr";
  std::vector<std::string> argv{"sh", "-c", "exec \"$@\" 2>'" + err_path + "'", "sh", autopilot_bin()};
  argv.insert(argv.end(), args.begin(), args.end());
  Process p(argv, std::move(env));
  auto exit = p.wait_exit();
  Ran ran;
  if (exit) ran.code = exit->code;
  ran.out = p.output();
  ran.err = read_text(err_path);
  return ran;
}

nlohmann::json parse_json(const Ran& ran) {
  auto j = nlohmann::json::parse(ran.out, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << "stdout is not JSON: " << ran.out << "\nstderr: " << ran.err;
  return j;
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

std::string config_for(const std::string& catalog_dir) {
  return R"({
  discovery: { embedded: { dir: ")" +
         catalog_dir + R"(" } },
  jobs: [ {
    name: "app",
    exec: "sleep 30",
    port: 9999,
    interfaces: ["static:127.0.0.1"],
    tags: ["web", "v1"],
    meta: { version: "1.2" },
    health: { interval: "200ms", ttl: 2 },
  } ],
})";
}

TEST(CatalogCli, ListsARegisteredJobThenNothingAfterShutdown) {
  TempDir dir;
  std::string catalog = dir.path() + "/catalog";
  Process autopilot = run_autopilot(dir, config_for(catalog));
  std::string config = dir.path() + "/autopilot.json5";
  ASSERT_TRUE(autopilot.wait_for("job app: registered")) << autopilot.output();

  Ran services = run_cli(dir, {"catalog", "services", "--discovery-dir", catalog});
  ASSERT_EQ(services.code, 0) << services.out << services.err;
  EXPECT_EQ(parse_json(services), nlohmann::json::array({"app"}));
  EXPECT_EQ(services.err, "");

  Ran all = run_cli(dir, {"catalog", "service", "app", "--all", "-config", config});
  ASSERT_EQ(all.code, 0) << all.out << all.err;
  nlohmann::json instances = parse_json(all);
  ASSERT_TRUE(instances.is_array());
  ASSERT_EQ(instances.size(), 1u) << all.out;
  const auto& i = instances[0];
  EXPECT_EQ(i.at("name"), "app");
  EXPECT_EQ(i.at("address"), "127.0.0.1");
  EXPECT_EQ(i.at("port"), 9999);
  EXPECT_EQ(i.at("status"), "passing");
  EXPECT_EQ(i.at("tags"), nlohmann::json::array({"web", "v1"}));
  EXPECT_EQ(i.at("meta"), nlohmann::json({{"version", "1.2"}}));
  EXPECT_TRUE(i.at("id").is_string() && !i.at("id").get<std::string>().empty()) << all.out;
  EXPECT_TRUE(i.at("node").is_string()) << all.out;

  // Healthy only (the default), the config from the environment.
  Ran healthy = run_cli(dir, {"catalog", "service", "app"}, {"AUTOPILOT=" + config});
  ASSERT_EQ(healthy.code, 0) << healthy.out << healthy.err;
  EXPECT_EQ(parse_json(healthy), instances);

  Ran other = run_cli(dir, {"catalog", "service", "nginx", "--discovery-dir", catalog});
  ASSERT_EQ(other.code, 0) << other.out << other.err;
  EXPECT_EQ(parse_json(other), nlohmann::json::array());

  autopilot.signal(SIGTERM);
  ASSERT_TRUE(autopilot.wait_exit()) << autopilot.output();
  ASSERT_GE(autopilot.find("job app: deregistered"), 0) << autopilot.output();

  Ran after = run_cli(dir, {"catalog", "service", "app", "--all", "--discovery-dir", catalog});
  ASSERT_EQ(after.code, 0) << after.out << after.err;
  EXPECT_EQ(parse_json(after), nlohmann::json::array());
  Ran none = run_cli(dir, {"catalog", "services", "-config", config});
  ASSERT_EQ(none.code, 0) << none.out << none.err;
  EXPECT_EQ(parse_json(none), nlohmann::json::array());
}

TEST(CatalogCli, AMissingCatalogIsAnErrorAndIsNotCreated) {
  TempDir dir;
  std::string catalog = dir.path() + "/nowhere";
  Ran ran = run_cli(dir, {"catalog", "services", "--discovery-dir", catalog});
  EXPECT_EQ(ran.code, 1);
  EXPECT_EQ(ran.out, "");
  EXPECT_EQ(ran.err, "autopilot: no catalog at " + catalog + " (directory does not exist)\n");
  EXPECT_FALSE(exists(catalog));

  // The same through a config naming the catalog.
  std::string config = dir.write("c.json5", config_for(catalog));
  Ran via_config = run_cli(dir, {"catalog", "service", "app", "-config", config});
  EXPECT_EQ(via_config.code, 1);
  EXPECT_EQ(via_config.err, ran.err);
  EXPECT_FALSE(exists(catalog));
}

TEST(CatalogCli, AnInvalidServiceNameIsBadInput) {
  TempDir dir;
  Ran ran = run_cli(dir, {"catalog", "service", "no_underscores", "--discovery-dir", dir.path()});
  EXPECT_EQ(ran.code, 2);
  EXPECT_EQ(ran.out, "");
  EXPECT_NE(ran.err.find("invalid name \"no_underscores\""), std::string::npos) << ran.err;
}

TEST(CatalogCli, ABadConfigIsBadInput) {
  TempDir dir;
  std::string config = dir.write("c.json5", "{ jobs: [ { name: \"app\", exec: \"true\", bogus: 1 } ] }");
  Ran ran = run_cli(dir, {"catalog", "services", "-config", config});
  EXPECT_EQ(ran.code, 2);
  EXPECT_EQ(ran.out, "");
  EXPECT_NE(ran.err.find("c.json5:"), std::string::npos) << ran.err;
  EXPECT_NE(ran.err.find("bogus"), std::string::npos) << ran.err;
}

TEST(RenderCli, OnceWritesDryPrintsAndBadInputIsRefused) {
  TempDir dir;
  std::string catalog = dir.path() + "/catalog";
  Process autopilot = run_autopilot(dir, config_for(catalog));
  ASSERT_TRUE(autopilot.wait_for("job app: registered")) << autopilot.output();
  std::string in = dir.write("in.ctmpl",
                             "upstream app {\n{{ range service \"app\" }}  server {{ .Address }}:{{ .Port }};\n"
                             "{{ end }}}\n# {{ env \"GREETING\" }}\n");
  std::string out = dir.path() + "/out/app.conf";
  std::string marker = dir.path() + "/reloaded";
  const std::string want = "upstream app {\n  server 127.0.0.1:9999;\n}\n# hi\n";

  Ran dry = run_cli(dir, {"render", "-template", in + ":" + out + ":touch " + marker, "-once", "-dry",
                          "--discovery-dir", catalog}, {"GREETING=hi"});
  EXPECT_EQ(dry.code, 0) << dry.err;
  EXPECT_EQ(dry.out, "> " + out + "\n" + want);
  EXPECT_FALSE(exists(out)) << "-dry writes nothing";
  EXPECT_FALSE(exists(marker)) << "-dry runs no command";

  Ran once = run_cli(dir, {"render", "-template", in + ":" + out + ":touch " + marker, "-once",
                           "-config", dir.path() + "/autopilot.json5"}, {"GREETING=hi"});
  EXPECT_EQ(once.code, 0) << once.err;
  EXPECT_EQ(read_text(out), want);
  EXPECT_TRUE(exists(marker)) << "the command ran after the write";

  std::string bad = dir.write("bad.ctmpl", "{{ range service \"app\" }}{{ .Address }\n");
  Ran refused = run_cli(dir, {"render", "-template", bad + ":" + out, "-once", "--discovery-dir", catalog});
  EXPECT_EQ(refused.code, 2);
  EXPECT_NE(refused.err.find(bad + ":1:"), std::string::npos) << refused.err;
  EXPECT_EQ(read_text(out), want) << "a bad template leaves the file alone";

  std::string nowhere = dir.path() + "/no-catalog";
  Ran missing = run_cli(dir, {"render", "-template", in + ":" + out, "-once", "--discovery-dir", nowhere});
  EXPECT_EQ(missing.code, 1);
  EXPECT_FALSE(exists(nowhere));
  autopilot.signal(SIGTERM);
  ASSERT_TRUE(autopilot.wait_exit());
}

// consul-template -once exits non-zero when a template fails while executing;
// the log never claims to keep a file that is not there.
TEST(RenderCli, OnceExitsOneOnARenderTimeErrorAndSaysWhatIsOnDisk) {
  TempDir dir;
  std::string catalog = dir.path() + "/catalog";
  Process autopilot = run_autopilot(dir, config_for(catalog));
  ASSERT_TRUE(autopilot.wait_for("job app: registered")) << autopilot.output();
  std::string bad = dir.write("bad.ctmpl", "{{ key_or_default \"app/none\" \"dflt\" }} {{ \"x\" | parseInt }}\n");
  std::string out = dir.path() + "/app.conf";

  Ran fresh = run_cli(dir, {"render", "-template", bad + ":" + out, "-once", "--discovery-dir", catalog});
  EXPECT_EQ(fresh.code, 1) << fresh.err;
  EXPECT_NE(fresh.err.find("parseInt"), std::string::npos) << fresh.err;
  EXPECT_NE(fresh.err.find("; no file written (" + out + " does not exist)"), std::string::npos) << fresh.err;
  EXPECT_EQ(fresh.err.find("keeping the last good"), std::string::npos) << fresh.err;
  EXPECT_FALSE(exists(out));

  std::ofstream(out) << "old\n";
  Ran kept = run_cli(dir, {"render", "-template", bad + ":" + out, "-once", "--discovery-dir", catalog});
  EXPECT_EQ(kept.code, 1) << kept.err;
  EXPECT_NE(kept.err.find("; keeping the last good " + out), std::string::npos) << kept.err;
  EXPECT_EQ(read_text(out), "old\n");

  std::string old_name = dir.write("old.ctmpl", "{{ key_or_default \"app/none\" \"dflt\" }}\n");
  Ran dry = run_cli(dir, {"render", "-template", old_name + ":" + out, "-once", "-dry", "--discovery-dir", catalog});
  EXPECT_EQ(dry.code, 0) << dry.err;
  EXPECT_EQ(dry.out, "> " + out + "\ndflt\n");
  autopilot.signal(SIGTERM);
  ASSERT_TRUE(autopilot.wait_exit());
}

}  // namespace
}  // namespace autopilot::testing
