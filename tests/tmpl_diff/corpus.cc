#include "corpus.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace autopilot::tmpl_diff {
namespace {

bool is_section_marker(const std::string& line) {
  return line == "--- template" || line == "--- data" || line == "--- want" || line == "--- error";
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) {
      lines.push_back(text.substr(start));
      break;
    }
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) out += '\n';
    out += lines[i];
  }
  return out;
}

Error corpus_error(const std::string& file, int line, const std::string& message) {
  return Error{message, SourcePos{file, line, 0}, {}};
}

// Applies "name [missingkey=...] [known_difference]" from a header line.
Result<void> parse_header(const std::string& file, int line, const std::string& header, CorpusCase& c) {
  std::istringstream in(header);
  std::string word;
  in >> c.name;
  while (in >> word) {
    if (word == "known_difference") {
      c.known_difference = true;
    } else if (word.rfind("missingkey=", 0) == 0) {
      c.missing_key = word.substr(11);
    } else {
      return corpus_error(file, line, "unknown case option: " + word);
    }
  }
  if (c.name.empty()) return corpus_error(file, line, "case without a name");
  return {};
}

void store_section(const std::string& section, std::vector<std::string>& body, CorpusCase& c) {
  std::string content = join_lines(body);
  body.clear();
  if (section == "--- template") c.text = content;
  if (section == "--- data") c.data = content;
  if (section == "--- want") c.has_want = true, c.want = content;
  if (section == "--- error") c.expect_error = true, c.go_error = content;
}

}  // namespace

Result<std::vector<CorpusCase>> parse_corpus(const std::string& file, const std::string& text) {
  std::vector<CorpusCase> cases;
  std::vector<std::string> lines = split_lines(text);
  std::string section;
  std::vector<std::string> body;
  bool saw_template = false;
  auto finish_case = [&]() -> Result<void> {
    if (cases.empty()) return {};
    if (!section.empty()) store_section(section, body, cases.back());
    const CorpusCase& c = cases.back();
    if (!saw_template) return corpus_error(file, c.line, "case " + c.name + " has no template section");
    if (!c.has_want && !c.expect_error)
      return corpus_error(file, c.line, "case " + c.name + " has no want/error section; run fill_corpus.sh");
    return {};
  };
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    int line_no = static_cast<int>(i) + 1;
    if (line.rfind("=== ", 0) == 0) {
      if (auto r = finish_case(); !r) return r.error();
      cases.emplace_back();
      cases.back().file = file;
      cases.back().line = line_no;
      if (auto r = parse_header(file, line_no, line.substr(4), cases.back()); !r) return r.error();
      section.clear();
      saw_template = false;
    } else if (is_section_marker(line)) {
      if (cases.empty()) return corpus_error(file, line_no, "section before the first case");
      if (!section.empty()) store_section(section, body, cases.back());
      section = line;
      saw_template = saw_template || line == "--- template";
    } else if (!section.empty()) {
      body.push_back(line);
    }
  }
  if (auto r = finish_case(); !r) return r.error();
  return cases;
}

Result<std::vector<CorpusCase>> load_corpus_dir(const std::string& dir) {
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".txt") files.push_back(entry.path());
  }
  if (ec) return make_error("listing " + dir + ": " + ec.message());
  std::sort(files.begin(), files.end());
  std::vector<CorpusCase> all;
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error("opening " + path.string());
    std::stringstream buf;
    buf << in.rdbuf();
    auto cases = parse_corpus(path.filename().string(), buf.str());
    if (!cases) return cases.error();
    for (auto& c : *cases) all.push_back(std::move(c));
  }
  return all;
}

}  // namespace autopilot::tmpl_diff
