// Small string helpers shared by every area.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace autopilot {

// Levenshtein distance, for "did you mean" suggestions.
size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word` when it is close enough to be a likely typo
// (distance <= max(1, len/3)); nullopt otherwise.
std::optional<std::string> suggest(std::string_view word, std::span<const std::string> candidates);

std::vector<std::string> split(std::string_view s, char sep);
std::string join(std::span<const std::string> parts, std::string_view sep);
// The value of one hexadecimal digit, or -1.
int hex_digit(char c);
bool starts_with(std::string_view s, std::string_view prefix);

// `text` with the user info of every URL in it ("scheme://user:password@")
// replaced by "***@", for error messages and logs.
std::string without_credentials(std::string_view text);

}  // namespace autopilot
