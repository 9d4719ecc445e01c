#include "base/result.h"

#include <string_view>

namespace autopilot {

std::string Error::format() const {
  std::string out;
  if (pos) {
    out += pos->file.empty() ? std::string("<input>") : pos->file;
    if (pos->line > 0) {
      out += ":" + std::to_string(pos->line);
      if (pos->col > 0) out += ":" + std::to_string(pos->col);
    }
    out += ": ";
  }
  out += message;
  if (pos && !source_line.empty()) {
    out += "\n" + source_line + "\n";
    // The caret lines up with the column; tabs are kept so it aligns in a terminal.
    for (int i = 1; i < pos->col && i - 1 < static_cast<int>(source_line.size()); ++i)
      out += source_line[i - 1] == '\t' ? '\t' : ' ';
    out += "^";
  }
  return out;
}

Error error_at(std::string file, std::string_view text, int line, int col, std::string message) {
  Error e{std::move(message), SourcePos{std::move(file), line, col}, {}};
  int current = 1;
  size_t start = 0;
  while (current < line && start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) return e;
    start = nl + 1;
    ++current;
  }
  if (current != line) return e;
  size_t end = text.find('\n', start);
  e.source_line = std::string(text.substr(start, end == std::string_view::npos ? text.size() - start : end - start));
  if (!e.source_line.empty() && e.source_line.back() == '\r') e.source_line.pop_back();
  return e;
}

}  // namespace autopilot
