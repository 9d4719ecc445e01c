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
//
// Records never change what they show. An instance list is built once per
// catalog delivery (instance_list) and then shared by every `service` call of
// every pass until the next delivery, so it is built lean: the records of a
// list sit in one array, a field's value is made when first read and then
// kept (so instance records are for the loop's thread only), strings are
// views into the (shared, immutable) instances, and the values repeated
// across instances (status names, empty maps) are shared. About two
// allocations per instance whose .Tags is read (its list), plus its .Meta.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "discovery/catalog.h"
#include "tmpl/value.h"

namespace autopilot::tmplfuncs {

// A record made of named fields, as a Go struct is, in Go's declaration
// order. toJSON encodes the fields that are in_json, in that order. Type
// names, field names and format lists are static (string literals, static
// arrays).
class StructRecord : public tmpl::Record {
 public:
  struct Field {
    std::string_view name;
    tmpl::Value value;
    bool in_json = true;  // encoded by toJSON
  };

  virtual size_t field_count() const = 0;
  virtual std::string_view field_name(size_t k) const = 0;
  virtual bool field_in_json(size_t k) const = 0;
  virtual const tmpl::Value& field_value(size_t k) const = 0;
  // {{ . }} prints these fields, or all when empty.
  virtual std::span<const std::string_view> format_fields() const { return {}; }
  // The index of the field called `name`.
  virtual std::optional<size_t> field_index(std::string_view name) const;

  std::optional<tmpl::Value> field(std::string_view name) const override;
  const tmpl::Value* field_ref(std::string_view name) const override;
  std::string format() const override;
  // Every field, copied (to build a changed record: with_field).
  std::vector<Field> fields() const;
};

// A StructRecord of `type` with `fields` (KV pairs, catalog services).
tmpl::Value struct_value(std::string_view type, std::vector<StructRecord::Field> fields,
                         std::span<const std::string_view> format_fields = {});

inline constexpr std::string_view kInstanceType = "*dependency.HealthService";
inline constexpr std::string_view kKeyPairType = "*dependency.KeyPair";
inline constexpr std::string_view kSnippetType = "*dependency.CatalogSnippet";

// The list `service` returns: one instance record per instance, in order.
// The records refer to `instances`, which must not change afterwards.
tmpl::Value instance_list(std::shared_ptr<const std::vector<discovery::Instance>> instances);
// `key` is the entry's key relative to the listed prefix.
tmpl::Value key_pair_value(const discovery::KvEntry& entry, std::string key);
tmpl::Value service_snippet_value(std::string name, std::vector<std::string> tags);

// The StructRecord inside `v` when its type is `type`, else null.
const StructRecord* as_struct(const tmpl::Value& v, std::string_view type);
// A copy of struct record `r` with field `name` set to `value`.
tmpl::Value with_field(const StructRecord& r, std::string_view name, tmpl::Value value);

}  // namespace autopilot::tmplfuncs
