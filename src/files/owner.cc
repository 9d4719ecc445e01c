#include "files/owner.h"

#include <charconv>
#include <optional>

#include "base/strings.h"

namespace autopilot::files {
namespace {

std::optional<unsigned> number(std::string_view text) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// The line of a colon-separated database whose field 0 is `name` (or, when
// `by_id`, whose field 2 is that number): its fields. nullopt when absent.
std::optional<std::vector<std::string>> find_entry(const std::string& text, std::string_view key, bool by_id) {
  for (const auto& line : split(text, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    auto fields = split(line, ':');
    if (fields.size() < 4) continue;
    if ((by_id ? fields[2] : fields[0]) == key) {
      std::vector<std::string> out;
      for (const auto& f : fields) out.emplace_back(f);
      return out;
    }
  }
  return std::nullopt;
}

}  // namespace

Result<os::WriteOptions::Owner> resolve_owner(os::Files& files, const std::string& spec, const std::string& passwd,
                                              const std::string& group) {
  auto colon = spec.find(':');
  std::string user = spec.substr(0, colon);
  std::string grp = colon == std::string::npos ? "" : spec.substr(colon + 1);
  if (user.empty() || (colon != std::string::npos && grp.empty()))
    return make_error("bad owner \"" + spec + "\": write user[:group]");
  os::WriteOptions::Owner owner{0, 0};
  std::optional<std::vector<std::string>> pw;
  auto uid = number(user);
  if (!uid || grp.empty()) {
    auto text = files.read(passwd);
    if (!text && uid && text.error().code == os::kNotFound) {
      pw = std::nullopt;  // a numeric user with no passwd file: its own number as group
    } else {
      if (!text) return text.error();
      pw = find_entry(*text, user, uid.has_value());
      if (!pw && !uid) return make_error("no user \"" + user + "\" in " + passwd);
    }
  }
  if (!uid && !number((*pw)[2])) return make_error("bad entry for \"" + user + "\" in " + passwd);
  owner.uid = uid ? *uid : static_cast<uid_t>(*number((*pw)[2]));
  if (grp.empty()) {
    auto primary = pw ? number((*pw)[3]) : std::nullopt;
    owner.gid = primary ? *primary : owner.uid;
    return owner;
  }
  if (auto gid = number(grp)) {
    owner.gid = *gid;
    return owner;
  }
  auto text = files.read(group);
  if (!text) return text.error();
  auto gr = find_entry(*text, grp, false);
  if (!gr || gr->size() < 3 || !number((*gr)[2])) return make_error("no group \"" + grp + "\" in " + group);
  owner.gid = *number((*gr)[2]);
  return owner;
}

}  // namespace autopilot::files
