// Config: loads autopilot's config file the way ContainerPilot v3 does:
// read -> render as a Go template over the environment -> parse JSON5 ->
// decode strictly, each area decoding its own slice -> cross-check names.
// Every error names file:line:col; nothing starts until the config is good.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/duration.h"
#include "base/result.h"
#include "discovery/discovery_config.h"
#include "jobs/job_config.h"
#include "render/template_config.h"
#include "watches/watch_config.h"
#include "log/log.h"

namespace autopilot::config {

using Env = std::map<std::string, std::string>;

struct Config {
  std::string file;
  log::LogConfig logging;
  Duration stop_timeout{std::chrono::seconds(5)};
  std::vector<jobs::JobConfig> jobs;
  std::string main_job;  // resolved: the configured mainJob or the default
  std::vector<watches::WatchConfig> watches;
  std::vector<render::TemplateConfig> templates;
  discovery::DiscoveryConfig discovery;
  bool consul_given = false;  // ContainerPilot's `consul` key: ignored with a warning

  // Whether anything registers, watches or renders (then the catalog is opened).
  bool needs_catalog() const;
};

struct LoadOptions {
  // Missing environment variables in the config template are errors instead
  // of empty strings (`-strict`).
  bool strict_env = false;
};

// The config path from the -config flag, else $AUTOPILOT, else
// $CONTAINERPILOT; a `file://` prefix is removed.
Result<std::string> resolve_path(const std::string& flag, const Env& env);

// Reads `path` and renders it over `env`; the text ContainerPilot's
// `-template` prints.
Result<std::string> render(const std::string& path, const Env& env, const LoadOptions& options);

// Renders, parses and validates.
Result<Config> load(const std::string& path, const Env& env, const LoadOptions& options);

// Parses and validates already rendered text (`file` names it in errors).
Result<Config> parse(const std::string& file, const std::string& text, bool text_is_rendered);

Env environment_from(char** envp);

}  // namespace autopilot::config
