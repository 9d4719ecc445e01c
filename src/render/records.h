// The records consul-template's data functions hand to templates, with
// consul-template's type and field names:
//  - a service instance, *dependency.HealthService: .ID .Name .Address .Port
//    .Tags (sorted, as consul-template sorts them) .Status .Node
//    .NodeAddress (= .Address: instances here carry no separate node address)
//    .ServiceMeta and .Meta (the same map; consul-template has only
//    .ServiceMeta, the issue asked for .Meta too) .NodeMeta and
//    .NodeTaggedAddresses (always empty). consul-template's .NodeID,
//    .ServiceTaggedAddresses, .Checks and .Weights do not exist here: using
//    them is an exec error naming the field, not a silent "".
//  - a KV pair, *dependency.KeyPair: .Path (full key) .Key (relative to the
//    listed prefix) .Value .CreateIndex .ModifyIndex .LockIndex .Flags
//    .Session (the last three always 0, 0, "").
//  - a catalog service, *dependency.CatalogSnippet: .Name .Tags.
// Records print (`{{ . }}`) as Go's %v prints a struct pointer, `&{...}`;
// an instance prints only `&{ID Name Address Port}` to stay readable.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "discovery/catalog.h"
#include "tmpl/value.h"

namespace autopilot::render {

// A record made of named fields, as a Go struct is. toJSON encodes the
// fields marked in_json, in order (Go's declaration order).
class StructRecord : public tmpl::Record {
 public:
  struct Field {
    std::string name;
    tmpl::Value value;
    bool in_json = true;  // encoded by toJSON
  };

  // {{ . }} prints the fields named in `format_fields`, or all when empty.
  StructRecord(std::string type_name, std::vector<Field> fields, std::vector<std::string> format_fields = {})
      : type_name_(std::move(type_name)), fields_(std::move(fields)), format_fields_(std::move(format_fields)) {}

  std::string_view type_name() const override { return type_name_; }
  std::optional<tmpl::Value> field(std::string_view name) const override;
  std::string format() const override;
  const std::vector<Field>& fields() const { return fields_; }
  const std::vector<std::string>& format_fields() const { return format_fields_; }

 private:
  std::string type_name_;
  std::vector<Field> fields_;
  std::vector<std::string> format_fields_;
};

inline constexpr std::string_view kInstanceType = "*dependency.HealthService";
inline constexpr std::string_view kKeyPairType = "*dependency.KeyPair";
inline constexpr std::string_view kSnippetType = "*dependency.CatalogSnippet";

tmpl::Value instance_value(const discovery::Instance& instance);
// `key` is the entry's key relative to the listed prefix.
tmpl::Value key_pair_value(const discovery::KvEntry& entry, std::string key);
tmpl::Value service_snippet_value(std::string name, std::vector<std::string> tags);

// The StructRecord inside `v` when its type is `type`, else null.
const StructRecord* as_struct(const tmpl::Value& v, std::string_view type);
// A copy of struct record `r` with field `name` set to `value`.
tmpl::Value with_field(const StructRecord& r, std::string_view name, tmpl::Value value);

}  // namespace autopilot::render
