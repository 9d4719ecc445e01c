// Source: who published an event. One typed value instead of strings built
// by each producer ("watch." + name) and parsed back by prefix elsewhere:
// producers construct it with the named constructors, `when.source` is parsed
// into it once (parse), and the forms a config may name are listed here only.
//
//   kind       written in a config as   published by
//   kGlobal    global                   the supervisor (startup, shutdown, ...)
//   kJob       NAME                     a job (exitSuccess, stopping, ...)
//   kCheck     check.JOB                a job's exec health check
//   kWatch     watch.NAME               a watch on a service
//   kTemplate  template.NAME            a catalog template
//   kFile      file.NAME                a `files` entry (changed)
//   kSignal    SIGHUP, SIGUSR2          the signal handler
//   kError     (not nameable)           any area, the error text as name
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace autopilot::events {

enum class SourceKind { kGlobal, kJob, kCheck, kWatch, kTemplate, kFile, kSignal, kError };

class Source {
 public:
  static Source global() { return {SourceKind::kGlobal, "global"}; }
  static Source job(std::string name) { return {SourceKind::kJob, std::move(name)}; }
  static Source check(std::string job) { return {SourceKind::kCheck, std::move(job)}; }
  static Source watch(std::string name) { return {SourceKind::kWatch, std::move(name)}; }
  static Source templ(std::string name) { return {SourceKind::kTemplate, std::move(name)}; }
  static Source file(std::string name) { return {SourceKind::kFile, std::move(name)}; }
  // "SIGHUP" or "SIGUSR2".
  static Source signal(std::string name) { return {SourceKind::kSignal, std::move(name)}; }
  static Source error(std::string text) { return {SourceKind::kError, std::move(text)}; }

  // The config's form (the table above). Anything without a known prefix is
  // a job name; whether that job exists is check_source's business.
  static Source parse(std::string_view text);

  SourceKind kind() const { return kind_; }
  // The name without its prefix: the job, watch or template name.
  const std::string& name() const { return name_; }
  // The config's form: "watch.db", "global", "SIGHUP", or the job name.
  std::string str() const;

  bool is_global() const { return kind_ == SourceKind::kGlobal; }
  bool is_signal() const { return kind_ == SourceKind::kSignal; }

  auto operator<=>(const Source&) const = default;
  bool operator==(const Source&) const = default;

 private:
  Source(SourceKind kind, std::string name) : kind_(kind), name_(std::move(name)) {}
  SourceKind kind_;
  std::string name_;
};

// What a config defines, so that `when.source` can be checked against it.
struct KnownSources {
  std::vector<std::string> jobs, watches, templates, files;
};

// nullopt when `source` names something that publishes events; otherwise the
// error text, listing the valid forms and a "did you mean" when one is close.
std::optional<std::string> check_source(const Source& source, const KnownSources& known);

}  // namespace autopilot::events
