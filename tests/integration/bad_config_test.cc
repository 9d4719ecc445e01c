// Every bad config gives one clear message with file:line:col, exit status
// 2, and starts nothing. Cases live in bad_configs/: NAME.json5 is the config,
// NAME.want the exact output (paths shown as CONFIG), NAME.args extra flags,
// NAME.ctmpl a template the config may read as "in.ctmpl" (shown as TEMPLATE).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "harness.h"

namespace autopilot::testing {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> cases() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(fs::path(source_dir()) / "tests/integration/bad_configs"))
    if (e.path().extension() == ".json5") out.push_back(e.path().stem().string());
  std::sort(out.begin(), out.end());
  return out;
}

class BadConfig : public ::testing::TestWithParam<std::string> {};

TEST_P(BadConfig, ExitsTwoWithOnePositionedMessageAndStartsNothing) {
  fs::path dir = fs::path(source_dir()) / "tests/integration/bad_configs";
  std::string name = GetParam();
  TempDir tmp;
  std::string config = tmp.write("autopilot.json5", slurp(dir / (name + ".json5")));
  std::string ctmpl;
  if (fs::exists(dir / (name + ".ctmpl"))) ctmpl = tmp.write("in.ctmpl", slurp(dir / (name + ".ctmpl")));
  std::vector<std::string> argv{autopilot_bin(), "-config", config};
  if (fs::exists(dir / (name + ".args"))) {
    std::istringstream args(slurp(dir / (name + ".args")));
    for (std::string a; args >> a;) argv.push_back(a);
  }
  Process p(argv);
  auto exit = p.wait_exit();
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->code, 2) << p.output();
  std::string got = std::regex_replace(p.output(), std::regex(config), "CONFIG");
  if (!ctmpl.empty()) got = std::regex_replace(got, std::regex(ctmpl), "TEMPLATE");
  ASSERT_TRUE(fs::exists(dir / (name + ".want"))) << "no .want for " << name << "; output was:\n" << got;
  EXPECT_EQ(got, slurp(dir / (name + ".want")));
  EXPECT_TRUE(got.find("CONFIG:") != std::string::npos || got.find("TEMPLATE:") != std::string::npos)
      << "the message must name file:line:col";
}

INSTANTIATE_TEST_SUITE_P(Corpus, BadConfig, ::testing::ValuesIn(cases()),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST(BadConfigCorpus, HasAtLeastThirtyCases) { EXPECT_GE(cases().size(), 30u); }

}  // namespace
}  // namespace autopilot::testing
