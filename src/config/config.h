// Config: loads autopilot's config file the way ContainerPilot v3 does:
// read -> render as a Go template over the environment -> parse JSON5 ->
// decode strictly, each area decoding its own slice -> cross-check names.
// Every error names file:line:col; nothing starts until the config is good.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/duration.h"
#include "base/result.h"
#include "control/control_config.h"
#include "discovery/discovery_config.h"
#include "files/file_config.h"
#include "jobs/job_config.h"
#include "render/template_config.h"
#include "telemetry/telemetry_config.h"
#include "watches/watch_config.h"
#include "log/log.h"

namespace autopilot::config {

using Env = std::map<std::string, std::string>;

struct Config {
  std::string file;
  log::LogConfig logging;
  Duration stop_timeout{std::chrono::seconds(5)};  // negative: SIGKILL at once (jobs::is_kill_at_once)
  std::vector<jobs::JobConfig> jobs;
  std::string main_job;  // resolved: the configured mainJob or the default
  std::vector<watches::WatchConfig> watches;
  std::vector<render::TemplateConfig> templates;
  // Written before any job starts and on reload (files/materializer.h).
  std::vector<files::FileConfig> files;
  discovery::DiscoveryConfig discovery;
  // The `telemetry` block: /metrics and /status are served only with one.
  std::optional<telemetry::TelemetryConfig> telemetry;
  // The catalog was named (the `discovery` key or --discovery-dir), so the
  // telemetry endpoint registers even when nothing else needs a catalog.
  bool discovery_given = false;
  // The `control` block, or the default socket when there is none.
  control::ControlConfig control;
  bool consul_given = false;  // ContainerPilot's `consul` key: ignored with a warning
  // Read as a ContainerPilot v2 config, translated into jobs and watches (config/v2.h).
  bool is_v2 = false;
  // A job whose failure gives autopilot its exit status (v2's postStop); "" for none.
  std::string exit_status_job;

  // Whether anything registers, watches, renders or reads files from the
  // catalog (then the catalog is opened), counting the telemetry endpoint
  // when a catalog is named.
  bool needs_catalog() const;
};

struct LoadOptions {
  // Missing environment variables in the config template are errors instead
  // of empty strings (`-strict`).
  bool strict_env = false;
  // The app given on the command line after the flags (ContainerPilot v2's
  // form); each argument is rendered over the environment. Only a v2 config
  // takes one.
  std::vector<std::string> app;
  // `--discovery-dir`: the embedded catalog's directory for a config that
  // names no catalog (a v2 config cannot).
  std::string discovery_dir;
  // A reload of a running ContainerPilot v2 config (see config/v2.h).
  bool v2_started = false;
};

// The config path from the -config flag, else $AUTOPILOT, else
// $CONTAINERPILOT; a `file://` prefix is removed.
Result<std::string> resolve_path(const std::string& flag, const Env& env);

// Reads `path` and renders it over `env`; the text ContainerPilot's
// `-template` prints.
Result<std::string> render(const std::string& path, const Env& env, const LoadOptions& options);

// Renders config text over `env` (missing variables are empty).
Result<std::string> render_config_text(const std::string& file, const std::string& text, const Env& env);

// Renders, parses and validates.
Result<Config> load(const std::string& path, const Env& env, const LoadOptions& options);

// Parses and validates already rendered text (`file` names it in errors).
// The file is read as ContainerPilot v2 or v3 by its top-level keys
// (config/schema.h); `app` is a v2 config's app, already rendered.
Result<Config> parse(const std::string& file, const std::string& text, bool text_is_rendered,
                     const std::vector<std::string>& app = {}, bool v2_started = false);

Env environment_from(char** envp);

}  // namespace autopilot::config
