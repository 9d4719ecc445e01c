// Random cases for ContainerPilot's config-template helpers ("containerpilot"
// funcs mode): every helper gets operands of every type the language can
// give it (string, int, float, bool and nil literals; data fields holding
// int64, float64, string, bool, null, lists and maps; missing keys;
// variables; the []string of split and the []int of loop; results of
// builtins and of other helpers), passed as written arguments and as the
// piped final value, with right and wrong argument counts.
#include "random_helpers.h"

#include "engine_runner.h"
#include "random_gen.h"

namespace autopilot::tmpl_diff {
namespace {

const std::vector<std::string> kHelpers = {"default", "env", "split", "join", "replaceAll", "regexReplaceAll", "loop"};
const std::vector<std::string> kStrings = {
    "\"\"",  "\"a\"",   "\"a,b\"",  "\" a:b \"", "\"3\"",     "\"-2\"",    "\"+1\"",   "\"x\"",   "\"日本\"", "\",\"",
    "\":\"", "\"abc\"", "\"HOST\"", "\"N\"",     "\"PARTS\"", "\"UNSET\"", "\"aXbX\"", "` b,a `", "\"07\""};
const std::vector<std::string> kInts = {"0", "1", "2", "3", "-1", "5", "'a'", "0x3", "-3"};
const std::vector<std::string> kFloats = {"1.5", "0.0", "2.0", "1e3", "-0.5"};
const std::vector<std::string> kFields = {".a",    ".b",     ".c",    ".n",     ".s",    ".l",       ".m",   ".x",
                                          ".name", ".items", ".Flag", ".empty", ".zero", ".missing", ".m.a", ".HOST"};
// Patterns whose meaning is the same in RE2 and in the engine's translation
// (no empty matches inside multi-byte text, no `.`), and one invalid one.
const std::vector<std::string> kPatterns = {"\"a\"",     "\"[ab]+\"",  "\"(a)(b)?\"", "\"b(c)\"", "\"[\"",
                                            "\"(?i)A\"", "\"\\\\d+\"", "\"é\"",       "\"^a\"",   "\"X\""};
const std::vector<std::string> kReplacements = {"\"$1\"", "\"${1}_\"", "\"<$0>\"", "\"$$\"",
                                                "\"_\"",  "\"\"",      "\"$1x\""};
const std::vector<std::string> kTexts = {"", " ", "\n", ",", "|", "x="};

std::string cat(std::initializer_list<std::string> parts) {
  std::string out;
  for (const auto& p : parts) out += p;
  return out;
}

class HelperGen {
 public:
  explicit HelperGen(Rng& rng) : rng_(rng) {}

  std::string generate() {
    std::string out;
    for (int n = 1 + rng_.below(3); n > 0; --n) out += cat({rng_.pick(kTexts), node()});
    return out;
  }

 private:
  std::string node() {
    int roll = rng_.below(100);
    if (roll < 45) return cat({"{{ ", call(0), " }}"});
    if (roll < 55) return cat({"{{ printf \"%T\" (", call(0), ") }}"});
    if (roll < 67) {
      std::string value = call(0);
      std::string name = "$v" + std::to_string(next_var_++);
      vars_.push_back(name);
      return cat({"{{ ", name, " := ", value, " }}{{ ", name, " }}"});
    }
    if (roll < 80) {
      std::string head = rng_.chance(50) ? "{{ range $i, $e := " : "{{ range ";
      std::string target = rng_.chance(60) ? loop_call() : call(0);
      std::string body = rng_.chance(50) ? "[{{ . }}]" : cat({"{{ ", call(1), " }};"});
      return cat({head, target, " }}", body, "{{ end }}"});
    }
    if (roll < 90) {
      std::string cond = call(0);
      std::string yes = cat({"{{ ", call(1), " }}"});
      return cat({"{{ if ", cond, " }}", yes, "{{ else }}no{{ end }}"});
    }
    return cat({"{{ with ", call(0), " }}<{{ . }}>{{ end }}"});
  }

  // A helper call: written arguments, or the last one piped in.
  std::string call(int depth) {
    const std::string& fn = rng_.pick(kHelpers);
    if (fn == "loop") return loop_call();
    std::vector<std::string> args;
    int arity = fn == "env" ? 1 : fn == "default" || fn == "split" || fn == "join" ? 2 : 3;
    if (rng_.chance(5)) arity += rng_.chance(50) ? 1 : -1;
    for (int i = 0; i < arity; ++i) args.push_back(argument(fn, i, depth));
    return form(fn, args);
  }

