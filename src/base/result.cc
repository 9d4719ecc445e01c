#include "base/result.h"

#include <algorithm>
#include <string_view>

namespace autopilot {
namespace {

std::string hex_byte(unsigned char c) {
  const char* digits = "0123456789abcdef";
  return {digits[c >> 4], digits[c & 15]};
}

}  // namespace

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
    // The excerpt is at most kMaxExcerpt bytes of the line around the column
    // (a 50 MB line must not print 50 MB), with "..." where it is clipped;
    // control bytes (a terminal's escape sequences) are shown as \xNN. The
    // caret lines up with the column; tabs are kept so it aligns in a terminal.
    constexpr size_t kMaxExcerpt = 256;
    size_t col = pos->col > 0 ? static_cast<size_t>(pos->col - 1) : 0;
    size_t begin = 0, end = source_line.size();
    if (end > kMaxExcerpt) {
      begin = col > kMaxExcerpt / 2 ? std::min(col - kMaxExcerpt / 2, end - kMaxExcerpt) : 0;
      end = begin + kMaxExcerpt;
    }
    std::string shown = begin > 0 ? "..." : "", under(shown.size(), ' ');
    for (size_t i = begin; i < end; ++i) {
      unsigned char c = static_cast<unsigned char>(source_line[i]);
      std::string piece = (c < 0x20 && c != '\t') || c == 0x7f ? "\\x" + hex_byte(c) : std::string(1, char(c));
      if (i < col) under += c == '\t' ? std::string("\t") : std::string(piece.size(), ' ');
      shown += piece;
    }
    if (end < source_line.size()) shown += "...";
    out += "\n" + shown + "\n" + under + "^";
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
