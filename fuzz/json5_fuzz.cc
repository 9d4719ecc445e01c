// libFuzzer target for the JSON5 reader (src/json5): every input must parse
// or fail with an Error; a parsed document must have a position for its
// root and for every value it reports, and must dump as JSON.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "json5/json5.h"

using namespace autopilot;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(bytes), size);
  auto doc = json5::parse(text, "fuzz.json5");
  if (!doc.ok()) {
    (void)doc.error().format();
    return 0;
  }
  if (!doc->value_pos.contains("")) __builtin_trap();  // the root has no position
  for (const auto& [pointer, pos] : doc->key_pos) (void)doc->pos_of(pointer + "/x");
  (void)doc->value.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  if (doc->value.is_object()) {
    for (const auto& item : doc->value.items()) (void)json5::pointer_token(item.key());
  }
  return 0;
}
