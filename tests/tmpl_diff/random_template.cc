// The template half of the random cases. Each generator method emits one
// grammar production of Go's text/template; scoping follows Go's parser
// (parse.go): a control's pipeline variables and both of its branches share
// one scope that ends at {{end}}, and define/block bodies start afresh.
#include "random_template.h"

#include "random_gen.h"

namespace autopilot::tmpl_diff {
namespace {

const std::vector<std::string> kTexts = {"a", " ", "\n", "x=", ",", "  ", "\t", "é", "<b>", "}", "-", "\n\n", "end", ":", "1",
                                         "\r\n", " \r", "{ ", "日本\n"};
const std::vector<std::string> kStringLits = {"\"x\"", "\"\"", "\"a b\"", "`raw\\n`", "\"\\n\"", "\"\\t<&>\"", "\"\\x41\\u00e9\"",
                                              "\"hello\"", "\"b\"", "\"0\"", "\"%d\"", "\"it's\"",
                                              "\"\\u2028\"", "\"\\x00\"", "\"{{\"", "\"日本\"", "`a\"b`"};
const std::vector<std::string> kIntLits = {"0", "1", "2", "3", "-1", "42", "0x1F", "017", "'a'", "1_000", "-0", "255", "0b11",
                                           "0o17", "'é'", "'\\n'", "+7", "9223372036854775807", "-9223372036854775808"};
const std::vector<std::string> kFloatLits = {"1.5", "0.0", "1e3", ".5", "-2.5", "1e21", "1e-5", "100000.0", "3.0", "0x1p4",
                                             "1e-7", "2.5e10", "1_0.5", "-0.0", "0x1.8p1", "123456789.0"};
const std::vector<std::string> kVerbs = {"s", "s", "d", "d", "v", "v", "v", "q", "x", "X", "o", "O", "b", "c",
                                         "e", "E", "f", "F", "g", "G", "t", "T", "U", "%"};

// Joins parts evaluated left to right: elements of a braced list are
// sequenced, unlike the operands of +, which keeps the random stream (and so
// every case) identical across compilers.
std::string cat(std::initializer_list<std::string> parts) {
  std::string out;
  for (const auto& p : parts) out += p;
  return out;
}

class TemplateGen {
 public:
  TemplateGen(Rng& rng, const nlohmann::json& data) : rng_(rng), data_(&data) {}

  std::string generate() {
    std::string out;
    int defines = rng_.chance(25) ? 1 + rng_.below(3) : 0;
    for (int i = 0; i < defines; ++i) out += define(i);
    scopes_ = {{"$"}};
    root_ = data_;
    dots_ = {data_};
    out += list(1 + rng_.below(5));
    return out;
  }

 private:
  std::string open() { return rng_.chance(12) ? "{{- " : rng_.chance(15) ? "{{ " : "{{"; }
  std::string close() { return rng_.chance(12) ? " -}}" : rng_.chance(15) ? " }}" : "}}"; }
  std::string action(const std::string& body) { return cat({open(), body, close()}); }

  std::string new_var() {
    std::string name = "$v" + std::to_string(next_var_++);
    scopes_.back().push_back(name);
    return name;
  }
  std::string existing_var() {
    std::vector<std::string> all;
    for (const auto& s : scopes_) all.insert(all.end(), s.begin(), s.end());
    if (rng_.chance(1)) return "$undeclared";
    return rng_.pick(all);
  }
  bool has_user_var() const {
    for (const auto& s : scopes_)
      if (s.size() > (&s == &scopes_.front() ? 1u : 0u)) return true;
    return false;
  }

  std::string define(int i) {
    scopes_ = {{"$"}};
    root_ = nullptr;  // a define's dot is whatever its caller passes
    dots_ = {nullptr};
    range_depth_ = 0;
    std::string body = list(1 + rng_.below(3));
    defined_ = i + 1;
    return "{{define \"t" + std::to_string(i) + "\"}}" + body + "{{end}}";
  }

  std::string list(int n) {
    std::string out;
    for (int i = 0; i < n && budget_ > 0; ++i) out += node();
    return out;
  }

  std::string node() {
    --budget_;
    int roll = rng_.below(100);
    if (depth_ >= 3 || budget_ <= 0) roll = rng_.below(55);
    if (roll < 25) return rng_.pick(kTexts);
    if (roll < 50) return action(pipeline(true));
    if (roll < 55) return cat({rng_.chance(30) ? "{{- " : "{{", "/* c */", rng_.chance(30) ? " -}}" : "}}"});
    ++depth_;
    std::string out;
    if (roll < 63) out = if_node();
    else if (roll < 72) out = range_node();
    else if (roll < 79) out = with_node();
    else if (roll < 86) out = action(declaration());
    else if (roll < 90 && has_user_var()) out = action(cat({existing_var(), " = ", pipeline(false)}));
    else if (roll < 94 && (range_depth_ > 0 || rng_.chance(1))) out = action(rng_.chance(50) ? "break" : "continue");
    else if (roll < 97 && (defined_ > 0 || rng_.chance(2))) out = template_call();
    else if (roll < 98) out = block_node();
    else out = rng_.pick(kTexts);
    --depth_;
    return out;
  }

