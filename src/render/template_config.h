// TemplateConfig: one entry of the config's `templates` list: a file
// rendered from the catalog, consul-template's `template {}` block in our
// config's spelling.
//
//   "templates": [{
//     "name": "nginx",                       // events from template.nginx (default: the destination's file name)
//     "source": "/etc/nginx/nginx.conf.ctmpl",  // or "contents": "..." (exactly one)
//     "destination": "/etc/nginx/nginx.conf",
//     "perms": "0644",                       // octal, as a string or digits (644); default: keep the file's, else 0644
//     "backup": false, "create_dest_dirs": true,
//     "wait": {"min": "100ms", "max": "1s"}, // or "100ms:1s"; max defaults to 4 x min
//     "check": "nginx -t -c {{.TempFile}}",  // vets the new file before the swap
//     "command": "nginx -s reload",          // after a changed file is swapped in
//     "command_timeout": "30s",
//     "error_on_missing_key": false,
//   }]
//
// A relative `source` is relative to the config file's directory. The
// template is read and parsed at load time, so its errors stop the start with
// the template's file:line:col. Commands are argv lists or strings split like
// a job's exec (no shell: write ["sh", "-c", "..."] for one).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/duration.h"
#include "base/result.h"
#include "events/source.h"

namespace autopilot::decode {
class Decoder;
struct Node;
}  // namespace autopilot::decode

namespace autopilot::render {

struct TemplateConfig {
  std::string name;
  std::string source;  // the file the text came from ("" when inline)
  std::string text;    // the template itself
  std::string destination;
  std::optional<mode_t> perms;
  bool backup = false;
  bool create_dest_dirs = true;
  Duration wait_min{0};
  Duration wait_max{0};
  std::vector<std::string> check;
  std::vector<std::string> command;
  Duration command_timeout{std::chrono::seconds(30)};
  bool error_on_missing_key = false;
  std::string fingerprint;  // reload compares it

  events::Source event_source() const { return events::Source::templ(name); }
  // The name the template's own errors carry: the source path, or
  // "<config file>: templates[i].contents".
  std::string template_file;
  bool operator==(const TemplateConfig& o) const { return fingerprint == o.fingerprint; }
};

// Decodes `templates`; `config_dir` anchors relative sources.
Result<std::vector<TemplateConfig>> decode_templates(const decode::Decoder& d, const decode::Node& n,
                                                     const std::string& config_dir);

// Parses "SRC:DEST[:COMMAND]" as consul-template's -template flag does
// (pieces past the second are joined back with ':' into the command, which
// runs through `sh -c`). For `autopilot render`.
Result<TemplateConfig> template_from_flag(const std::string& flag);

// The config file is rendered over the environment before it is parsed (as
// ContainerPilot does), so a bare `{{.TempFile}}` written for a template's
// check becomes "" long before the check runs (`nginx -t -c` with no file).
// This finds the first one in the raw config text (a field read of the
// config's data, not text in a string literal such as
// `{{ "{{.TempFile}}" }}`) and says how to write it instead, at its
// file:line:col. Callers skip it when the environment really has TempFile.
Result<void> check_config_temp_file(const std::string& file, std::string_view raw_config);

// Reads and parses `t.text` once (catalog functions bound to nothing), so
// errors surface at load time with the template's file:line:col.
Result<void> check_template(const TemplateConfig& t);

}  // namespace autopilot::render
