// Differential tests: autopilot's text/template engine (src/tmpl) against Go
// 1.19's text/template, run through the goref helper program.
//  - Corpus: the hand-written golden cases in corpus/*.txt, compared with the
//    stored want (byte for byte) and with live Go.
//  - Random: AUTOPILOT_DIFF_COUNT (default 10000) generated cases from seed
//    AUTOPILOT_DIFF_SEED; AUTOPILOT_DIFF_ONLY=i runs case i alone, and
//    AUTOPILOT_DIFF_DUMP=file saves the cases as goref input lines.
//  - Helpers: AUTOPILOT_DIFF_HELPER_COUNT (default 10000) generated cases that
//    call ContainerPilot's config-template helpers (random_helpers.h) with
//    values of every type, against goref's copy of ContainerPilot's Go funcs.
// Errors are compared only as "both failed": messages and the partial output
// Go writes before an exec error are not part of the contract. Our engine runs
// in a forked child (engine_runner.h), so a crash or hang is reported as a
// mismatch of its own and the run goes on.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "corpus.h"
#include "engine_runner.h"
#include "go_reference.h"
#include "random_helpers.h"
#include "random_template.h"

namespace autopilot::tmpl_diff {
namespace {

constexpr size_t kRandomMaxOutput = 1u << 20;
constexpr int kMaxReported = 25;

// A crash never agrees, even with a Go failure.
bool agree(const Outcome& ours, const GoResult& go) {
  if (ours.crashed || ours.ok != go.ok) return false;
  return !ours.ok || ours.out == go.out;
}

// A one-line, escaped rendering so that whitespace differences are visible.
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (unsigned char ch : s) {
    if (ch == '\n') out += "\\n";
    else if (ch == '\t') out += "\\t";
    else if (ch == '"' || ch == '\\') out += std::string("\\") + char(ch);
    else if (ch < 0x20 || ch == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", ch);
      out += buf;
    } else out += char(ch);
  }
  return out + "\"";
}

std::string describe(const Outcome& o) { return o.ok ? "ok " + quoted(o.out) : "FAILED: " + o.err; }
std::string describe(const GoResult& g) { return g.ok ? "ok " + quoted(g.out) : "FAILED: " + g.err; }

std::string category(const Outcome& ours, const GoResult& go) {
  if (ours.crashed) return "ours crashes or hangs";
  if (ours.ok && !go.ok) return "Go fails, ours succeeds";
  if (!ours.ok && go.ok) return "ours fails, Go succeeds";
  return "both succeed, output differs";
}

nlohmann::json corpus_data(const CorpusCase& c) {
  if (!c.data) return nullptr;
  return nlohmann::json::parse(*c.data, nullptr, /*allow_exceptions=*/false);
}

std::string where(const CorpusCase& c) { return c.file + ":" + std::to_string(c.line) + ": " + c.name; }

std::vector<CorpusCase> load_corpus_or_fail() {
  auto cases = load_corpus_dir(AUTOPILOT_TMPL_CORPUS_DIR);
  if (!cases.ok()) {
    ADD_FAILURE() << "cannot load corpus: " << cases.error().format();
    return {};
  }
  for (const CorpusCase& c : *cases) {
    if (corpus_data(c).is_discarded()) ADD_FAILURE() << where(c) << ": data is not valid JSON";
  }
  return std::move(*cases);
}

std::vector<GoResult> run_go_or_fail(const std::vector<GoCase>& cases) {
  auto goref = goref_path();
  if (!goref.ok()) {
    ADD_FAILURE() << goref.error().message;
    return {};
  }
  auto results = run_go(*goref, cases);
  if (!results.ok()) {
    ADD_FAILURE() << "running Go reference: " << results.error().message;
    return {};
  }
  return std::move(*results);
}

std::vector<Outcome> run_corpus_in_ours(const std::vector<CorpusCase>& corpus) {
  std::vector<EngineCase> cases;
  for (const CorpusCase& c : corpus) cases.push_back(EngineCase{c.name, c.text, corpus_data(c), c.missing_key, {}, ""});
  return run_ours(cases);
}

std::vector<GoResult> run_corpus_in_go(const std::vector<CorpusCase>& corpus) {
  std::vector<GoCase> cases;
  for (const CorpusCase& c : corpus) cases.push_back(GoCase{c.name, c.text, corpus_data(c), c.missing_key, 0, ""});
  return run_go_or_fail(cases);
}

TEST(TmplDiffCorpus, HasEnoughCases) {
  auto corpus = load_corpus_or_fail();
  EXPECT_GE(corpus.size(), 300u);
}

TEST(TmplDiffCorpus, OursMatchesStoredWant) {
  auto corpus = load_corpus_or_fail();
  auto outcomes = run_corpus_in_ours(corpus);
  int mismatches = 0;
  for (size_t i = 0; i < corpus.size(); ++i) {
    const CorpusCase& c = corpus[i];
    const Outcome& ours = outcomes[i];
    bool good = !ours.crashed && (c.expect_error ? !ours.ok : (ours.ok && ours.out == c.want));
    if (good) continue;
    ++mismatches;
    if (c.known_difference) {
      std::cout << "note: " << where(c) << ": known difference from Go 1.19, ours " << describe(ours) << "\n";
      continue;
    }
    ADD_FAILURE() << where(c) << " (missingkey=" << c.missing_key << ")\n  template: " << quoted(c.text)
                  << "\n  data:     " << c.data.value_or("<nil>") << "\n  want:     "
                  << (c.expect_error ? "an error (Go: " + c.go_error + ")" : quoted(c.want))
                  << "\n  ours:     " << describe(ours);
  }
  std::cout << "corpus: " << corpus.size() - mismatches << "/" << corpus.size() << " cases match the stored want\n";
}

// Guards the corpus itself: a stale want means someone edited a case by hand
// or Go changed; re-run tests/tmpl_diff/fill_corpus.sh.
TEST(TmplDiffCorpus, StoredWantMatchesLiveGo) {
  auto corpus = load_corpus_or_fail();
  auto go = run_corpus_in_go(corpus);
  ASSERT_EQ(go.size(), corpus.size());
  for (size_t i = 0; i < corpus.size(); ++i) {
    const CorpusCase& c = corpus[i];
    bool good = c.expect_error ? !go[i].ok : (go[i].ok && go[i].out == c.want);
    EXPECT_TRUE(good) << where(c) << ": stored result is stale; Go now gives " << describe(go[i]);
  }
}

TEST(TmplDiffCorpus, OursMatchesLiveGo) {
  auto corpus = load_corpus_or_fail();
  auto go = run_corpus_in_go(corpus);
  ASSERT_EQ(go.size(), corpus.size());
  auto outcomes = run_corpus_in_ours(corpus);
  for (size_t i = 0; i < corpus.size(); ++i) {
    const CorpusCase& c = corpus[i];
    const Outcome& ours = outcomes[i];
    if (c.known_difference && !ours.crashed) continue;  // reported by OursMatchesStoredWant
    EXPECT_TRUE(agree(ours, go[i])) << where(c) << " [" << category(ours, go[i]) << "]\n  template: "
                                    << quoted(c.text) << "\n  go:   " << describe(go[i])
                                    << "\n  ours: " << describe(ours);
  }
}

uint64_t env_number(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 0) : fallback;
}

