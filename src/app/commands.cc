#include "app/commands.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <fmt/format.h>

#include "app/app.h"
#include "app/catalog_command.h"
#include "app/control_command.h"
#include "app/lock_command.h"
#include "app/render_command.h"
#include "app/stash_command.h"
#include "base/duration.h"
#include "base/file.h"
#include "base/strings.h"
#include "config/config.h"
#include "config/migrate.h"
#include "os/linux/linux_files.h"

namespace autopilot::app {
namespace {

constexpr int kBadInput = 2;

constexpr const char* kDescription = R"(autopilot: a container's PID 1 that prepares, starts and supervises its jobs.

It reads a ContainerPilot v3 config (JSON5, rendered first as a Go template over
the environment) or a v2 one (told apart by its keys, translated into jobs),
starts the jobs it lists, restarts them as told, runs hooks on their events,
reaps zombies, forwards signals and shuts down in order.

  autopilot -config /etc/autopilot.json5      run the jobs of a config
  autopilot -config v2.json nginx -g "daemon off;"
                                              run a ContainerPilot v2 config and its app
  autopilot check -config FILE                validate a config and exit (0 ok, 2 bad)
  autopilot -template -config FILE [-out F]   print the config rendered over the environment
  autopilot migrate -config v2.json [-out F] [APP ...]
                                              print a ContainerPilot v2 config as v3 (JSON5)
  autopilot -version
  autopilot -reload | -maintenance enable|disable | -putenv K=V | -putmetric K=V | -ping [-config FILE]
                                              ask the running autopilot, through its control socket
  autopilot status [-config FILE] [--json]    the running autopilot's jobs, services and watches
  autopilot render -template "in.ctmpl:out.conf[:cmd]" [-once] [-dry]   render from the catalog (consul-template's CLI)
  autopilot catalog services [-config FILE | --discovery-dir DIR | --etcd URLS]
                                              list the services with a live instance (JSON)
  autopilot catalog service NAME [--all] [-config FILE | --discovery-dir DIR | --etcd URLS]
                                              list NAME's healthy (--all: all) instances (JSON)
  autopilot stash [-p PORT] [-c config.json] [--discovery-dir DIR | --etcd URLS]
                                              serve files and secrets, StashBox-compatible
  autopilot lock NAME [--ttl D] [--timeout D | --no-wait] [-config FILE | --discovery-dir DIR | --etcd URLS] -- CMD ...
                                              run CMD holding the catalog lock NAME (released when it exits)

The config path may also come from $AUTOPILOT or $CONTAINERPILOT (a path or a
file:// URL). Signals: TERM/INT shut down gracefully, HUP reloads the config,
USR1 reopens the log file (with a v2 config: toggles maintenance). The exit
status is the main job's.)";

// ContainerPilot's flags take one dash (Go's flag package); CLI11 wants two
// for long names. Rewrite "-config" to "--config" so both spellings work.
std::vector<std::string> normalise_flags(int argc, char** argv) {
  std::vector<std::string> out;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.size() > 2 && a[0] == '-' && a[1] != '-' && std::isalpha(static_cast<unsigned char>(a[1])) &&
        std::isalpha(static_cast<unsigned char>(a[2])))
      a = "-" + a;
    out.push_back(a);
  }
  std::reverse(out.begin(), out.end());  // CLI11's vector form expects reverse order
  return out;
}

// ContainerPilot v2's form: `autopilot -config F nginx -g "daemon off;"`.
// The app starts at the first word that is neither a flag, a flag's value nor
// a subcommand; it and everything after it are the app's, untouched.
std::vector<std::string> split_app(int& argc, char** argv) {
  static const std::vector<std::string> kWithValue{"config",      "out",    "discovery-dir",
                                                   "maintenance", "putenv", "putmetric"};
  static const std::vector<std::string> kSubcommands{"check", "render", "catalog", "stash", "status", "lock"};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") {
      std::vector<std::string> app(argv + i + 1, argv + argc);
      argc = i;
      return app;
    }
    if (a.size() > 1 && a[0] == '-') {
      std::string name = a.substr(a.find_first_not_of('-'));
      if (name.find('=') == std::string::npos &&
          std::find(kWithValue.begin(), kWithValue.end(), name) != kWithValue.end())
        ++i;
      continue;
    }
    // `check` and `migrate` take a v2 app after their flags, as a run does.
    if (a == "migrate" || a == "check") continue;
    // `lock`'s command is everything after its `--`, kept from the flag parsing.
    if (a == "lock") {
      for (int j = i + 1; j < argc; ++j) {
        if (std::string(argv[j]) != "--") continue;
        std::vector<std::string> command(argv + j + 1, argv + argc);
        argc = j;
        return command;
      }
      return {};
    }
    if (std::find(kSubcommands.begin(), kSubcommands.end(), a) != kSubcommands.end()) return {};
    std::vector<std::string> app(argv + i, argv + argc);
    argc = i;
    return app;
  }
  return {};
}

