// Files: the `files` area. Materializer writes the config's `files` entries
// (files/file_config.h) on the loop, one after the other, before any job
// starts and again on reload: for each, the first source that yields content,
// then an atomic write through the Files seam (temp file, fsync, rename) with
// its mode and owner. Content, mode and owner already in place are not
// rewritten (no mtime churn). Its owner publishes `changed` from file.NAME
// for each file written (publish_changes) once the jobs that may wait for it
// are subscribed: after the supervisor starts, or after a reload is applied.
// Nothing blocks: variables and files are read at once, URLs,
// the stash server and catalog keys are asked asynchronously, and retries
// wait on timers (os::Timers).
//
// Secrets: no content is ever logged or put in an error; errors name the
// variable, URL, key or path, never a value.
//
// Knows nothing of jobs: the app starts them when run() reports success.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/lifetime.h"
#include "base/result.h"
#include "files/file_config.h"
#include "net/http_get.h"
#include "os/timers.h"
#include "wiring/wiring.h"

namespace autopilot::files {

struct MaterializerOptions {
  // The wait before retry N (1-based) of a url or stash source (refused,
  // timed out, 5xx, or a stash not in the catalog yet): first_retry doubled
  // each time up to max_retry, then jittered to a uniform pick between half
  // of that and all of it, so the containers of a deployment started together
  // do not ask their stash server in step. The source's `retries` bounds the
  // number of tries, its `timeout` each one.
  Duration first_retry{std::chrono::milliseconds(250)};
  Duration max_retry{std::chrono::seconds(4)};
  // A number in [0, 1) for the jitter; null: a pseudo-random one. Tests pin it.
  std::function<double()> uniform;
  std::string passwd = "/etc/passwd";  // where owner names are looked up
  std::string group = "/etc/group";
};

// What a run did to each file, in config order.
enum class Outcome { kWritten, kUnchanged, kKept, kSkipped };

class Materializer {
 public:
  explicit Materializer(const Wiring& wiring, MaterializerOptions options = {});
  Materializer(const Materializer&) = delete;
  Materializer& operator=(const Materializer&) = delete;

  // Materializes `files` in order. `done` runs once, on the loop: with what
  // happened to each file, or with the first error (positioned at the entry
  // or source it is about: Error::format() prints file:line:col); the files
  // after it are not touched. Starting a run abandons the one in flight
  // (its `done` never runs).
  void run(std::vector<FileConfig> files, std::function<void(Result<std::vector<Outcome>>)> done);
  void cancel();
  bool is_running() const { return static_cast<bool>(done_); }

 private:
  void next_file();
  void try_source(size_t index);
  void from_variable(size_t index, const FileSource& source);
  void from_kv(size_t index, const FileSource& source);
  void from_keep(size_t index);
  void fetch(size_t index, const FileSource& source, int attempt);
  void fetch_from(size_t index, const FileSource& source, int attempt, const net::Url& url);
  void retry_or_fail(size_t index, const FileSource& source, int attempt, const std::string& url, Error why);
  Duration retry_delay(int attempt);
  Result<boost::asio::ssl::context*> tls_for(const FileSource& source);
  void yielded(const FileSource& source, std::string content);
  void nothing_from(size_t index, std::string why);
  void finish_file(Outcome outcome);
  void fail(Error error);
  std::optional<std::string> env(const std::string& name) const;

  Wiring wiring_;
  MaterializerOptions options_;
  // TLS settings trusting a ca_file, by its content; before http_, which may use them until it ends.
  std::map<std::string, std::unique_ptr<boost::asio::ssl::context>> ca_tls_;
  net::HttpGet http_;
  os::Timer start_;
  os::Timer retry_;
  std::vector<FileConfig> files_;
  size_t file_ = 0;
  std::vector<std::string> notes_;  // why each source of the current file yielded nothing
  std::vector<Outcome> outcomes_;
  std::function<void(Result<std::vector<Outcome>>)> done_;
  std::uint64_t run_id_ = 0;  // answers for an abandoned run are dropped
  Lifetime lifetime_;         // last: ends first
};

// Publishes `changed` from file.NAME for each file a run wrote.
void publish_changes(events::Bus& bus, const std::vector<FileConfig>& files, const std::vector<Outcome>& outcomes);

}  // namespace autopilot::files
