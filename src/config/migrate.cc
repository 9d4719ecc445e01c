#include "config/migrate.h"

#include <map>

#include "config/schema.h"
#include "config/v2.h"
#include "decode/decoder.h"
#include "json5/json5.h"

namespace autopilot::config {
namespace {

using Json = nlohmann::ordered_json;

bool is_identifier(const std::string& key) {
  if (key.empty() || std::isdigit(static_cast<unsigned char>(key[0]))) return false;
  for (char c : key)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '$') return false;
  return true;
}

// JSON5 with unquoted keys where they may be, one value per line, and the
// translation's notes as comments over the values they describe.
class Printer {
 public:
  explicit Printer(const std::map<std::string, std::string>& notes) : notes_(notes) {}

  std::string print(const Json& v) {
    value(v, "", 0);
    out_ += "\n";
    return out_;
  }

 private:
  void indent(int depth) { out_.append(static_cast<size_t>(depth) * 2, ' '); }

  void comment(const std::string& pointer, int depth) {
    auto it = notes_.find(pointer);
    if (it == notes_.end()) return;
    indent(depth);
    out_ += "// " + it->second + "\n";
  }

  // Scalars, and short lists and objects of scalars, stay on one line.
  static bool is_flat(const Json& v) {
    if (!v.is_structured()) return true;
    for (const auto& e : v)
      if (e.is_structured()) return false;
    return v.dump().size() <= 80;
  }

  static std::string key(const std::string& k) { return is_identifier(k) ? k : Json(k).dump(); }

  void value(const Json& v, const std::string& pointer, int depth) {
    if (is_flat(v)) {
      out_ += v.is_structured() ? flat(v) : v.dump();
      return;
    }
    bool object = v.is_object();
    out_ += object ? "{\n" : "[\n";
    size_t i = 0;
    for (auto it = v.begin(); it != v.end(); ++it, ++i) {
      std::string child = pointer + "/" + (object ? json5::pointer_token(it.key()) : std::to_string(i));
      comment(child, depth + 1);
      indent(depth + 1);
      if (object) out_ += key(it.key()) + ": ";
      value(*it, child, depth + 1);
      out_ += ",\n";
    }
    indent(depth);
    out_ += object ? "}" : "]";
  }

  static std::string flat(const Json& v) {
    if (v.empty()) return v.is_object() ? "{}" : "[]";
    std::string s = v.is_object() ? "{ " : "[";
    size_t i = 0;
    for (auto it = v.begin(); it != v.end(); ++it, ++i)
      s += (i ? ", " : "") + (v.is_object() ? key(it.key()) + ": " : "") + it->dump();
    return s + (v.is_object() ? " }" : "]");
  }

  const std::map<std::string, std::string>& notes_;
  std::string out_;
};

Result<std::string> translate_text(const std::string& file, const std::string& text,
                                   const std::vector<std::string>& app, const std::string& header) {
  auto doc = json5::parse(text, file);
  if (!doc) return doc.error();
  decode::Decoder d(*doc, text);
  auto schema = detect_schema(d);
  if (!schema) return schema.error();
  if (schema->schema != Schema::kV2)
    return make_error(file + " is " + schema->note() + "; migrate translates ContainerPilot v2 configs");
  d.set_unknown_key_note(schema->note());
  auto v3 = translate_v2(d, *doc, app);
  if (!v3) return v3.error();
  std::map<std::string, std::string> notes(v3->notes.begin(), v3->notes.end());
  if (v3->doc.value.contains("consul"))
    notes["/consul"] = "v2 `consul`: accepted and logged; autopilot keeps its own catalog";
  if (v3->doc.value.contains("mainJob")) notes["/mainJob"] = "v2's app (the command line) is the main job";
  if (v3->doc.value.contains("telemetry") && !v3->sensors.empty())
    notes["/telemetry"] = "v2 `telemetry`: each sensor is a metric here and a sensor-<metric> job below";
  std::string out = "// Translated from the ContainerPilot v2 config " + file + " by `autopilot migrate`.\n" + header;
  if (app.empty())
    out += "// v2 took the app from the command line; give it to migrate (`autopilot migrate -config F APP ...`)\n"
           "// to get its job.\n";
  return out + Printer(notes).print(v3->doc.value);
}

}  // namespace

Result<std::string> migrate_v2(const std::string& file, const std::string& text, const std::vector<std::string>& app,
                               const Env& env) {
  // Keep the file's templates when it is JSON as written.
  auto kept = translate_text(file, text, app, "");
  if (kept || text.find("{{") == std::string::npos) return kept;
  auto rendered = render_config_text(file, text, env);
  if (!rendered) return rendered.error();
  if (*rendered == text) return kept;
  return translate_text(file, *rendered, app,
                        "// Its templates made it JSON only once rendered, so this is it rendered over the\n"
                        "// environment migrate ran in.\n");
}

}  // namespace autopilot::config