  std::string form(const std::string& fn, const std::vector<std::string>& args) {
    if (!args.empty() && rng_.chance(40)) {
      std::string out = args.back() + " | " + fn;
      for (size_t i = 0; i + 1 < args.size(); ++i) out += " " + args[i];
      return out;
    }
    std::string out = fn;
    for (const auto& a : args) out += " " + a;
    return out;
  }

  // Arguments of the helper's own type most of the time, any type otherwise
  // (more would make nearly every case an error).
  std::string argument(const std::string& fn, int i, int depth) {
    if (rng_.chance(30)) return value(depth);
    if (fn == "join" && i == 1) return rng_.chance(70) ? cat({"(", split_call(), ")"}) : value(depth);
    if (fn == "regexReplaceAll" && i == 0) return rng_.pick(kPatterns);
    if ((fn == "regexReplaceAll" || fn == "replaceAll") && i == 1) return rng_.pick(kReplacements);
    if (fn == "env" && rng_.chance(70)) return rng_.pick(kStrings);
    return rng_.chance(80) ? rng_.pick(kStrings) : value(depth);
  }

  std::string split_call() {
    std::string sep = rng_.pick(std::vector<std::string>{"\",\"", "\":\"", "\"\"", "\" \"", "\"b\""});
    std::string s = rng_.chance(70) ? rng_.pick(kStrings) : "(env \"PARTS\")";
    return rng_.chance(50) ? cat({s, " | split ", sep}) : cat({"split ", sep, " ", s});
  }

  // loop with small bounds, so that ranges stay short.
  std::string loop_call() {
    int n = rng_.chance(92) ? 1 + rng_.below(2) : rng_.chance(50) ? 0 : 3;
    std::vector<std::string> args;
    for (int i = 0; i < n; ++i) {
      int roll = rng_.below(100);
      if (roll < 45)
        args.push_back(rng_.pick(kInts));
      else if (roll < 65)
        args.push_back(rng_.pick(
            std::vector<std::string>{"\"3\"", "\"-2\"", "\"+1\"", "\"x\"", "\"\"", "\"07\"", "(env \"N\")", ".HOST"}));
      else
        args.push_back(value(2));
    }
    return form("loop", args);
  }

  // An operand of any type.
  std::string value(int depth) {
    int roll = rng_.below(100);
    if (depth >= 2 && roll >= 80) roll = rng_.below(80);
    if (roll < 20) return rng_.pick(kStrings);
    if (roll < 30) return rng_.pick(kInts);
    if (roll < 35) return rng_.pick(kFloats);
    if (roll < 40) return rng_.chance(50) ? "true" : "false";
    if (roll < 45) return "nil";
    if (roll < 62) return rng_.pick(kFields);
    if (roll < 66) return vars_.empty() || rng_.chance(30) ? "." : rng_.pick(vars_);
    if (roll < 72) return cat({"(", split_call(), ")"});
    if (roll < 76)
      return rng_.pick(std::vector<std::string>{"(len .l)", "(index .l 0)", "(printf \"%s\" .s)", "(eq 1 1)",
                                                "(slice (split \",\" \"a,b,c\") 1)", "(print)"});
    if (roll < 80) return cat({"(", loop_call(), ")"});
    return cat({"(", call(depth + 1), ")"});
  }

  Rng& rng_;
  std::vector<std::string> vars_;
  int next_var_ = 0;
};

// Data as ContainerPilot gives it (every value a string) a third of the
// time, else a random JSON tree with every type.
nlohmann::json helper_data(Rng& rng) {
  if (rng.chance(33)) {
    nlohmann::json env = nlohmann::json::object();
    for (const auto& [k, v] : helper_env()) env[k] = v;
    if (rng.chance(50)) env["s"] = "a,b";
    return env;
  }
  return random_data(rng);
}

}  // namespace

RandomCase generate_helper_case(uint64_t seed, uint64_t index) {
  Rng rng(seed * 0x100000001b3ULL ^ (index + 1) * 0xc2b2ae3d27d4eb4fULL);
  RandomCase c;
  c.data = helper_data(rng);
  c.text = HelperGen(rng).generate();
  int mk = rng.below(100);
  c.missing_key = mk < 70 ? "zero" : mk < 90 ? "default" : "error";
  return c;
}

}  // namespace autopilot::tmpl_diff
