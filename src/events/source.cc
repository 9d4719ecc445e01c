#include "events/source.h"

#include <algorithm>

#include "base/strings.h"

namespace autopilot::events {
namespace {

struct Prefix {
  SourceKind kind;
  std::string_view prefix;
  std::string_view what;  // for errors: "no watch named ..."
};

constexpr Prefix kPrefixes[] = {
    {SourceKind::kCheck, "check.", "job"},
    {SourceKind::kWatch, "watch.", "watch"},
    {SourceKind::kTemplate, "template.", "template"},
    {SourceKind::kFile, "file.", "file"},
};

constexpr std::string_view kSignals[] = {"SIGHUP", "SIGUSR2"};

constexpr std::string_view kForms =
    "a job, a job's check (check.JOB), a watch (watch.NAME), a template (template.NAME), a file (file.NAME), global, "
    "SIGHUP or SIGUSR2";

const Prefix* prefix_of(SourceKind kind) {
  for (const auto& p : kPrefixes)
    if (p.kind == kind) return &p;
  return nullptr;
}

const std::vector<std::string>& names_of(SourceKind kind, const KnownSources& known) {
  switch (kind) {
    case SourceKind::kWatch: return known.watches;
    case SourceKind::kTemplate: return known.templates;
    case SourceKind::kFile: return known.files;
    default: return known.jobs;
  }
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

Source Source::parse(std::string_view text) {
  if (text == "global") return global();
  for (auto s : kSignals)
    if (text == s) return signal(std::string(text));
  for (const auto& p : kPrefixes)
    if (text.starts_with(p.prefix)) return {p.kind, std::string(text.substr(p.prefix.size()))};
  return job(std::string(text));
}

std::string Source::str() const {
  if (const Prefix* p = prefix_of(kind_)) return std::string(p->prefix) + name_;
  return name_;
}

std::optional<std::string> check_source(const Source& source, const KnownSources& known) {
  switch (source.kind()) {
    case SourceKind::kGlobal:
    case SourceKind::kSignal:
      return std::nullopt;
    case SourceKind::kError:
      return "error events cannot be waited for";
    case SourceKind::kJob: {
      if (contains(known.jobs, source.name())) return std::nullopt;
      std::string msg = "\"" + source.name() + "\" is not " + std::string(kForms);
      if (auto s = suggest(source.name(), known.jobs)) msg += " (did you mean \"" + *s + "\"?)";
      return msg;
    }
    case SourceKind::kCheck:
    case SourceKind::kWatch:
    case SourceKind::kTemplate:
    case SourceKind::kFile: {
      const auto& names = names_of(source.kind(), known);
      if (contains(names, source.name())) return std::nullopt;
      const Prefix* p = prefix_of(source.kind());
      std::string msg = "no " + std::string(p->what) + " named \"" + source.name() + "\"";
      if (auto hint = suggest(source.name(), names)) msg += " (did you mean \"" + std::string(p->prefix) + *hint + "\"?)";
      return msg;
    }
  }
  return std::nullopt;
}

}  // namespace autopilot::events
