#include "os/fake/fake_files.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace autopilot::os {
namespace {

namespace fs = std::filesystem;

// The directory part as the caller wrote it ("." for a bare name), and the name.
std::string shown_dir(const std::string& path) {
  std::string dir = fs::path(path).parent_path().string();
  return dir.empty() ? "." : dir;
}

std::string shown_temp(const std::string& dir, const std::string& name) {
  return (dir.ends_with('/') ? dir : dir + "/") + name;
}

std::string parent_of(const std::string& normal_path) { return fs::path(normal_path).parent_path().string(); }

}  // namespace

struct FakeFiles::Node {
  bool is_dir = false;
  bool is_link = false;  // content is the target
  std::string content;
  mode_t mode = 0644;
  uid_t uid = 0;
  gid_t gid = 0;
  std::uint64_t inode = 0;
  std::chrono::system_clock::time_point mtime;
};

class FakeFiles::FakeStagedWrite : public Files::StagedWrite {
 public:
  FakeStagedWrite(FakeFiles& files, std::string temp, std::string dest)
      : files_(files), temp_(std::move(temp)), dest_(std::move(dest)) {}
  ~FakeStagedWrite() override {
    if (!temp_.empty()) files_.entries_.erase(normal(temp_));
  }
  const std::string& temp_path() const override { return temp_; }
  Result<void> commit() override {
    if (temp_.empty()) return make_error(fmt::format("{}: committed already", dest_));
    auto renamed = files_.rename(temp_, dest_);
    temp_.clear();
    return renamed;
  }

 private:
  FakeFiles& files_;
  std::string temp_, dest_;
};

FakeFiles::FakeFiles(Timers& timers) : timers_(timers) { entries_["/"] = new_node(true, 0755); }

FakeFiles::~FakeFiles() {
  if (delivery_timer_) timers_.cancel(delivery_timer_);
}

// Lexically absolute: "a/../b/" -> "/b".
std::string FakeFiles::normal(const std::string& path) {
  std::string p = fs::path("/" + path).lexically_normal().string();
  while (p.size() > 1 && p.ends_with('/')) p.pop_back();
  return p;
}

FakeFiles::Node* FakeFiles::find(const std::string& normal_path) {
  auto it = entries_.find(normal_path);
  return it == entries_.end() ? nullptr : it->second.get();
}

// ENOTDIR when a file stands where a directory on the way should be, else ENOENT.
Error FakeFiles::missing_error(std::string_view call, const std::string& path, const std::string& shown) {
  for (std::string up = path; up != "/"; up = parent_of(up)) {
    if (Node* node = find(up); node && !node->is_dir) return sys_error(call, shown, ENOTDIR);
  }
  return sys_error(call, shown, ENOENT);
}

Result<void> FakeFiles::check_writable(std::string_view call, const std::string& dir, const std::string& shown) {
  Node* node = find(dir);
  if (!node) return missing_error(call, dir, shown);
  if (!node->is_dir) return sys_error(call, shown, ENOTDIR);
  if (unwritable_.count(dir)) return sys_error(call, shown, EACCES);
  return {};
}

std::shared_ptr<FakeFiles::Node> FakeFiles::new_node(bool is_dir, mode_t mode) {
  auto node = std::make_shared<Node>();
  node->is_dir = is_dir;
  node->mode = mode;
  node->inode = next_inode_++;
  node->mtime = std::chrono::system_clock::time_point(std::chrono::nanoseconds(++changes_));
  return node;
}

Result<std::string> FakeFiles::read(const std::string& path, const ReadLimits& limits) {
  std::string p = normal(path);
  Node* node = find(p);
  if (!node) return missing_error("open", p, path);
  if (node->is_dir || node->is_link) return make_error(fmt::format("{} is not a regular file", path));
  if (node->content.size() > limits.max_bytes) {
    return make_error(fmt::format("{} is larger than {} bytes", path, limits.max_bytes));
  }
  return node->content;
}

