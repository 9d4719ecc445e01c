// parse_service_query (tmplfuncs/source.h): consul-template's service query
// grammar, `[TAG.]NAME[|FILTER]`, restricted to what one catalog offers.
// Like consul-template, the last '.' separates the tag from the name (names
// cannot hold dots; tags may), a tag holds letters, digits and `_=:.-`, and
// the filter is a comma list of statuses (empty items skipped).

#include <string_view>

#include "tmplfuncs/source.h"

namespace autopilot::tmplfuncs {
namespace {

using discovery::Status;

constexpr std::string_view kFilterWords = "any, passing, warning, critical, maintenance";

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + '"';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_tag_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("_=:.-").find(c) != std::string_view::npos;
}

// The statuses a filter names; an error message (without the query) when a
// word is not a status.
Result<std::set<Status>> parse_filter(std::string_view filter) {
  std::set<Status> statuses;
  bool any_word = false;
  while (true) {
    size_t comma = filter.find(',');
    std::string_view word = trim(filter.substr(0, comma));
    if (word == "any") {
      statuses = {Status::kPassing, Status::kWarning, Status::kCritical, Status::kMaintenance};
      any_word = true;
    } else if (!word.empty()) {
      auto status = discovery::parse_status(word);
      if (!status) return make_error("invalid filter " + quote(word) + " (" + std::string(kFilterWords) + ")");
      statuses.insert(*status);
      any_word = true;
    }
    if (comma == std::string_view::npos) break;
    filter.remove_prefix(comma + 1);
  }
  if (!any_word) return make_error("empty filter after '|' (" + std::string(kFilterWords) + ")");
  return statuses;
}

}  // namespace

Result<ServiceQuery> parse_service_query(const std::string& text, const std::string& second) {
  const std::string full = second.empty() ? text : text + "|" + second;
  auto fail = [&](const std::string& why) { return make_error("service " + quote(full) + ": " + why); };

  std::string_view query = full;
  ServiceQuery q;
  if (size_t bar = query.find('|'); bar != std::string_view::npos) {
    auto statuses = parse_filter(query.substr(bar + 1));
    if (!statuses) return fail(statuses.error().message);
    q.statuses = std::move(*statuses);
    query = query.substr(0, bar);
  }
  if (query.find('?') != std::string_view::npos) return fail("?QUERY options are not supported");
  if (query.find('~') != std::string_view::npos) return fail("~NEAR is not supported");
  if (query.find('@') != std::string_view::npos) return fail("@DC is not supported (the catalog has one datacenter)");
  if (query.empty()) return fail("a service name is required");

  if (size_t dot = query.rfind('.'); dot != std::string_view::npos) {
    std::string_view tag = query.substr(0, dot);
    bool ok = !tag.empty();
    for (char c : tag) ok = ok && is_tag_char(c);
    if (!ok) return fail("invalid tag " + quote(tag) + ": must hold only letters, digits and _=:.-");
    q.tag = std::string(tag);
    query = query.substr(dot + 1);
  }
  if (auto valid = discovery::validate_service_name(query); !valid) return fail(valid.error().message);
  q.name = std::string(query);
  return q;
}

}  // namespace autopilot::tmplfuncs