  // if / with share a shape: {{kw PIPE}}LIST[{{else [if PIPE]}}LIST]{{end}}
  std::string if_node() {
    scopes_.emplace_back();
    std::string out = cat({action("if " + pipeline(true)), branch(1 + rng_.below(3))});
    if (rng_.chance(30)) out += cat({action("else if " + pipeline(false)), branch(1 + rng_.below(2))});
    if (rng_.chance(50)) out += cat({action("else"), branch(1 + rng_.below(2))});
    scopes_.pop_back();
    return out + action("end");
  }

  // Go's parser lets a variable declared in one branch be named in the next
  // one, where it fails at exec time; keep that rare.
  std::string branch(int n) {
    bool own_scope = rng_.chance(85);
    if (own_scope) scopes_.emplace_back();
    std::string out = list(n);
    if (own_scope) scopes_.pop_back();
    return out;
  }

  std::string with_node() {
    scopes_.emplace_back();
    const nlohmann::json* dot = &scalar();  // what most non-field pipelines yield
    std::string target = rng_.chance(60) ? field_chain(dots_.back(), &dot) : pipeline(true);
    std::string out = action("with " + target);
    dots_.push_back(dot);
    out += list(1 + rng_.below(3));
    dots_.pop_back();
    if (rng_.chance(40)) out += cat({action("else"), list(1 + rng_.below(2))});
    scopes_.pop_back();
    return out + action("end");
  }

  std::string range_node() {
    scopes_.emplace_back();
    std::string decl;
    int kind = rng_.below(10);
    if (kind >= 8) decl = cat({new_var(), ", ", new_var(), " := "});
    else if (kind >= 5) decl = new_var() + " := ";
    const nlohmann::json* coll = nullptr;
    std::string target = rng_.chance(95) ? collection(&coll) : command();
    std::string out = action("range " + decl + target);
    ++range_depth_;
    dots_.push_back(element_of(coll));
    out += list(1 + rng_.below(3));
    dots_.pop_back();
    --range_depth_;
    if (rng_.chance(30)) out += cat({action("else"), list(1)});
    scopes_.pop_back();
    return out + action("end");
  }

  std::string template_call() {
    // Only earlier defines are callable, so templates never recurse.
    bool known = defined_ > 0 && rng_.chance(97);
    std::string name = known ? "\"t" + std::to_string(rng_.below(defined_)) + "\"" : "\"nope\"";
    return action("template " + name + (rng_.chance(70) ? " " + pipeline(false) : ""));
  }

  // A block body is a template of its own: fresh variables, no enclosing
  // range, and its argument as both . and $.
  std::string block_node() {
    const nlohmann::json* arg = &scalar();
    std::string pipe = rng_.chance(50) ? field_chain(dots_.back(), &arg) : pipeline(false);
    std::string head = action("block \"blk" + std::to_string(blocks_++) + "\" " + pipe);
    auto saved_scopes = scopes_;
    auto saved_dots = dots_;
    auto saved_root = root_;
    int saved_range = range_depth_;
    scopes_ = {{"$"}};
    dots_ = {arg};
    root_ = arg;
    range_depth_ = 0;
    std::string body = list(1 + rng_.below(2));
    scopes_ = saved_scopes;
    dots_ = saved_dots;
    root_ = saved_root;
    range_depth_ = saved_range;
    return cat({head, body, action("end")});
  }

  // "$vN := pipeline". The name is made after the pipeline: Go declares it
  // before parsing the commands, and "$v := $v" only fails at exec time.
  std::string declaration() {
    std::string value = pipeline(false);
    return cat({new_var(), " := ", value});
  }

  // A pipeline, optionally declaring a variable (only where Go allows it).
  std::string pipeline(bool allow_decl) {
    if (allow_decl && rng_.chance(10)) return declaration();
    std::string out = command();
    for (int i = rng_.chance(20) ? 1 + rng_.below(2) : 0; i > 0; --i) out += " | " + piped_call();
    return out;
  }

  std::string command() {
    if (!rng_.chance(45)) return call();
    std::string op = operand();
    return op == "nil" && !rng_.chance(5) ? "\"not nil\"" : op;
  }

