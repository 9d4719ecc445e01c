#include "files/materializer.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/base64.h"
#include "files/owner.h"
#include "tmplfuncs/codec.h"

namespace autopilot::files {
namespace {

std::string parent_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string octal(mode_t mode) { return fmt::format("{:04o}", mode); }

}  // namespace

Materializer::Materializer(const Wiring& wiring, MaterializerOptions options)
    : wiring_(wiring),
      options_(std::move(options)),
      http_(wiring.loop, wiring.timers),
      start_(wiring.timers),
      retry_(wiring.timers) {}

std::optional<std::string> Materializer::env(const std::string& name) const {
  if (!wiring_.env) return std::nullopt;
  return wiring_.env(name);
}

void Materializer::cancel() {
  ++run_id_;
  http_.cancel();
  start_.cancel();
  retry_.cancel();
  done_ = nullptr;
}

void Materializer::run(std::vector<FileConfig> files, std::function<void(Result<std::vector<Outcome>>)> done) {
  cancel();
  files_ = std::move(files);
  file_ = 0;
  outcomes_.clear();
  done_ = std::move(done);
  // Never inline: the caller may not expect its callback yet.
  start_.after(Duration::zero(), [this] { next_file(); });
}

void Materializer::next_file() {
  if (file_ == files_.size()) {
    auto done = std::move(done_);
    done_ = nullptr;
    return done(std::move(outcomes_));
  }
  const FileConfig& f = files_[file_];
  notes_.clear();
  auto info = wiring_.files.stat(f.path);
  if (!info) return fail(f.path_place.error(info.error().message));
  if (*info && (*info)->kind == os::FileKind::kDirectory) return fail(f.path_place.error(f.path + " is a directory"));
  try_source(0);
}

void Materializer::try_source(size_t index) {
  const FileConfig& f = files_[file_];
  if (index == f.sources.size()) {
    if (f.optional) {
      wiring_.log.info(fmt::format("files: {}: no source yielded content; optional, left as it is", f.path));
      return finish_file(Outcome::kSkipped);
    }
    std::string why;
    for (const auto& n : notes_) why += (why.empty() ? "" : "; ") + n;
    return fail(f.place.error("no source yielded content for " + f.path + " (" + why +
                              "); add {keep: true} to keep a file already there, or optional: true"));
  }
  const FileSource& s = f.sources[index];
  switch (s.type) {
    case SourceType::kBase64Env:
    case SourceType::kEnv:
      return from_variable(index, s);
    case SourceType::kKv:
      return from_kv(index, s);
    case SourceType::kKeep:
      return from_keep(index);
    case SourceType::kUrl:
    case SourceType::kStash:
      return fetch(index, s, 0);
  }
}

void Materializer::nothing_from(size_t index, std::string why) {
  notes_.push_back(std::move(why));
  try_source(index + 1);
}

// An unset or empty variable yields nothing, as the seed's `[ -n "$X" ]` did.
void Materializer::from_variable(size_t index, const FileSource& s) {
  auto value = env(s.value);
  if (!value || value->empty()) return nothing_from(index, "$" + s.value + " is unset or empty");
  if (s.type == SourceType::kEnv) return yielded(s, std::move(*value));
  // Base64 in a variable often arrives wrapped (`base64` breaks lines at 76).
  std::string text = std::move(*value);
  std::erase_if(text, [](char c) { return c == ' ' || c == '\t'; });
  auto bytes = base64_decode(text);
  // The decoder's message gives a byte offset, never the data.
  if (!bytes) return fail(s.place.error("$" + s.value + " is not valid base64: " + bytes.error().message));
  yielded(s, std::move(*bytes));
}

void Materializer::from_kv(size_t index, const FileSource& s) {
  if (!wiring_.catalog) return fail(s.place.error("a kv source needs the catalog, which is not open"));
  wiring_.catalog->get(s.value,
                       lifetime_.bind([this, index, &s, id = run_id_](Result<std::optional<discovery::KvEntry>> got) {
                         if (id != run_id_) return;
                         if (!got)
                           return fail(s.place.error("reading key \"" + s.value + "\": " + got.error().message));
                         if (!*got) return nothing_from(index, "key \"" + s.value + "\" is absent");
                         yielded(s, (*got)->value);
                       }));
}

void Materializer::from_keep(size_t index) {
  const FileConfig& f = files_[file_];
  auto info = wiring_.files.stat(f.path);
  if (!info) return fail(f.path_place.error(info.error().message));
  if (!*info) return nothing_from(index, "no file at " + f.path + " to keep");
  wiring_.log.info(fmt::format("files: {}: kept the file already there", f.path));
  finish_file(Outcome::kKept);
}

void Materializer::fetch(size_t index, const FileSource& s, int attempt) {
  if (s.type == SourceType::kUrl) return fetch_from(index, s, attempt, *s.url);
  if (s.url) {
    net::Url url = *s.url;
    url.target = s.value;
    return fetch_from(index, s, attempt, url);
  }
  if (!wiring_.catalog)
    return fail(s.place.error("a stash source without a server needs the catalog, which is not open"));
  wiring_.catalog->list(
      s.service, true,
      lifetime_.bind([this, index, &s, attempt, id = run_id_](Result<std::vector<discovery::Instance>> got) {
        if (id != run_id_) return;
        std::string what = "stash " + s.value + " (service \"" + s.service + "\")";
        if (!got)
          return retry_or_fail(index, s, attempt, what, make_error(ErrorKind::kUnavailable, got.error().message));
        if (got->empty())
          return retry_or_fail(index, s, attempt, what,
                               make_error(ErrorKind::kUnavailable, "no healthy instance in the catalog"));
        const auto& instance = got->front();
        net::Url url{net::HttpEndpoint{s.https, instance.address, static_cast<std::uint16_t>(instance.port)}, s.value};
        fetch_from(index, s, attempt, url);
      }));
}

void Materializer::fetch_from(size_t index, const FileSource& s, int attempt, const net::Url& url) {
  net::HttpGetOptions options;
  options.timeout = s.timeout;
  if (!s.token_env.empty()) {
    auto token = env(s.token_env);
    if (!token || token->empty()) return fail(s.place.error("token_env: $" + s.token_env + " is unset or empty"));
    options.authorization = "Bearer " + *token;
  }
  if (url.endpoint.tls && !s.ca_file.empty()) {
    auto tls = tls_for(s);
    if (!tls) return fail(tls.error());
    options.tls = *tls;
  }
  http_.get(
      url, options,
      lifetime_.bind([this, index, &s, attempt, shown = url.str(), id = run_id_](Result<net::HttpReply> reply) {
        if (id != run_id_) return;
        if (!reply) return retry_or_fail(index, s, attempt, shown, reply.error());
        if (reply->status == 404) return nothing_from(index, shown + " answered 404");
        if (reply->status >= 500)
          return retry_or_fail(index, s, attempt, shown,
                               make_error(ErrorKind::kUnavailable, fmt::format("{}: HTTP {}", shown, reply->status)));
        if (reply->status != 200) return fail(s.place.error(fmt::format("{} answered HTTP {}", shown, reply->status)));
        if (!s.sha256.empty()) {
          std::string got = tmplfuncs::sha256_hex(reply->body);
          if (got != s.sha256)
            return fail(s.place.error(
                fmt::format("{}: sha256 mismatch: the content's is {}, the config pins {}", shown, got, s.sha256)));
        }
        yielded(s, std::move(reply->body));
      }));
}

// The ca_file is read at each try, so one replaced before a reload counts.
// Contexts are kept by content: one an abandoned request used stays alive.
Result<boost::asio::ssl::context*> Materializer::tls_for(const FileSource& s) {
  auto pem = wiring_.files.read(s.ca_file);
  if (!pem) return s.place.error("ca_file: " + pem.error().message);
  auto& tls = ca_tls_[*pem];
  if (!tls) {
    auto made = net::client_tls_trusting(*pem);
    if (!made) return s.place.error("ca_file: " + s.ca_file + ": " + made.error().message);
    tls = std::move(*made);
  }
  return tls.get();
}

// Refused connections, timeouts and 5xx are retried after a back-off (the
// server may not be up yet: the seed's scripts waited 5 s once); anything
// else, or the last try, fails the run.
void Materializer::retry_or_fail(size_t index, const FileSource& s, int attempt, const std::string& url, Error why) {
  // HttpGet's messages start with the URL already.
  std::string msg = why.message.starts_with(url) ? why.message : url + ": " + why.message;
  if (why.kind != ErrorKind::kUnavailable || attempt >= s.retries) {
    std::string after = attempt > 0 ? fmt::format(" (after {} attempts)", attempt + 1) : "";
    return fail(s.place.error(msg + after));
  }
  Duration delay = retry_delay(attempt);
  wiring_.log.warn(fmt::format("files: {}: {}; retrying in {}", files_[file_].path, msg, format_duration(delay)));
  retry_.after(delay, [this, index, &s, attempt] { fetch(index, s, attempt + 1); });
}

// Doubling from first_retry up to max_retry, with equal jitter (base/duration.h).
Duration Materializer::retry_delay(int attempt) {
  Duration base = options_.first_retry;
  for (int i = 0; i < attempt && base < options_.max_retry; ++i) base *= 2;
  base = std::min(base, options_.max_retry);
  return equal_jitter(base, options_.uniform ? options_.uniform() : jitter_uniform());
}

void Materializer::yielded(const FileSource& s, std::string content) {
  const FileConfig& f = files_[file_];
  os::WriteOptions options;
  options.mode = f.mode.value_or(s.is_secret() ? 0600 : 0644);
  if (!f.owner.empty()) {
    auto owner = resolve_owner(wiring_.files, f.owner, options_.passwd, options_.group);
    if (!owner) return fail(f.place.error("owner: " + owner.error().message));
    options.owner = *owner;
  }
  auto info = wiring_.files.stat(f.path);
  if (!info) return fail(f.path_place.error(info.error().message));
  if (*info && (*info)->kind == os::FileKind::kFile && (*info)->size == content.size() &&
      (*info)->mode == options.mode &&
      (!options.owner || ((*info)->uid == options.owner->uid && (*info)->gid == options.owner->gid))) {
    auto old = wiring_.files.read(f.path);
    if (old && *old == content) {
      wiring_.log.debug(fmt::format("files: {}: unchanged ({})", f.path, s.describe()));
      return finish_file(Outcome::kUnchanged);
    }
  }
  if (auto r = wiring_.files.make_dirs(parent_of(f.path)); !r) return fail(f.path_place.error(r.error().message));
  if (auto r = wiring_.files.write_atomic(f.path, content, options); !r)
    return fail(f.path_place.error(r.error().message));
  wiring_.log.info(fmt::format("files: wrote {} ({} bytes, mode {}) from {}", f.path, content.size(),
                               octal(options.mode), s.describe()));
  finish_file(Outcome::kWritten);
}

void Materializer::finish_file(Outcome outcome) {
  outcomes_.push_back(outcome);
  ++file_;
  next_file();
}

void Materializer::fail(Error error) {
  auto done = std::move(done_);
  done_ = nullptr;
  ++run_id_;
  if (done) done(std::move(error));
}

void publish_changes(events::Bus& bus, const std::vector<FileConfig>& files, const std::vector<Outcome>& outcomes) {
  for (size_t i = 0; i < files.size() && i < outcomes.size(); ++i)
    if (outcomes[i] == Outcome::kWritten) bus.publish({events::Code::kStatusChanged, files[i].event_source()});
}

}  // namespace autopilot::files
