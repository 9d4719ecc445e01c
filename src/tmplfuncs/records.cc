#include "tmplfuncs/records.h"

#include <algorithm>
#include <array>
#include <map>
#include <memory>

#include "tmpl/string_funcs.h"

namespace autopilot::tmplfuncs {
namespace {

using discovery::Instance;
using tmpl::Value;

// Shared by every record that has nothing there.
const Value& empty_map() {
  static const Value kEmpty = Value::map({});
  return kEmpty;
}

const Value& empty_list() {
  static const Value kEmpty = Value::list({});
  return kEmpty;
}

Value string_list(std::vector<std::string> items) {
  std::vector<Value> out;
  out.reserve(items.size());
  for (auto& s : items) out.emplace_back(std::move(s));
  return Value::list(std::move(out));
}

// One shared Value per status name.
Value status_value(discovery::Status status) {
  static const std::map<discovery::Status, Value> kNames = [] {
    std::map<discovery::Status, Value> names;
    for (auto s : {discovery::Status::kPassing, discovery::Status::kWarning, discovery::Status::kCritical,
                   discovery::Status::kMaintenance})
      names.emplace(s, Value(std::string(discovery::status_name(s))));
    return names;
  }();
  auto it = kNames.find(status);
  return it != kNames.end() ? it->second : Value(std::string(discovery::status_name(status)));
}

class FieldRecord final : public StructRecord {
 public:
  FieldRecord(std::string_view type, std::vector<Field> fields, std::span<const std::string_view> format_fields)
      : type_(type), fields_(std::move(fields)), format_fields_(format_fields) {}
  std::string_view type_name() const override { return type_; }
  size_t field_count() const override { return fields_.size(); }
  std::string_view field_name(size_t k) const override { return fields_[k].name; }
  bool field_in_json(size_t k) const override { return fields_[k].in_json; }
  const Value& field_value(size_t k) const override { return fields_[k].value; }
  std::span<const std::string_view> format_fields() const override { return format_fields_; }

 private:
  std::string_view type_;
  std::vector<Field> fields_;
  std::span<const std::string_view> format_fields_;
};

constexpr std::string_view kInstanceFormat[] = {"ID", "Name", "Address", "Port"};

// Go's declaration order of dependency.HealthService; Meta is our alias.
enum InstanceField : size_t {
  kNode, kNodeAddress, kNodeTaggedAddresses, kNodeMeta, kServiceMeta, kAddress, kID, kName, kTags, kStatus, kPort,
  kMeta, kInstanceFieldCount
};
constexpr std::array<std::string_view, kInstanceFieldCount> kInstanceFields = {
    "Node", "NodeAddress", "NodeTaggedAddresses", "NodeMeta", "ServiceMeta", "Address",
    "ID",   "Name",        "Tags",                "Status",   "Port",        "Meta"};

class InstanceRecord;

// What an instance list shares: the instances (whose strings the records'
// values point into) and the records themselves, in one array.
struct InstanceBlock {
  std::shared_ptr<const std::vector<Instance>> instances;
  std::vector<InstanceRecord> records;
};

// *dependency.HealthService over one instance of an InstanceBlock. A field's
// value is made when first read and then kept (a template reads a few of the
// twelve; a list is read by every pass until the next delivery). Records are
// only used on the event loop's thread.
class InstanceRecord final : public StructRecord {
 public:
  InstanceRecord(const InstanceBlock& block, const Instance& i) : block_(&block), i_(&i) {}

  std::string_view type_name() const override { return kInstanceType; }
  std::span<const std::string_view> format_fields() const override { return kInstanceFormat; }
  size_t field_count() const override { return kInstanceFieldCount; }
  std::string_view field_name(size_t k) const override { return kInstanceFields[k]; }
  bool field_in_json(size_t k) const override { return k != kMeta; }
  const Value& field_value(size_t k) const override {
    if (!(built_ & (1u << k))) {
      built_ |= 1u << k;
      values_[k] = make(k);
    }
    return values_[k];
  }
  // Every field of every instance of every pass comes here: the length and
  // a letter or two pick the candidate, one comparison confirms it.
  std::optional<size_t> field_index(std::string_view name) const override {
    size_t k = kInstanceFieldCount;
    switch (name.size()) {
      case 2: k = kID; break;
      case 4:
        switch (name[0]) {
          case 'N': k = name[1] == 'o' ? kNode : kName; break;
          case 'T': k = kTags; break;
          case 'P': k = kPort; break;
          case 'M': k = kMeta; break;
        }
        break;
      case 6: k = kStatus; break;
      case 7: k = kAddress; break;
      case 8: k = kNodeMeta; break;
      case 11: k = name[0] == 'N' ? kNodeAddress : kServiceMeta; break;
      case 19: k = kNodeTaggedAddresses; break;
    }
    if (k == kInstanceFieldCount || kInstanceFields[k] != name) return std::nullopt;
    return k;
  }

 private:
  Value text(const std::string& s) const {
    return Value::shared_string(std::shared_ptr<const std::string>(block_->instances, &s));
  }

