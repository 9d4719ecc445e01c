// FakeSource: an in-memory Source for tests. Services, KV and files are
// loaded when set; reading something not loaded counts a miss and answers
// null, as the Renderer's Source does before a watch delivers. Test-only.
#pragma once

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "tmplfuncs/records.h"
#include "tmplfuncs/source.h"

namespace autopilot::tmplfuncs::testing {

class FakeSource : public Source {
 public:
  // Instances by service name; a name absent from the map is not loaded.
  std::map<std::string, std::vector<discovery::Instance>> instances;
  bool services_loaded = true;
  // Every KV entry; all of KV reads as not loaded while kv_loaded is false.
  std::vector<discovery::KvEntry> kv_entries;
  bool kv_loaded = true;
  std::map<std::string, std::string> env_vars;
  std::map<std::string, std::string> files;

  int misses = 0;
  std::vector<ServiceQuery> service_reads;
  std::vector<std::string> kv_reads;

  // Filters, sorts and builds the records on every call.
  std::optional<tmpl::Value> service(const ServiceQuery& q) override {
    service_reads.push_back(q);
    auto it = instances.find(q.name);
    if (it == instances.end()) {
      ++misses;
      return std::nullopt;
    }
    std::vector<discovery::Instance> out;
    for (const auto& i : it->second) {
      bool tagged = q.tag.empty() || std::find(i.tags.begin(), i.tags.end(), q.tag) != i.tags.end();
      bool wanted = q.healthy_only() ? discovery::is_healthy(i.status) : q.statuses.count(i.status) > 0;
      if (tagged && wanted) out.push_back(i);
    }
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return std::tie(a.node, a.id) < std::tie(b.node, b.id); });
    return instance_list(std::make_shared<const std::vector<discovery::Instance>>(std::move(out)));
  }

  const std::vector<discovery::ServiceSummary>* services() override {
    if (!services_loaded) return miss<discovery::ServiceSummary>();
    summaries_.clear();
    for (const auto& [name, list] : instances) {
      if (list.empty()) continue;
      std::set<std::string> tags;
      for (const auto& i : list) tags.insert(i.tags.begin(), i.tags.end());
      summaries_.push_back({name, std::vector<std::string>(tags.begin(), tags.end())});
    }
    return &summaries_;
  }

  const std::vector<discovery::KvEntry>* kv(const std::string& prefix) override {
    kv_reads.push_back(prefix);
    if (!kv_loaded) return miss<discovery::KvEntry>();
    auto& out = kv_results_[prefix];
    out.clear();
    for (const auto& e : kv_entries)
      if (e.key.compare(0, prefix.size(), prefix) == 0) out.push_back(e);
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
    return &out;
  }

  std::optional<std::string> env(const std::string& name) override {
    auto it = env_vars.find(name);
    if (it == env_vars.end()) return std::nullopt;
    return it->second;
  }

  Result<std::string> file(const std::string& path) override {
    auto it = files.find(path);
    if (it == files.end()) return make_error("file: open " + path + ": no such file or directory");
    return it->second;
  }

 private:
  template <class T>
  const std::vector<T>* miss() {
    ++misses;
    return nullptr;
  }

  std::map<std::string, std::vector<discovery::KvEntry>> kv_results_;
  std::vector<discovery::ServiceSummary> summaries_;
};

}  // namespace autopilot::tmplfuncs::testing
