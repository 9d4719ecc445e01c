// FileConfig: one entry of the config's `files` list: a file autopilot writes
// before any job starts (and again on reload), its content from the first of
// its sources that yields one, the seed's "X_BASE64, else X_URL, else the
// image's file" habit as configuration:
//
//   "files": [{
//     "name": "ssl-cert",            // events from file.ssl-cert (default: the path's file name)
//     "path": "{{ .SSL_CERTS_PATH | default "/etc/ssl/certs/ssl.crt" }}",  // the config template runs first
//     "mode": "0644",                // octal string; default 0600 when a secret source wrote it, else 0644
//     "owner": "nginx:nginx",        // user[:group], names (from /etc/passwd, /etc/group) or numbers
//     "optional": false,             // true: no source yielding is fine (keep whatever is there)
//     "sources": [                   // tried in order; the first that yields content wins
//       {"base64_env": "SSL_CERT_BASE64"},         // a variable holding base64
//       {"env": "SSL_CERT"},                       // a variable's text
//       {"url": "https://cfg.example/ssl.crt",     // GET; 404 yields nothing
//        "sha256": "…64 hex…", "token_env": "CFG_TOKEN", "timeout": "10s", "retries": 3},
//       {"stash": "/ssl/ssl.crt"},                 // GET on the service `stash` from the catalog
//       {"stash": "/ssl/ssl.crt", "server": "http://stashbox:8080"},  // or on a base URL
//       {"stash": "/ssl/ssl.crt", "https": true,  // https to the instance the catalog gives,
//        "ca_file": "/etc/ssl/stash-ca.pem"},     // trusting this CA (url and stash) instead of the system's
//       {"kv": "config/ssl.crt"},                  // a catalog key
//       {"keep": true}                             // the file already there (the image's)
//     ]
//   }]
//
// A variable that is unset or empty, a 404, an absent key, and `keep` with no
// file yield nothing: the next source is tried. Anything else that fails (bad
// base64, a sha256 mismatch, a URL still refused or answering 5xx after its
// retries, any other status) is an error. The config names variables, never
// their values: values are read when the files are written, so they never
// reach the rendered config (`-template`).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "base/duration.h"
#include "base/result.h"
#include "events/source.h"
#include "net/http_get.h"

namespace autopilot::decode {
class Decoder;
struct Node;
}  // namespace autopilot::decode

namespace autopilot::files {

// A place in the config for errors found after loading (a URL that fails when
// the files are written): the decoder's positioned error, the message to come.
struct Place {
  Error at;  // its message is the config path prefix ("files[0].sources[1]: ")
  Error error(const std::string& message) const {
    Error e = at;
    e.message += message;
    return e;
  }
  bool operator==(const Place& o) const { return at.message == o.at.message; }
};

enum class SourceType { kBase64Env, kEnv, kUrl, kStash, kKv, kKeep };

// "base64_env", "env", ...: the source's key in the config.
const char* source_key(SourceType type);

struct FileSource {
  SourceType type = SourceType::kKeep;
  std::string value;                           // the variable, URL, stash path or key
  std::optional<net::Url> url;                 // url: parsed; stash with a server: the server
  std::string service = "stash";               // stash without a server: the catalog service
  std::string sha256;                          // lowercase hex; url and stash
  std::string token_env;                       // url and stash: "Authorization: Bearer $VAR"
  bool https = false;                          // stash found in the catalog: ask it over https
  std::string ca_file;                         // https: a PEM file of the CAs to trust instead of the system's
  Duration timeout{std::chrono::seconds(10)};  // each attempt
  int retries = 5;                             // further attempts after a refused connection, a timeout or a 5xx
  Place place;

  // Content from it is a secret: 0600 by default, never logged.
  bool is_secret() const;
  // "base64_env SSL_KEY_BASE64", "stash /ssl/ssl.key", for logs and errors.
  std::string describe() const;
  bool operator==(const FileSource&) const = default;
};

struct FileConfig {
  std::string name;
  std::string path;
  std::optional<mode_t> mode;  // nullopt: by the source that yields (FileSource::is_secret)
  std::string owner;           // "" keeps ours
  bool optional = false;
  std::vector<FileSource> sources;
  Place place;       // the entry
  Place path_place;  // its `path`

  events::Source event_source() const { return events::Source::file(name); }
  // Needs the catalog: a kv source, or a stash source without a server.
  bool needs_catalog() const;
  bool operator==(const FileConfig&) const = default;
};

Result<std::vector<FileConfig>> decode_files(const decode::Decoder& d, const decode::Node& n);

}  // namespace autopilot::files
