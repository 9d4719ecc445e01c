#include "render/records.h"

#include <algorithm>
#include <map>
#include <memory>

#include "tmpl/string_funcs.h"

namespace autopilot::render {
namespace {

using tmpl::Value;

Value string_map(const std::map<std::string, std::string>& m) {
  std::map<std::string, Value> out;
  for (const auto& [k, v] : m) out.emplace(k, Value(v));
  return Value::map(std::move(out));
}

Value string_list(std::vector<std::string> items) {
  std::vector<Value> out;
  out.reserve(items.size());
  for (auto& s : items) out.emplace_back(std::move(s));
  return Value::list(std::move(out));
}

}  // namespace

std::optional<Value> StructRecord::field(std::string_view name) const {
  for (const Field& f : fields_)
    if (f.name == name) return f.value;
  return std::nullopt;
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
  if (format_fields_.empty()) {
    for (const Field& f : fields_) print(f.value);
  } else {
    for (const std::string& name : format_fields_) print(field(name).value_or(Value()));
  }
  return out + "}";
}

Value instance_value(const discovery::Instance& instance) {
  std::vector<std::string> tags = instance.tags;
  std::sort(tags.begin(), tags.end());
  Value meta = string_map(instance.meta);
  Value empty = Value::map({});
  // Go's declaration order of dependency.HealthService; Meta is our alias.
  std::vector<StructRecord::Field> fields{
      {"Node", Value(instance.node)},
      {"NodeAddress", Value(instance.address)},
      {"NodeTaggedAddresses", empty},
      {"NodeMeta", empty},
      {"ServiceMeta", meta},
      {"Address", Value(instance.address)},
      {"ID", Value(instance.id)},
      {"Name", Value(instance.name)},
      {"Tags", string_list(std::move(tags))},
      {"Status", Value(std::string(discovery::status_name(instance.status)))},
      {"Port", Value(instance.port)},
      {"Meta", meta, false},
  };
  return Value::record(std::make_shared<StructRecord>(std::string(kInstanceType), std::move(fields),
                                                      std::vector<std::string>{"ID", "Name", "Address", "Port"}));
}

Value key_pair_value(const discovery::KvEntry& entry, std::string key) {
  std::vector<StructRecord::Field> fields{
      {"Path", Value(entry.key)},
      {"Key", Value(std::move(key))},
      {"Value", Value(entry.value)},
      {"CreateIndex", Value(static_cast<int64_t>(entry.create_index))},
      {"ModifyIndex", Value(static_cast<int64_t>(entry.mod_index))},
      {"LockIndex", Value(int64_t{0})},
      {"Flags", Value(int64_t{0})},
      {"Session", Value("")},
  };
  return Value::record(std::make_shared<StructRecord>(std::string(kKeyPairType), std::move(fields)));
}

Value service_snippet_value(std::string name, std::vector<std::string> tags) {
  std::vector<StructRecord::Field> fields{{"Name", Value(std::move(name))}, {"Tags", string_list(std::move(tags))}};
  return Value::record(std::make_shared<StructRecord>(std::string(kSnippetType), std::move(fields)));
}

const StructRecord* as_struct(const Value& v, std::string_view type) {
  if (v.kind() != Value::Kind::kRecord || v.as_record().type_name() != type) return nullptr;
  return dynamic_cast<const StructRecord*>(&v.as_record());
}

Value with_field(const StructRecord& r, std::string_view name, Value value) {
  std::vector<StructRecord::Field> fields = r.fields();
  for (auto& f : fields)
    if (f.name == name) f.value = std::move(value);
  return Value::record(
      std::make_shared<StructRecord>(std::string(r.type_name()), std::move(fields), r.format_fields()));
}

}  // namespace autopilot::render
