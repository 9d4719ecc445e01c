#include "tmpl/value.h"

#include <algorithm>

namespace autopilot::tmpl {

// A list and, when it is a slice of another, the backing list it views.
struct Value::ListData {
  std::vector<Value> items;
  std::shared_ptr<const ListData> base;  // the backing array (never itself a slice)
  size_t base_offset = 0;
};

const std::vector<Value>& Value::as_list() const { return static_cast<const ListData*>(p_.get())->items; }

Value::Value(std::string s) : kind_(Kind::kString) { p_ = std::make_shared<const std::string>(std::move(s)); }

Value Value::shared_string(std::shared_ptr<const std::string> s) {
  if (!s) return Value(std::string());
  Value v;
  v.kind_ = Kind::kString;
  v.p_ = std::move(s);
  return v;
}

Value Value::list(std::vector<Value> items) {
  Value v;
  v.kind_ = Kind::kList;
  v.u_.i = static_cast<int64_t>(items.size());
  auto data = std::make_shared<ListData>();
  data->items = std::move(items);
  v.p_ = std::move(data);
  return v;
}

Value Value::typed_list(GoType slice_type, std::vector<Value> items) {
  Value v = list(std::move(items));
  v.type_ = slice_type;
  return v;
}

Value Value::list_with_cap(std::vector<Value> items, size_t cap) {
  Value v = list(std::move(items));
  v.u_.i = static_cast<int64_t>(std::max(cap, v.as_list().size()));
  return v;
}

Value Value::slice_list(size_t i, size_t j, size_t k) const {
  auto self = std::static_pointer_cast<const ListData>(p_);
  std::shared_ptr<const ListData> root = self->base ? self->base : self;
  size_t offset = (self->base ? self->base_offset : 0) + i;
  auto data = std::make_shared<ListData>();
  data->items.reserve(j - i);
  for (size_t x = offset; x < offset + (j - i); ++x)
    data->items.push_back(x < root->items.size() ? root->items[x] : Value());
  data->base = root;
  data->base_offset = offset;
  Value v;
  v.kind_ = Kind::kList;
  v.type_ = type_;  // a slice of a []string is a []string
  v.u_.i = static_cast<int64_t>(k - i);
  v.p_ = std::move(data);
  return v;
}

Value Value::map(std::map<std::string, Value> entries) {
  bool all_strings = true;
  for (const auto& [k, e] : entries) all_strings = all_strings && e.kind() == Kind::kString;
  Value v;
  v.kind_ = Kind::kMap;
  v.type_ = all_strings ? GoType::kStringMap : GoType::kIfaceMap;
  v.p_ = std::make_shared<const std::map<std::string, Value>>(std::move(entries));
  return v;
}

Value Value::record(std::shared_ptr<const Record> r) {
  if (!r) return Value();
  Value v;
  v.kind_ = Kind::kRecord;
  v.p_ = std::move(r);
  return v;
}

Value Value::go_int(int64_t i, GoType t) {
  Value v(i);
  v.type_ = t;
  return v;
}

Value Value::complex(double re, double im) {
  Value v(re);
  v.type_ = GoType::kComplex;
  v.p_ = std::make_shared<const double>(im);
  return v;
}

Value Value::missing() {
  Value v;
  v.missing_ = true;
  return v;
}

const std::map<std::string, Value>& Value::as_map() const {
  return *static_cast<const std::map<std::string, Value>*>(p_.get());
}

namespace {

// Go's malloc size classes up to 32 KiB (runtime/sizeclasses.go).
constexpr size_t kSizeClasses[] = {
    8,    16,   24,    32,    48,    64,    80,    96,    112,   128,   144,   160,   176,   192,   208,   224,  240,
    256,  288,  320,   352,   384,   416,   448,   480,   512,   576,   640,   704,   768,   896,   1024,  1152, 1280,
    1408, 1536, 1792,  2048,  2304,  2688,  3072,  3200,  3456,  4096,  4864,  5376,  6144,  6528,  6784,  6912, 8192,
    9472, 9728, 10240, 10880, 12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768};

size_t round_up_size(size_t bytes) {
  for (size_t c : kSizeClasses)
    if (bytes <= c) return c;
  return (bytes + 8191) / 8192 * 8192;
}

// The capacity of a []interface{} that Go's encoding/json built by appending
// n elements one by one (runtime.growslice, Go 1.19). Slicing JSON arrays
// past their length up to this capacity works in Go, so we mirror it.
size_t json_array_cap(size_t n) {
  constexpr size_t kElem = 16;
  size_t cap = 0;
  for (size_t len = 1; len <= n; ++len) {
    if (len <= cap) continue;
    size_t newcap = cap, doublecap = cap * 2;
    if (len > doublecap) {
      newcap = len;
    } else if (cap < 256) {
      newcap = doublecap;
    } else {
      while (newcap < len) newcap += (newcap + 3 * 256) / 4;
    }
    cap = round_up_size(newcap * kElem) / kElem;
  }
  return cap;
}

// Shared by both nlohmann flavours; maps from JSON are always
// map[string]interface {} in Go's decoding, whatever their values.
template <class Json>
Value convert(const Json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::boolean:
      return Value(j.template get<bool>());
    case nlohmann::json::value_t::number_integer:
      return Value(j.template get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
      uint64_t u = j.template get<uint64_t>();
      if (u <= static_cast<uint64_t>(INT64_MAX)) return Value(static_cast<int64_t>(u));
      return Value(static_cast<double>(u));
    }
    case nlohmann::json::value_t::number_float:
      return Value(j.template get<double>());
    case nlohmann::json::value_t::string:
      return Value(j.template get<std::string>());
    case nlohmann::json::value_t::array: {
      std::vector<Value> items;
      items.reserve(j.size());
      for (const auto& e : j) items.push_back(convert(e));
      size_t n = items.size();
      return Value::list_with_cap(std::move(items), json_array_cap(n));
    }
    case nlohmann::json::value_t::object: {
      std::map<std::string, Value> m;
      for (auto it = j.begin(); it != j.end(); ++it) m.insert_or_assign(it.key(), convert(it.value()));
      Value v = Value::map(std::move(m));
      return v.go_type() == Value::GoType::kIfaceMap ? v : Value::from_json_object_tag(v);
    }
    default:
      return Value();
  }
}

}  // namespace