void print_error(const Error& e) { fmt::print(stderr, "autopilot: {}\n", e.format()); }

int write_rendered(const std::string& text, const std::string& out) {
  if (out.empty() || out == "-") {
    fmt::print("{}", text);
    return 0;
  }
  // Atomically, so a failure never leaves a torn file. No watch: the loop never runs.
  boost::asio::io_context io;
  os::LinuxFiles files(io);
  if (auto written = files.write_atomic(out, text, {.mode = 0644}); !written) {
    fmt::print(stderr, "autopilot: {}\n", written.error().message);
    return 1;
  }
  return 0;
}

int run_migrate(const std::string& config_flag, const std::vector<std::string>& app, const std::string& out,
                const config::Env& env) {
  auto path = config::resolve_path(config_flag, env);
  if (!path) {
    print_error(path.error());
    return kBadInput;
  }
  auto text = read_file(*path);
  if (!text) {
    print_error(text.error());
    return kBadInput;
  }
  auto v3 = config::migrate_v2(*path, *text, app, env);
  if (!v3) {
    print_error(v3.error());
    return kBadInput;
  }
  return write_rendered(*v3, out);
}

}  // namespace

int main_command(int argc, char** argv, char** envp) {
  CLI::App cli{kDescription, "autopilot"};
  cli.set_help_flag("-h,--help", "Show this help and exit");
  std::string config_flag, out;
  bool version = false, template_only = false, strict = false;
  cli.add_option("--config", config_flag, "Config file (JSON5); default $AUTOPILOT or $CONTAINERPILOT")
      ->option_text("FILE");
  cli.add_flag("--version", version, "Print the version and exit");
  cli.add_flag("--template", template_only, "Print the config rendered over the environment, then exit");
  cli.add_option("--out", out, "With -template: write to FILE instead of stdout")->option_text("FILE");
  cli.add_flag("--strict", strict, "An unset environment variable in the config template is an error");
  std::string discovery_dir;
  cli.add_option("--discovery-dir", discovery_dir,
                 "The embedded catalog's directory when the config names no catalog (a v2 config)")
      ->option_text("DIR");
  ControlFlags control;
  cli.add_flag("--reload", control.reload, "Reload the running autopilot's config (as SIGHUP)");
  cli.add_option("--maintenance", control.maintenance,
                 "enable: take every service out of the catalog's healthy lists; disable: bring them back")
      ->option_text("enable|disable");
  cli.add_option("--putenv", control.putenv, "Set K=V in the environment of jobs started later (repeatable)")
      ->option_text("K=V")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cli.add_option("--putmetric", control.putmetric,
                 "Update the telemetry metric K by V: counters add, gauges set, histograms observe (repeatable)")
      ->option_text("K=V")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cli.add_flag("--ping", control.ping, "Check that the running autopilot answers on its control socket");
  CLI::App* status = cli.add_subcommand("status", "Show the running autopilot's jobs, services and watches");
  status->add_option("--config", config_flag, "Find the control socket in this config")->option_text("FILE");
  status->add_flag("--json", control.json, "Print the JSON of /v3/status instead of a table");
  CLI::App* check = cli.add_subcommand("check", "Validate the config and exit: 0 when good, 2 with the error");
  check->add_option("--config", config_flag, "Config file (JSON5)")->option_text("FILE");
  check->add_flag("--strict", strict, "An unset environment variable in the config template is an error");
  std::string migrate_out;
  CLI::App* migrate = cli.add_subcommand(
      "migrate", "Print a ContainerPilot v2 config as the v3 config it runs as (JSON5, with comments); "
                 "the v2 app follows the flags");
  migrate->add_option("--config", config_flag, "The v2 config file")->option_text("FILE");
  migrate->add_option("--out", migrate_out, "Write to FILE instead of stdout")->option_text("FILE");
  RenderRequest render_request;
  CLI::App* render_cmd = cli.add_subcommand(
      "render", "Render templates from the catalog, as consul-template's command line (no jobs run)");
  render_cmd->add_option("--template", render_request.templates, "SOURCE:DESTINATION[:COMMAND] (repeatable)")
      ->option_text("SPEC")
      ->take_all();
  render_cmd->add_flag("--once", render_request.once, "Render once every template has its data, then exit");
  render_cmd->add_flag("--dry", render_request.dry, "Print \"> DEST\" and the content instead of writing; run no command");
  render_cmd->add_option("--config", render_request.config_flag, "Use the catalog of this config")->option_text("FILE");
  render_cmd->add_option("--discovery-dir", render_request.discovery_dir, "Use the embedded catalog at DIR")
      ->option_text("DIR");
  render_cmd->add_option("--etcd", render_request.etcd, "Use etcd at these client URLs (comma separated)")
      ->option_text("URLS");
  render_cmd->add_flag("--strict", render_request.strict, "An unset environment variable in the config template is an error");
  CLI::App* catalog = cli.add_subcommand("catalog", "Inspect the service catalog (read-only; JSON on stdout)");
  catalog->require_subcommand(1);
  CatalogQuery query;
  auto catalog_options = [&query](CLI::App* sub) {
    sub->add_option("--config", query.config_flag, "Read the catalog this config uses")->option_text("FILE");
    sub->add_option("--discovery-dir", query.discovery_dir, "Read the embedded catalog at DIR (wins over -config)")
        ->option_text("DIR");
    sub->add_option("--etcd", query.etcd, "Read etcd at these client URLs, comma separated (wins over -config)")
        ->option_text("URLS");
    sub->add_flag("--strict", query.strict, "An unset environment variable in the config template is an error");
  };
  CLI::App* catalog_services =
      catalog->add_subcommand("services", "Print the names of the services with a live instance");
  catalog_options(catalog_services);
  CLI::App* catalog_service = catalog->add_subcommand("service", "Print the instances of a service, sorted by id");
  catalog_service->add_option("name", query.service, "The service name")->required();
  catalog_service->add_flag("--all", query.all, "Include unhealthy instances (critical, maintenance)");
  catalog_options(catalog_service);
  StashOptions stash_options;
  int stash_port = -1;
  CLI::App* stash_cmd = cli.add_subcommand(
      "stash", "Serve config files and secrets over HTTP(S), as StashBox (config: -c, $STASHBOX_CONFIG, STASHBOX__*)");
  stash_cmd->add_option("-p,--port", stash_port, "Port to listen on (default: the config's PORT, else 80)")
      ->check(CLI::Range(0, 65535))
      ->option_text("N");
  stash_cmd->add_option("-c,--config", stash_options.config_file, "StashBox config file (JSON)")->option_text("FILE");
  stash_cmd->add_option("--discovery-dir", stash_options.discovery_dir,
                        "Register in (and serve kv mounts from) the embedded catalog at DIR")
      ->option_text("DIR");
  stash_cmd->add_option("--etcd", stash_options.etcd, "Register in (and serve kv mounts from) etcd at these URLS")
      ->option_text("URLS");
  LockOptions lock_options;
  std::string lock_ttl, lock_timeout;
  CLI::App* lock_cmd = cli.add_subcommand(
      "lock", "Run a command holding a catalog lock, released when it exits: autopilot lock NAME [flags] -- CMD ...");
  lock_cmd->add_option("name", lock_options.name, "The lock's name (as a service name)")->required();
  lock_cmd->add_option("--ttl", lock_ttl, "etcd: how long a dead holder keeps the lock (default 15s)")
      ->option_text("DURATION");
  lock_cmd->add_option("--timeout", lock_timeout, "Give up (exit 1) when the lock is not ours within this")
      ->option_text("DURATION");
  lock_cmd->add_flag("--no-wait", lock_options.no_wait, "Exit 1 at once when another holder has the lock");
  lock_cmd->add_option("--config", lock_options.config_flag, "Use the catalog this config uses")->option_text("FILE");
  lock_cmd->add_option("--discovery-dir", lock_options.discovery_dir, "Use the embedded catalog at DIR")
      ->option_text("DIR");
  lock_cmd->add_option("--etcd", lock_options.etcd, "Use etcd at these client URLs (comma separated)")
      ->option_text("URLS");
  lock_cmd->add_flag("--strict", lock_options.strict, "An unset environment variable in the config template is an error");
  std::vector<std::string> app = split_app(argc, argv);
  try {
    auto args = normalise_flags(argc, argv);
    cli.parse(args);
  } catch (const CLI::ExtrasError& e) {
    // An unknown flag: name it, with the closest known one (ninja's
    // spellcheck). CLI11 says "...not expected: --confg" (flags normalised).
    static const std::vector<std::string> kFlags{"config", "version", "template", "out",  "strict",
                                                 "discovery-dir", "once", "dry", "etcd", "all", "help",
                                                 "ttl", "timeout", "no-wait"};
    std::string what = e.what();
    size_t dash = what.find(" -", what.find(':'));
    std::string name = dash == std::string::npos ? "" : what.substr(dash + 1);
    name = name.substr(0, name.find_first_of(" \n"));
    size_t first = name.find_first_not_of('-');
    if (first != std::string::npos) {
      name = name.substr(first);
      name = name.substr(0, name.find('='));
      auto close = suggest(name, kFlags);
      fmt::print(stderr, "autopilot: unknown flag -{}{}; see autopilot --help\n", name,
                 close ? fmt::format(" (did you mean -{}?)", *close) : "");
      return kBadInput;
    }
    return cli.exit(e) == 0 ? 0 : kBadInput;
  } catch (const CLI::ParseError& e) {
    int code = cli.exit(e);
    return code == 0 ? 0 : kBadInput;
  }

  if (version) {
    fmt::print("Version: {}\nGitHash: {}\n", AUTOPILOT_VERSION_STRING, "dev-build-not-for-release");
    return 0;
  }
  config::Env env = config::environment_from(envp);
  if (*stash_cmd) {
    if (stash_port >= 0) stash_options.port = stash_port;
    return run_stash_command(stash_options, env);
  }
  if (*lock_cmd) {
    // Durations as in configs: "15s", "500ms", or bare seconds.
    for (const auto& [flag, text] : {std::pair{"--ttl", lock_ttl}, std::pair{"--timeout", lock_timeout}}) {
      if (text.empty()) continue;
      auto parsed = parse_duration(text, true);
      if (!parsed) {
        fmt::print(stderr, "autopilot: lock: {}: {}\n", flag, parsed.error().message);
        return kBadInput;
      }
      if (std::string_view(flag) == "--ttl") lock_options.ttl = *parsed;
      else lock_options.timeout = *parsed;
    }
    if (lock_options.config_flag.empty()) lock_options.config_flag = config_flag;
    lock_options.strict = lock_options.strict || strict;
    lock_options.command = std::move(app);
    return run_lock_command(lock_options, env);
  }
  if (*render_cmd) {
    if (render_request.config_flag.empty()) render_request.config_flag = config_flag;
    return run_render_command(render_request, env);
  }
  if (*catalog) {
    query.kind = *catalog_service ? CatalogQuery::Kind::kService : CatalogQuery::Kind::kServices;
    if (query.config_flag.empty()) query.config_flag = config_flag;  // `autopilot -config F catalog ...`
    query.strict = query.strict || strict;
    return run_catalog_command(query, env);
  }
  config::LoadOptions load{strict, app, discovery_dir};
  control.status = static_cast<bool>(*status);
  if (control.any() && !template_only) return run_control_command(control, config_flag, env, load);
  if (*migrate) return run_migrate(config_flag, app, migrate_out, env);
  auto path = config::resolve_path(config_flag, env);
  if (!path) {
    print_error(path.error());
    return kBadInput;
  }
  if (template_only) {
    auto text = config::render(*path, env, load);
    if (!text) {
      print_error(text.error());
      return kBadInput;
    }
    return write_rendered(*text, out);
  }
  auto cfg = config::load(*path, env, load);
  if (!cfg) {
    print_error(cfg.error());
    return kBadInput;
  }
  if (*check) {
    fmt::print("{}: ok ({} jobs{})\n", *path, cfg->jobs.size(),
               cfg->main_job.empty() ? "" : ", main job " + cfg->main_job);
    return 0;
  }
  return run(std::move(*cfg), RunOptions{*path, env, load});
}

}  // namespace autopilot::app
