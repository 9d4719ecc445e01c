// Golden corpus for the text/template differential tests: reads the
// hand-written case files in tests/tmpl_diff/corpus/. The file format is
// described in corpus/README.md and implemented identically by goref's -fill
// mode (goref/corpus.go), which is the only thing allowed to write the
// want/error sections.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace autopilot::tmpl_diff {

struct CorpusCase {
  std::string file;                 // base name of the .txt file
  int line = 0;                     // line of the "=== " header
  std::string name;
  std::string missing_key = "default";  // default | zero | error
  std::string text;                 // the template
  std::optional<std::string> data;  // JSON text; absent means nil data
  bool expect_error = false;        // "--- error" section present
  bool has_want = false;            // "--- want" section present
  std::string want;                 // expected output when !expect_error
  std::string go_error;             // Go's message, informational only
  // "known_difference" in the header: a documented, deliberate departure of
  // src/tmpl from Go 1.19 (see tmpl/template.h); a mismatch is only noted.
  bool known_difference = false;
};

// Parses one corpus file. Fails on a section marker before the first case,
// an unknown header option (missingkey=..., known_difference), or a case without template or result section.
Result<std::vector<CorpusCase>> parse_corpus(const std::string& file, const std::string& text);

// Loads every *.txt file of `dir`, in name order.
Result<std::vector<CorpusCase>> load_corpus_dir(const std::string& dir);

}  // namespace autopilot::tmpl_diff