Result<std::optional<FileInfo>> FakeFiles::stat(const std::string& path) {
  std::string p = normal(path);
  Node* node = find(p);
  if (!node) {
    Error error = missing_error("stat", p, path);
    if (error.code == kNotFound) return std::optional<FileInfo>();
    return error;
  }
  FileKind kind = node->is_dir ? FileKind::kDirectory : node->is_link ? FileKind::kOther : FileKind::kFile;
  return std::optional<FileInfo>(FileInfo{kind, node->content.size(),
                                          node->mtime, node->mode, node->inode, node->uid, node->gid});
}

Result<std::vector<std::string>> FakeFiles::list(const std::string& dir) {
  std::string p = normal(dir);
  Node* node = find(p);
  if (!node) return missing_error("opendir", p, dir);
  if (!node->is_dir) return sys_error("opendir", dir, ENOTDIR);
  std::string prefix = p == "/" ? "/" : p + "/";
  std::vector<std::string> names;
  for (auto it = entries_.lower_bound(prefix); it != entries_.end() && it->first.starts_with(prefix); ++it) {
    std::string name = it->first.substr(prefix.size());
    if (!name.empty() && name.find('/') == std::string::npos) names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  return names;
}

Result<void> FakeFiles::make_dirs(const std::string& dir) {
  std::string p = normal(dir);
  std::vector<std::string> missing;  // deepest first
  for (std::string up = p; up != "/"; up = parent_of(up)) {
    Node* node = find(up);
    if (node && !node->is_dir) return sys_error("mkdir", dir, ENOTDIR);
    if (node) break;
    missing.push_back(up);
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (auto ok = check_writable("mkdir", parent_of(*it), *it); !ok) return ok;
    entries_[*it] = new_node(true, 0755);
    changed(*it);
  }
  return {};
}

Result<void> FakeFiles::remove(const std::string& path) {
  std::string p = normal(path);
  Node* node = find(p);
  if (!node) return {};
  if (node->is_dir) return sys_error("unlink", path, EISDIR);
  if (unwritable_.count(parent_of(p))) return sys_error("unlink", path, EACCES);
  entries_.erase(p);
  changed(p);
  return {};
}

// A fresh temp name beside the entries of `dir` (as the caller wrote it),
// checked as mkstemp would.
Result<FakeFiles::Temp> FakeFiles::make_temp(const std::string& dir, const std::string& base) {
  std::string key_dir = normal(dir);
  if (auto ok = check_writable("mkstemp", key_dir, shown_temp(dir, temp_name(base))); !ok) return ok.error();
  std::string name = temp_name(base);
  name.replace(name.size() - 6, 6, fmt::format("{:06}", next_temp_++ % 1'000'000));
  return Temp{(key_dir == "/" ? "" : key_dir) + "/" + name, shown_temp(dir, name)};
}

Result<std::unique_ptr<Files::StagedWrite>> FakeFiles::stage(const std::string& path, const std::string& content,
                                                              const WriteOptions& options) {
  std::string base = fs::path(path).filename().string();
  if (base.empty()) return make_error(fmt::format("{} names a directory", path));
  auto temp = make_temp(shown_dir(path), base);
  if (!temp) return temp.error();
  if (next_write_error_) return sys_error("write", temp->shown, *std::exchange(next_write_error_, std::nullopt));
  auto node = new_node(false, options.mode);
  node->content = content;
  if (options.owner) {
    node->uid = options.owner->uid;
    node->gid = options.owner->gid;
  }
  entries_[temp->key] = std::move(node);
  return std::unique_ptr<StagedWrite>(std::make_unique<FakeStagedWrite>(*this, temp->shown, path));
}

// rename(2) of a temp entry (removed on failure) over `to`.
Result<void> FakeFiles::rename(const std::string& from, const std::string& to) {
  std::string f = normal(from), t = normal(to);
  auto fail = [&](int err) -> Result<void> {
    entries_.erase(f);
    return sys_error("rename", fmt::format("{} {}", from, to), err);
  };
  if (next_rename_error_) return fail(*std::exchange(next_rename_error_, std::nullopt));
  if (unwritable_.count(parent_of(t))) return fail(EACCES);
  if (Node* there = find(t); there && there->is_dir) return fail(EISDIR);
  auto it = entries_.find(f);
  if (it == entries_.end()) return fail(ENOENT);
  auto node = std::move(it->second);
  entries_.erase(it);
  entries_[t] = std::move(node);
  changed(t);
  return {};
}

Result<void> FakeFiles::link_atomic(const std::string& target, const std::string& path) {
  auto temp = make_temp(shown_dir(path), fs::path(target).filename().string());
  if (!temp) return temp.error();
  std::string call = fmt::format("{} {}", target, temp->shown);
  auto source = entries_.find(normal(target));
  if (source == entries_.end()) return missing_error("link", normal(target), call);
  if (source->second->is_dir) return sys_error("link", call, EPERM);
  entries_[temp->key] = source->second;
  return rename(temp->shown, path);
}

Result<std::unique_ptr<Files::Watch>> FakeFiles::watch(const std::string& dir, OnChange on_change) {
  std::string p = normal(dir);
  Node* node = find(p);
  if (!node) return missing_error("inotify_add_watch", p, dir);
  if (!node->is_dir) return sys_error("inotify_add_watch", dir, ENOTDIR);
  return watches_.add(p, dir, std::move(on_change));
}

void FakeFiles::write_for_test(const std::string& path, const std::string& content, mode_t mode, bool is_seen) {
  std::string p = normal(path);
  for (std::string up = parent_of(p); up != "/" && !find(up); up = parent_of(up)) {
    entries_[up] = new_node(true, 0755);
    if (is_seen) changed(up);
  }
  auto& node = entries_[p];
  if (!node || node->is_dir) node = new_node(false, mode);
  node->content = content;
  node->mode = mode;
  node->mtime = std::chrono::system_clock::time_point(std::chrono::nanoseconds(++changes_));
  if (is_seen) changed(p);
}

void FakeFiles::symlink_for_test(const std::string& path, const std::string& target) {
  write_for_test(path, target, 0777);
  entries_[normal(path)]->is_link = true;
}

void FakeFiles::remove_for_test(const std::string& path) {
  std::string p = normal(path);
  std::erase_if(entries_, [&](const auto& entry) { return entry.first == p || entry.first.starts_with(p + "/"); });
  changed(p);
}

void FakeFiles::set_writable_for_test(const std::string& dir, bool is_writable) {
  if (is_writable) {
    unwritable_.erase(normal(dir));
  } else {
    unwritable_.insert(normal(dir));
  }
}

// A change to the entry `path` (normalised): its directory's watches hear of it.
void FakeFiles::changed(const std::string& path) {
  if (is_temp_name(fs::path(path).filename().string())) return;
  std::string dir = parent_of(path);
  if (std::find(pending_.begin(), pending_.end(), dir) == pending_.end()) pending_.push_back(dir);
  if (!delivery_timer_) delivery_timer_ = timers_.after(Duration::zero(), [this] { deliver(); });
}

void FakeFiles::deliver() {
  delivery_timer_ = 0;
  std::vector<std::string> dirs = std::move(pending_);
  pending_.clear();
  for (const auto& dir : dirs) watches_.notify(dir);
}

// --- Dir -------------------------------------------------------------------------

class FakeFiles::FakeLock : public Files::Lock {
 public:
  FakeLock(FakeFiles& files, std::string path, bool notify) : files_(files), path_(std::move(path)), notify_(notify) {}
  ~FakeLock() override {
    files_.held_locks_.erase(path_);
    if (notify_) files_.changed(path_);
  }

 private:
  FakeFiles& files_;
  std::string path_;
  bool notify_;
};

class FakeFiles::FakeDir : public Files::Dir {
 public:
  FakeDir(FakeFiles& files, std::string path, std::string key)
      : files_(files), path_(std::move(path)), key_(std::move(key)) {}

  const std::string& path() const override { return path_; }

  Result<FileInfo> info() override {
    Node* node = files_.find(key_);
    if (!node) return sys_error("fstat", path_, ENOENT);
    return FileInfo{FileKind::kDirectory, 0, node->mtime, node->mode, node->inode, node->uid, node->gid};
  }

  Result<void> set_mode(mode_t mode) override {
    Node* node = files_.find(key_);
    if (!node) return sys_error("chmod", path_, ENOENT);
    node->mode = mode;
    return {};
  }

  Result<std::string> read(const std::string& rel, size_t max_bytes) override {
    auto p = resolve(rel);
    if (!p) return p.error();
    return files_.read(*p, ReadLimits{max_bytes, false});
  }

  Result<std::optional<FileInfo>> stat(const std::string& rel) override {
    auto p = resolve(rel, false);
    if (!p && p.error().code == kNotFound) return std::optional<FileInfo>();
    if (!p) return p.error();
    auto info = files_.stat(*p);
    if (info && *info && files_.find(*p)->is_link) (*info)->kind = FileKind::kSymlink;
    return info;
  }

  Result<std::vector<std::string>> list(const std::string& rel) override {
    auto p = resolve(rel);
    if (!p) return p.error();
    return files_.list(*p);
  }

  Result<void> make_dir(const std::string& rel, mode_t mode) override {
    auto p = resolve(rel);
    if (!p) return p.error();
    if (Node* node = files_.find(*p)) {
      return node->is_dir ? Result<void>() : sys_error("open", *p, ENOTDIR);
    }
    if (auto ok = files_.check_writable("mkdir", parent_of(*p), *p); !ok) return ok;
    files_.entries_[*p] = files_.new_node(true, mode);
    files_.changed(*p);
    return {};
  }

  Result<void> remove(const std::string& rel) override {
    auto p = resolve(rel, false);
    if (!p) return p.error().code == kNotFound ? Result<void>() : Result<void>(p.error());
    return files_.remove(*p);
  }

  Result<void> write_atomic(const std::string& rel, const std::string& content,
                            const WriteOptions& options) override {
    auto p = resolve(rel, false);
    if (!p) return p.error();
    return files_.write_atomic(*p, content, options);  // renames over a link, as renameat does
  }

  Result<std::unique_ptr<Files::Lock>> try_lock(const std::string& rel, mode_t mode, bool notify_release) override {
    auto p = resolve(rel);
    if (!p) return p.error();
    if (!files_.find(*p)) {
      if (auto ok = files_.check_writable("open", parent_of(*p), *p); !ok) return ok.error();
      files_.entries_[*p] = files_.new_node(false, mode);
    }
    if (!files_.held_locks_.insert(*p).second) return std::unique_ptr<Files::Lock>();
    return std::unique_ptr<Files::Lock>(std::make_unique<FakeLock>(files_, *p, notify_release));
  }

 private:
  // The normalised path of `rel`, refused when a name on the way (and at the
  // end, when `check_last`) is a link; missing is kNotFound.
  Result<std::string> resolve(const std::string& rel, bool check_last = true) const {
    std::string path = key_ == "/" ? "" : key_;
    auto names = fs::path(rel);
    if (rel.empty() || rel.starts_with('/')) return make_error(fmt::format("{}: \"{}\" is not a plain relative path", path_, rel));
    std::vector<std::string> parts;
    for (const auto& part : names) parts.push_back(part.string());
    for (size_t i = 0; i < parts.size(); ++i) {
      const std::string& name = parts[i];
      if (name.empty() || name == "." || name == "..")
        return make_error(fmt::format("{}: \"{}\" is not a plain relative path", path_, rel));
      path += "/" + name;
      bool last = i + 1 == parts.size();
      Node* node = files_.find(path);
      if (!node) {
        if (!last) return sys_error("open", shown(parts, i), ENOENT);
        continue;
      }
      if (node->is_link && (!last || check_last)) {
        Error error = make_error(fmt::format("{} is a symbolic link: refused", shown(parts, i)));
        error.code = kRefusedLink;
        return error;
      }
      if (!last && !node->is_dir) return sys_error("open", shown(parts, i), ENOTDIR);
    }
    return path;
  }

  std::string shown(const std::vector<std::string>& parts, size_t upto) const {
    std::string s = path_;
    for (size_t i = 0; i <= upto; ++i) s += "/" + parts[i];
    return s;
  }

  FakeFiles& files_;
  std::string path_, key_;
};

Result<std::unique_ptr<Files::Dir>> FakeFiles::open_dir(const std::string& path) {
  std::string p = normal(path);
  Node* node = find(p);
  if (!node) return missing_error("open", p, path);
  if (!node->is_dir) return sys_error("open", path, ENOTDIR);
  return std::unique_ptr<Dir>(std::make_unique<FakeDir>(*this, path, p));
}

}  // namespace autopilot::os