  Value meta() const {
    if (i_->meta.empty()) return empty_map();
    std::map<std::string, Value> m;
    for (const auto& [k, v] : i_->meta) m.emplace(k, text(v));
    return Value::map(std::move(m));
  }

  Value tags() const {  // sorted, as consul-template sorts them
    if (i_->tags.empty()) return empty_list();
    std::vector<const std::string*> sorted;
    sorted.reserve(i_->tags.size());
    for (const auto& t : i_->tags) sorted.push_back(&t);
    std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return *a < *b; });
    std::vector<Value> items;
    items.reserve(sorted.size());
    for (const auto* t : sorted) items.push_back(text(*t));
    return Value::list(std::move(items));
  }

  Value make(size_t k) const {
    switch (static_cast<InstanceField>(k)) {
      case kNode: return text(i_->node);
      case kNodeAddress: case kAddress: return text(i_->address);
      case kNodeTaggedAddresses: case kNodeMeta: return empty_map();
      case kServiceMeta: return meta();
      case kMeta: return field_value(kServiceMeta);  // the same map
      case kID: return text(i_->id);
      case kName: return text(i_->name);
      case kTags: return tags();
      case kStatus: return status_value(i_->status);
      case kPort: return Value(i_->port);
      case kInstanceFieldCount: break;
    }
    return Value();
  }

  const InstanceBlock* block_;
  const Instance* i_;
  mutable std::array<Value, kInstanceFieldCount> values_;
  mutable uint16_t built_ = 0;
};

}  // namespace

std::optional<size_t> StructRecord::field_index(std::string_view name) const {
  for (size_t k = 0, n = field_count(); k < n; ++k)
    if (field_name(k) == name) return k;
  return std::nullopt;
}

const Value* StructRecord::field_ref(std::string_view name) const {
  auto k = field_index(name);
  return k ? &field_value(*k) : nullptr;
}

std::optional<Value> StructRecord::field(std::string_view name) const {
  if (const Value* v = field_ref(name)) return *v;
  return std::nullopt;
}

std::vector<StructRecord::Field> StructRecord::fields() const {
  std::vector<Field> out;
  for (size_t k = 0, n = field_count(); k < n; ++k) out.push_back({field_name(k), field_value(k), field_in_json(k)});
  return out;
}

// Go's %v of a struct pointer: `&{` fields printed with %v, space separated `}`.
std::string StructRecord::format() const {
  std::string out = "&{";
  bool first = true;
  auto print = [&](const Value& v) {
    if (!first) out += ' ';
    out += tmpl::funcs::text_of(v);
    first = false;
  };
  auto names = format_fields();
  if (names.empty()) {
    for (size_t k = 0, n = field_count(); k < n; ++k) print(field_value(k));
  } else {
    for (std::string_view name : names) {
      const Value* v = field_ref(name);
      print(v ? *v : Value());
    }
  }
  return out + "}";
}

Value struct_value(std::string_view type, std::vector<StructRecord::Field> fields,
                   std::span<const std::string_view> format_fields) {
  return Value::record(std::make_shared<FieldRecord>(type, std::move(fields), format_fields));
}

// One block holds every record; each list element points into it (shared_ptr
// aliasing), so building the list costs three allocations.
Value instance_list(std::shared_ptr<const std::vector<Instance>> instances) {
  auto block = std::make_shared<InstanceBlock>();
  block->instances = std::move(instances);
  block->records.reserve(block->instances->size());
  for (const Instance& i : *block->instances) block->records.emplace_back(*block, i);
  std::vector<Value> out;
  out.reserve(block->records.size());
  for (const InstanceRecord& r : block->records)
    out.push_back(Value::record(std::shared_ptr<const tmpl::Record>(block, &r)));
  return Value::list(std::move(out));
}

Value key_pair_value(const discovery::KvEntry& entry, std::string key) {
  return struct_value(kKeyPairType, {
                                        {"Path", Value(entry.key)},
                                        {"Key", Value(std::move(key))},
                                        {"Value", Value(entry.value)},
                                        {"CreateIndex", Value(static_cast<int64_t>(entry.create_index))},
                                        {"ModifyIndex", Value(static_cast<int64_t>(entry.mod_index))},
                                        {"LockIndex", Value(int64_t{0})},
                                        {"Flags", Value(int64_t{0})},
                                        {"Session", Value("")},
                                    });
}

Value service_snippet_value(std::string name, std::vector<std::string> tags) {
  return struct_value(kSnippetType, {{"Name", Value(std::move(name))}, {"Tags", string_list(std::move(tags))}});
}

const StructRecord* as_struct(const Value& v, std::string_view type) {
  if (v.kind() != Value::Kind::kRecord || v.as_record().type_name() != type) return nullptr;
  return dynamic_cast<const StructRecord*>(&v.as_record());
}

Value with_field(const StructRecord& r, std::string_view name, Value value) {
  std::vector<StructRecord::Field> fields = r.fields();
  for (auto& f : fields)
    if (f.name == name) f.value = std::move(value);
  return struct_value(r.type_name(), std::move(fields), r.format_fields());
}

}  // namespace autopilot::tmplfuncs
