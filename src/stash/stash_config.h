// StashConfig: the configuration of `autopilot stash`, a StashBox-compatible
// config server, read the way StashBox reads its own (stashbox.md):
//
//   {
//     "PORT": 1337,                                       // or -p/--port
//     "mounts": [
//       { "mount": "/", "provider": "file", "basePath": "stash" },
//       { "mount": "/ssl/key.pem", "provider": "env", "var": "KEY", "encoding": "base64" },
//       { "mount": "/upstream", "provider": "proxy", "host": "config:8080", "basePath": "/v1" },
//       { "mount": "/kv", "provider": "kv", "prefix": "config/" },            // ours: catalog keys
//     ],
//     "tokenEnv": "STASH_TOKEN",                          // ours: bearer token (also per mount)
//     "tls": { "cert": "/run/tls.crt", "key": "/run/tls.key" },   // or certBase64Env/keyBase64Env
//     "service": { "name": "stash", "interfaces": ["eth0"], "interval": 5, "ttl": 15 },
//   }
//
// Sources, highest first (StashBox's nconf order): the command line (-p),
// `STASHBOX__` environment variables (`__` separates path segments, digits
// index arrays, "true"/"false"/"null" become those values; a `mounts` given
// there replaces the file's list), the config file (-c, else
// $STASHBOX__CONFIG or $STASHBOX_CONFIG, else ./config.json when present),
// then the defaults (PORT 80, one mount "/" -> file "stash").
//
// Every error is found here, before anything serves: a value from the file
// names file:line:col, one from the environment names its variable. Object
// store providers (amazon, azure, ...) are refused. Environment values
// (`env` mounts, tokens, base64 certificates) are read once, now; secrets
// never appear in an error.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/duration.h"
#include "base/result.h"

namespace autopilot::stash {

using Env = std::map<std::string, std::string>;

enum class ProviderKind { kFile, kEnv, kProxy, kKv };

struct MountConfig {
  std::string mount;  // "/" or "/a/b": no trailing '/', no dot segments
  ProviderKind provider = ProviderKind::kFile;
  std::string base_path;             // file: the directory (absolute); proxy: the path at the host
  std::string var;                   // env: the variable's name
  std::optional<std::string> value;  // env: its content (decoded), nullopt when unset (404)
  std::string host;                  // proxy: host[:port]
  int host_port = 80;                // proxy
  std::string prefix;                // kv: prepended to the request path
  std::optional<std::string> token;  // the bearer token this mount wants (its own or the global one)
};

struct TlsConfig {
  std::string cert_pem;  // the chain, leaf first
  std::string key_pem;
};

// How the server registers itself in the catalog (when it has one).
struct RegistrationConfig {
  std::string name = "stash";
  std::string id;                       // empty: <name>-<host>-<address>:<port>
  std::vector<std::string> interfaces;  // empty: ContainerPilot's default
  Duration interval = std::chrono::seconds(5);
  Duration ttl = std::chrono::seconds(15);
};

struct StashConfig {
  std::string address = "0.0.0.0";
  int port = 80;
  std::vector<MountConfig> mounts;
  std::optional<TlsConfig> tls;
  RegistrationConfig service;
  std::string source;  // where the config came from, for the log

  bool needs_catalog() const;
};

struct StashFlags {
  std::string config_file;  // -c/--config
  std::optional<int> port;  // -p/--port
};

// Reads the config from the flags, `env` and the file. Relative basePaths
// are taken from the current directory.
Result<StashConfig> load_stash_config(const StashFlags& flags, const Env& env);

}  // namespace autopilot::stash
