#include "os/environment.h"

#include <utility>

namespace autopilot::os {

struct Environment::Block {
  explicit Block(std::vector<std::string> e) : entries(std::move(e)) {
    envp.reserve(entries.size() + 1);
    for (std::string& kv : entries) {
      envp.push_back(kv.data());
      if (kv.starts_with("PATH=")) path = std::string_view(kv).substr(5);
    }
    envp.push_back(nullptr);
  }
  std::vector<std::string> entries;
  std::vector<char*> envp;
  std::optional<std::string_view> path;  // into entries
};

Environment::Environment(std::vector<std::string> entries)
    : block_(std::make_shared<const Block>(std::move(entries))) {}

const std::vector<std::string>& Environment::entries() const {
  static const std::vector<std::string> none;
  return block_ ? block_->entries : none;
}

char* const* Environment::envp() const {
  static char* const none[] = {nullptr};
  return block_ ? block_->envp.data() : none;
}

std::optional<std::string_view> Environment::path() const { return block_ ? block_->path : std::nullopt; }

}  // namespace autopilot::os