  // ".k1.k2..." starting at `base` (the value the chain applies to, when
  // known): mostly keys that exist, so that most chains evaluate.
  std::string field_chain(const nlohmann::json* base, const nlohmann::json** result = nullptr) {
    std::string out;
    const nlohmann::json* at = base;
    do {
      std::string key;
      if (at && at->is_object() && !at->empty() && rng_.chance(85)) {
        auto it = std::next(at->begin(), rng_.below(at->size()));
        key = it.key();
        at = &it.value();
      } else {
        key = rng_.pick(data_keys());
        at = nullptr;
      }
      out += "." + key;
    } while (at && at->is_object() ? rng_.chance(40) : rng_.chance(5));
    if (result) *result = at;
    return out;
  }

  static const nlohmann::json& scalar() {
    static const nlohmann::json kScalar = "scalar";
    return kScalar;
  }

  static const nlohmann::json* element_of(const nlohmann::json* coll) {
    if (!coll || coll->empty() || !(coll->is_array() || coll->is_object())) return nullptr;
    return &*coll->begin();
  }

  // Something to range over or index: mostly a list or map of the data.
  std::string collection(const nlohmann::json** result = nullptr) {
    const nlohmann::json* dot = dots_.back();
    std::vector<std::string> keys;
    if (dot && dot->is_object()) {
      for (auto it = dot->begin(); it != dot->end(); ++it)
        if (it->is_array() || it->is_object()) keys.push_back(it.key());
    }
    if (result) *result = nullptr;
    if (!keys.empty() && rng_.chance(80)) {
      std::string key = rng_.pick(keys);
      if (result) *result = &(*dot)[key];
      return "." + key;
    }
    if (root_ && root_->is_object() && rng_.chance(60)) {
      std::string key = rng_.chance(60) ? "l" : "m";
      if (result && root_->contains(key)) *result = &(*root_)[key];
      return "$." + key;
    }
    int r = rng_.below(10);
    if (r < 2) return ".l";
    if (r < 4) return ".m";
    if (r < 5) return "$";
    if (r < 8) {
      if (result) *result = dot;
      return ".";
    }
    return field_chain(dots_.back(), result);
  }

  // Indexes that fit `coll` when it is known: positions of a list, keys of a map.
  std::string index_args(const nlohmann::json* coll, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) {
      if (coll && coll->is_array() && !coll->empty() && rng_.chance(85)) {
        int at = rng_.below(coll->size());
        out += " " + std::to_string(at);
        coll = &(*coll)[at];
      } else if (coll && coll->is_object() && !coll->empty() && rng_.chance(85)) {
        auto it = std::next(coll->begin(), rng_.below(coll->size()));
        out += " \"" + it.key() + "\"";
        coll = &it.value();
      } else {
        out += " " + (rng_.chance(50) ? rng_.pick(kIntLits) : "\"" + rng_.pick(data_keys()) + "\"");
        coll = nullptr;
      }
    }
    return out;
  }

  // A literal of the same kind as `v` (when known), for comparisons that work.
  std::string literal_like(const nlohmann::json* v) {
    if (v && v->is_number_integer()) return rng_.pick(kIntLits);
    if (v && v->is_number_float()) return rng_.pick(kFloatLits);
    if (v && v->is_string()) return rng_.pick(kStringLits);
    if (v && v->is_boolean()) return rng_.chance(50) ? "true" : "false";
    return literal();
  }

  std::string literal() {
    int r = rng_.below(100);
    if (r < 35) return rng_.pick(kIntLits);
    if (r < 50) return rng_.pick(kFloatLits);
    if (r < 85) return rng_.pick(kStringLits);
    if (r < 97) return rng_.chance(50) ? "true" : "false";
    return "nil";
  }

  std::string operand() {
    int r = rng_.below(100);
    const nlohmann::json* dot = dots_.back();
    if (r < 35) return dot && !dot->is_object() ? "." : field_chain(dot);
    if (r < 42) return ".";
    if (r < 55) {
      std::string v = existing_var();
      if (v == "$" && rng_.chance(60)) return "$" + field_chain(root_);
      return rng_.chance(25) ? v + field_chain(nullptr) : v;
    }
    if (r < 85 || depth_ >= 4) return literal();
    ++depth_;
    std::string p = "(" + pipeline(false) + ")";
    --depth_;
    return rng_.chance(10) ? p + field_chain(nullptr) : p;
  }

  std::string args(int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += " " + operand();
    return out;
  }