Value Value::from_json_object_tag(Value v) {
  v.type_ = GoType::kIfaceMap;
  return v;
}

Value Value::from_json(const nlohmann::json& j) { return convert(j); }
Value Value::from_json(const nlohmann::ordered_json& j) { return convert(j); }

bool Value::truthy() const {
  switch (kind_) {
    case Kind::kNull:
      return false;
    case Kind::kBool:
      return u_.b;
    case Kind::kInt:
      return u_.i != 0;
    case Kind::kFloat:
      return u_.f != 0 || imag() != 0;
    case Kind::kString:
      return !as_string().empty();
    case Kind::kList:
      return !as_list().empty();
    case Kind::kMap:
      return !as_map().empty();
    case Kind::kRecord:
      return true;
  }
  return false;
}

std::string Value::type_name() const {
  switch (kind_) {
    case Kind::kNull:
      return "<nil>";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return type_ == GoType::kInt64 ? "int64" : type_ == GoType::kUint8 ? "uint8" : "int";
    case Kind::kFloat:
      return is_complex() ? "complex128" : "float64";
    case Kind::kString:
      return "string";
    case Kind::kList:
      return type_ == GoType::kStringSlice ? "[]string" : type_ == GoType::kIntSlice ? "[]int" : "[]interface {}";
    case Kind::kMap:
      return type_ == GoType::kStringMap ? "map[string]string" : "map[string]interface {}";
    case Kind::kRecord:
      return std::string(as_record().type_name());
  }
  return "";
}

}  // namespace autopilot::tmpl
