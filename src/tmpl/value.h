// Value: the dynamically typed data a template reads (Go's interface{} world).
// Cheap to copy: scalars are stored inline, strings and aggregates are shared
// and immutable. Besides the public Kind, a Value remembers the Go type it
// stands for (int vs int64 vs uint8, map[string]interface {} vs
// map[string]string) because Go's fmt prints that type in %T and in
// "%!d(string=x)"-style complaints, and because missingkey=zero yields that
// map's zero element.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace autopilot::tmpl {

class Value;

// An opaque caller object exposed field by field (e.g. a service instance).
class Record {
 public:
  virtual ~Record() = default;
  virtual std::string_view type_name() const = 0;  // used in error messages and %T
  // nullopt: no such field -> exec error "can't evaluate field X in type T".
  virtual std::optional<Value> field(std::string_view name) const = 0;
  // The field's stored value, without a copy; nullptr when the record has no
  // such field or computes it (the evaluator then asks field()).
  virtual const Value* field_ref(std::string_view) const { return nullptr; }
  virtual std::string format() const = 0;  // how {{.}} and %v print it
};

class Value {
  struct ListData;

 public:
  enum class Kind : uint8_t { kNull, kBool, kInt, kFloat, kString, kList, kMap, kRecord };
  // The Go type behind a value, for %T and error messages. Internal detail.
  enum class GoType : uint8_t { kNone, kInt, kInt64, kUint8, kIfaceMap, kStringMap, kComplex, kStringSlice, kIntSlice };

  Value() : kind_(Kind::kNull) {}
  static Value null() { return Value(); }
  Value(bool b) : kind_(Kind::kBool) { u_.b = b; }
  Value(int64_t i) : kind_(Kind::kInt), type_(GoType::kInt64) { u_.i = i; }
  Value(int i) : kind_(Kind::kInt), type_(GoType::kInt) { u_.i = i; }
  // Other integer types (long long, size_t, ...) become int64.
  template <class T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, int> && !std::is_same_v<T, int64_t>)
      Value(T i)
      : Value(static_cast<int64_t>(i)) {}
  Value(double f) : kind_(Kind::kFloat) { u_.f = f; }
  Value(std::string s);
  Value(std::string_view s) : Value(std::string(s)) {}
  Value(const char* s) : Value(std::string(s)) {}
  // A string kept in the caller's shared, immutable data, without a copy
  // (e.g. an aliasing shared_ptr to a member of a shared struct). Null: "".
  static Value shared_string(std::shared_ptr<const std::string> s);

  static Value list(std::vector<Value> items);
  // A list of a caller function's Go slice type: kStringSlice ([]string, of
  // strings) or kIntSlice ([]int, of ints). Plain lists are []interface {}.
  static Value typed_list(GoType slice_type, std::vector<Value> items);
  // A list whose Go capacity exceeds its length (slice can reach up to cap;
  // elements past the length read as nil). Internal.
  static Value list_with_cap(std::vector<Value> items, size_t cap);
  // Go's l[i:j:k] on a list: shares the backing array, so a later re-slice
  // can reach elements past j (up to k). Requires i <= j <= k <= list_cap().
  Value slice_list(size_t i, size_t j, size_t k) const;
  // Keys iterate sorted, as Go's range over maps. A map whose values are all
  // strings behaves like Go's map[string]string (missingkey=zero yields "").
  static Value map(std::map<std::string, Value> entries);
  static Value record(std::shared_ptr<const Record> r);
  // JSON ints -> int64, other numbers -> float64, objects ->
  // map[string]interface {}, arrays -> []interface {}.
  static Value from_json(const nlohmann::json& j);
  static Value from_json(const nlohmann::ordered_json& j);
  // An int of a given Go type (internal: len gives int, index of a string uint8).
  static Value go_int(int64_t i, GoType t);
  // A complex128 template constant (1i, 1+2i). Internal: it reports kFloat,
  // with the real part as as_float().
  static Value complex(double re, double im);
  bool is_complex() const { return type_ == GoType::kComplex; }
  double imag() const { return is_complex() ? *static_cast<const double*>(p_.get()) : 0; }
  // Go's invalid reflect.Value: a missing map key or an absent pipeline value.
  // Prints "<no value>"; otherwise behaves like null.
  static Value missing();
  // Marks a map as map[string]interface {} (what JSON objects decode to).
  static Value from_json_object_tag(Value v);

  Kind kind() const { return kind_; }
  GoType go_type() const { return type_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_missing() const { return kind_ == Kind::kNull && missing_; }
  bool as_bool() const { return u_.b; }
  int64_t as_int() const { return u_.i; }
  double as_float() const { return u_.f; }
  // The accessors below require the matching kind.
  const std::string& as_string() const { return *static_cast<const std::string*>(p_.get()); }
  const std::vector<Value>& as_list() const;
  const std::map<std::string, Value>& as_map() const;
  size_t list_cap() const { return static_cast<size_t>(u_.i); }
  const Record& as_record() const { return *static_cast<const Record*>(p_.get()); }
  std::shared_ptr<const Record> record_ptr() const { return std::static_pointer_cast<const Record>(p_); }

  // Go's truth: false, 0, 0.0, "", nil and empty lists and maps are false.
  bool truthy() const;
  // The Go type name ("int", "float64", "[]interface {}", ...), "<nil>" for null.
  std::string type_name() const;

 private:
  Kind kind_;
  GoType type_ = GoType::kNone;
  bool missing_ = false;
  union {
    bool b;
    int64_t i;
    double f;
  } u_{};
  std::shared_ptr<const void> p_;
};

}  // namespace autopilot::tmpl