// Generates `count` cases with `generate` (or the AUTOPILOT_DIFF_ONLY one),
// runs them on both sides with the `funcs` mode and reports mismatches.
void compare_random(const char* what, RandomCase (*generate)(uint64_t, uint64_t), uint64_t default_count,
                    const char* count_var, const std::string& funcs) {
  uint64_t seed = env_number("AUTOPILOT_DIFF_SEED", 20190219);
  uint64_t count = env_number(count_var, default_count);
  const char* only = std::getenv("AUTOPILOT_DIFF_ONLY");
  std::vector<uint64_t> indices;
  if (only && *only) {
    indices.push_back(std::strtoull(only, nullptr, 0));
  } else {
    for (uint64_t i = 0; i < count; ++i) indices.push_back(i);
  }
  tmpl::Limits limits;
  limits.max_output_bytes = kRandomMaxOutput;
  std::vector<RandomCase> cases;
  std::vector<GoCase> go_cases;
  std::vector<EngineCase> our_cases;
  for (uint64_t i : indices) {
    const RandomCase& c = cases.emplace_back(generate(seed, i));
    go_cases.push_back(GoCase{"t", c.text, c.data, c.missing_key, kRandomMaxOutput, funcs});
    our_cases.push_back(EngineCase{"t", c.text, c.data, c.missing_key, limits, funcs});
  }
  if (const char* dump = std::getenv("AUTOPILOT_DIFF_DUMP"); dump && *dump) {
    std::ofstream out(dump, std::ios::binary);
    for (const GoCase& g : go_cases) out << case_to_json(g).dump() << '\n';
  }
  auto go = run_go_or_fail(go_cases);
  ASSERT_EQ(go.size(), cases.size());
  std::map<std::string, int> by_category;
  int both_ok = 0, both_failed = 0, reported = 0;
  auto outcomes = run_ours(our_cases);
  for (size_t k = 0; k < cases.size(); ++k) {
    const RandomCase& c = cases[k];
    const Outcome& ours = outcomes[k];
    if (agree(ours, go[k])) {
      (ours.ok ? both_ok : both_failed)++;
      continue;
    }
    ++by_category[category(ours, go[k])];
    if (reported++ >= kMaxReported) continue;
    ADD_FAILURE() << "mismatch [" << category(ours, go[k]) << "] seed " << seed << " case " << indices[k]
                  << " (rerun: AUTOPILOT_DIFF_SEED=" << seed << " AUTOPILOT_DIFF_ONLY=" << indices[k]
                  << ")\n  missingkey: " << c.missing_key << "\n  template: " << quoted(c.text)
                  << "\n  data:     " << c.data.dump() << "\n  go:   " << describe(go[k])
                  << "\n  ours: " << describe(ours);
  }
  std::ostringstream summary;
  summary << what << ": seed " << seed << ", " << cases.size() << " cases: " << both_ok << " both ok, "
          << both_failed << " both failed, " << reported << " mismatches";
  for (const auto& [name, n] : by_category) summary << "; " << name << ": " << n;
  std::cout << summary.str() << "\n";
  EXPECT_EQ(reported, 0) << summary.str();
  // Cases that fail on both sides only say that both failed: a generator that
  // drifts into errors alone would compare almost nothing.
  if (indices.size() >= 100) {
    EXPECT_GE(both_ok, static_cast<int>(indices.size() / 10)) << summary.str();
  }
}

TEST(TmplDiffRandom, OursMatchesGo) {
  compare_random("random", generate_case, 10000, "AUTOPILOT_DIFF_COUNT", "");
}

// ContainerPilot's helpers with operands of every type, against goref's
// "containerpilot" funcs (goref/containerpilot.go). Count:
// AUTOPILOT_DIFF_HELPER_COUNT (default 10000).
TEST(TmplDiffHelpers, OursMatchesGo) {
  compare_random("helpers", generate_helper_case, 10000, "AUTOPILOT_DIFF_HELPER_COUNT", "containerpilot");
}

}  // namespace
}  // namespace autopilot::tmpl_diff