  std::string printf_format(int& verbs) {
    std::string f;
    verbs = 0;
    for (int n = 1 + rng_.below(3); n > 0; --n) {
      if (rng_.chance(30)) {
        static const std::vector<std::string> kChunks = {"x", " ", "[", "=", "%%", "é"};
        f += rng_.pick(kChunks);
        continue;
      }
      f += "%";
      if (rng_.chance(4)) f += "[" + std::to_string(1 + rng_.below(3)) + "]";
      for (int k = rng_.chance(30) ? 1 + rng_.below(2) : 0; k > 0; --k) f += "-+# 0"[rng_.below(5)];
      if (rng_.chance(3)) {
        f += "*";
        ++verbs;  // the width is an argument too
      } else if (rng_.chance(25)) {
        f += std::to_string(1 + rng_.below(8));
      }
      if (rng_.chance(20)) f += "." + std::to_string(rng_.below(4));
      std::string verb = rng_.pick(kVerbs);
      f += verb;
      if (verb != "%") ++verbs;
    }
    return "\"" + f + "\"";
  }

  std::string comparison_args(int n) {
    if (rng_.chance(20)) return args(n);
    // A field and literals of its kind, or literals of one kind, so that most
    // comparisons succeed.
    if (rng_.chance(50)) {
      const nlohmann::json* v = nullptr;
      std::string field = field_chain(dots_.back(), &v);
      if (v && (v->is_primitive() && !v->is_null())) {
        std::string out = " " + field;
        for (int i = 1; i < n; ++i) out += " " + literal_like(v);
        return out;
      }
    }
    static const std::vector<std::vector<std::string>> kPools = {kIntLits, kFloatLits, kStringLits};
    const auto& pool = rng_.pick(kPools);
    std::string out;
    for (int i = 0; i < n; ++i) out += " " + rng_.pick(pool);
    return out;
  }

  std::string call() {
    static const std::vector<std::string> kFuncs = {"and", "or", "not", "len", "index", "slice", "print", "println",
                                                    "printf", "printf", "printf", "eq", "ne", "lt", "le", "gt", "ge",
                                                    "html", "js", "urlquery"};
    std::string f = rng_.pick(kFuncs);
    if (f == "and" || f == "or") return f + args(1 + rng_.below(3));
    if (f == "not") return f + args(1);
    if (f == "len") return f + " " + (rng_.chance(70) ? collection() : operand());
    if (f == "index") {
      const nlohmann::json* coll = nullptr;
      std::string target = collection(&coll);
      return f + " " + target + index_args(coll, rng_.below(3));
    }
    if (f == "slice") return cat({f, " ", rng_.chance(40) ? rng_.pick(kStringLits) : "$.l", int_args(rng_.below(3))});
    if (f == "print" || f == "println") return f + args(rng_.below(4));
    if (f == "printf") {
      int verbs = 0;
      std::string fmt = printf_format(verbs);
      int extra = rng_.chance(10) ? (rng_.chance(50) ? 1 : -1) : 0;
      return f + " " + fmt + args(std::max(0, verbs + extra));
    }
    if (f == "eq") return f + comparison_args(2 + (rng_.chance(25) ? 1 + rng_.below(2) : 0));
    if (f == "ne" || f == "lt" || f == "le" || f == "gt" || f == "ge") return f + comparison_args(2);
    return f + args(1 + rng_.below(2));
  }

  // A call that receives the previous pipeline stage as its last argument.
  std::string piped_call() {
    static const std::vector<std::string> kPiped = {"print", "printf \"%v\"", "printf \"<%s>\"", "len", "html", "js",
                                                    "urlquery", "not", "println", "and 1", "or 0", "printf \"%q\"", "printf \"%T\"",
                                                    "printf \"%d|%q\" 5"};
    return rng_.pick(kPiped);
  }

  std::string int_args(int n) {
    std::string out;
    for (int i = 0; i < n; ++i) {
      int v = rng_.below(5);
      if (rng_.chance(5)) v -= 2;
      out += " " + std::to_string(v);
    }
    return out;
  }

  Rng& rng_;
  const nlohmann::json* data_;
  const nlohmann::json* root_ = nullptr;           // what $ is, when known
  std::vector<const nlohmann::json*> dots_ = {nullptr};  // what . is, when known
  std::vector<std::vector<std::string>> scopes_ = {{"$"}};
  int depth_ = 0;
  int range_depth_ = 0;
  int budget_ = 16;
  int next_var_ = 0;
  int defined_ = 0;
  int blocks_ = 0;
};

}  // namespace

RandomCase generate_case(uint64_t seed, uint64_t index) {
  Rng rng(seed * 0x100000001b3ULL ^ (index + 1) * 0x9e3779b97f4a7c15ULL);
  RandomCase c;
  c.data = random_data(rng);
  c.text = TemplateGen(rng, c.data).generate();
  int mk = rng.below(100);
  c.missing_key = mk < 85 ? "default" : mk < 93 ? "zero" : "error";
  return c;
}

}  // namespace autopilot::tmpl_diff
