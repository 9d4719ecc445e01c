// RequestPath: a request target made safe to look up. The one place that
// decides which URL paths are refused before any provider sees them:
//
//   - anything but an origin-form target ("/..."): absolute URLs, "*";
//   - a bad percent escape, or one that decodes to '/', '\\', '%' (a
//     double-encoded form such as %252e%252e), NUL or another control byte;
//   - a "." or ".." segment, raw or decoded (%2e%2e, .%2e, ...);
//   - an empty segment ("//etc/passwd"); only a trailing '/' is kept, and
//     it only ever leads to a 404 (no directory listings).
//
// The query and fragment are dropped. What is left is a list of plain
// names; files/ still opens them beneath basePath without following a
// symlink out (file_store.h): this check is the first of two.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace autopilot::stash {

struct RequestPath {
  std::vector<std::string> segments;  // decoded, each a plain name
  bool trailing_slash = false;        // "/dir/": names a directory

  // "/a/b" (decoded), for messages and the proxy.
  std::string text() const;
};

// The error says why, for the debug log (never sent with a secret).
Result<RequestPath> parse_request_path(std::string_view target);

// `segments` with `prefix` removed, if the mount `prefix` (segments of a
// mount path; empty for "/") covers it.
bool strip_mount(const std::vector<std::string>& prefix, std::vector<std::string>& segments);

// Percent-encodes a segment for a URL (unreserved characters kept).
std::string encode_segment(std::string_view segment);

}  // namespace autopilot::stash
