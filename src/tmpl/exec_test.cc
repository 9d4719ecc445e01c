#include <gtest/gtest.h>
#include <pthread.h>

#include <chrono>
#include <functional>

#include "tmpl/test_util.h"

namespace autopilot::tmpl {
namespace {

using testing::render;
using testing::render_json;

// Runs fn on a thread of its own with a stack of `bytes`, and waits for it.
void on_stack_of(size_t bytes, std::function<void()> fn) {
  pthread_attr_t attr;
  ASSERT_EQ(pthread_attr_init(&attr), 0);
  ASSERT_EQ(pthread_attr_setstacksize(&attr, bytes), 0);
  pthread_t thread;
  auto run = [](void* f) -> void* {
    (*static_cast<std::function<void()>*>(f))();
    return nullptr;
  };
  ASSERT_EQ(pthread_create(&thread, &attr, run, &fn), 0);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attr);
}

TEST(Exec, TextFieldsAndChains) {
  EXPECT_EQ(render_json("Hello, {{.name}}!", R"({"name":"web"})"), "Hello, web!");
  EXPECT_EQ(render_json("{{.a.b.c}}", R"({"a":{"b":{"c":7}}})"), "7");
  EXPECT_EQ(render_json("{{(index . \"a\").b}}|{{$x := .}}{{$x.a.b}}", R"({"a":{"b":"c"}})"), "c|c");
  EXPECT_EQ(render_json("{{.}}", R"({"b":[1,null,"x"],"a":{}})"), "map[a:map[] b:[1 <nil> x]]");
  EXPECT_EQ(render_json("{{$}}", R"({"a":1})"), "map[a:1]");
}

TEST(Exec, NoValueAndNil) {
  EXPECT_EQ(render_json("[{{.nope}}]", R"({"a":1})"), "[<no value>]");
  EXPECT_EQ(render_json("[{{.a}}]", R"({"a":null})"), "[<no value>]");
  EXPECT_EQ(render_json("{{.a.b}}", "{}"), "<no value>");
  EXPECT_EQ(render_json("{{.a.b}}", R"({"a":null})"), "EXEC: nil pointer evaluating interface {}.b");
  EXPECT_EQ(render("{{.}}|{{.x}}"), "<no value>|<no value>");
  EXPECT_EQ(render_json("{{print .missing}}|{{.missing | print}}", "{}"), "<nil>|<nil>");
}

TEST(Exec, MissingKeyModes) {
  EXPECT_EQ(render_json("[{{.nope}}]", R"({"a":1})", MissingKey::kZero), "[<no value>]");
  EXPECT_EQ(render_json("[{{.nope}}]", R"({"a":1})", MissingKey::kError), "EXEC: map has no entry for key \"nope\"");
  EXPECT_EQ(render_json("[{{.a}}]", R"({"a":null})", MissingKey::kError), "[<no value>]");
  EXPECT_EQ(render_json("{{.a.b}}", "{}", MissingKey::kZero), "EXEC: nil pointer evaluating interface {}.b");
  // A map of strings is Go's map[string]string: its zero element is "".
  Value env = Value::map({{"HOME", Value("/root")}});
  EXPECT_EQ(render("[{{.HOME}}][{{.NOPE}}]", env, MissingKey::kZero), "[/root][]");
  EXPECT_EQ(render("[{{.NOPE}}]", env, MissingKey::kDefault), "[<no value>]");
  EXPECT_EQ(render("{{.NOPE}}", Value(), MissingKey::kError), "EXEC: nil data; no entry for key \"NOPE\"");
}

TEST(Exec, FieldErrors) {
  EXPECT_EQ(render_json("{{.x.y}}", R"({"x":5})"), "EXEC: can't evaluate field y in type int64");
  EXPECT_EQ(render("{{.x}}", Value(5)), "EXEC: can't evaluate field x in type int");
  EXPECT_EQ(render_json("{{.a 1}}", R"({"a":1})"), "EXEC: a is not a method but has arguments");
  EXPECT_EQ(render("{{1 2}}"), "EXEC: can't give argument to non-function 1");
  EXPECT_EQ(render("{{nil}}"), "EXEC: nil is not a command");
}

TEST(Exec, ErrorPosition) {
  auto t = Template::parse("t", "ok\n  {{index .l 5}}");
  ASSERT_TRUE(t.ok());
  auto out = t->execute(Value::from_json(nlohmann::json::parse(R"({"l":[1]})")));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().message, "error calling index: index out of range: 5");
  EXPECT_EQ(out.error().pos->line, 2);
  EXPECT_EQ(out.error().pos->col, 5);
  EXPECT_EQ(out.error().source_line, "  {{index .l 5}}");
}

TEST(Exec, TrimAndComments) {
  EXPECT_EQ(render("a  {{- 1 -}}  b\n  {{- /* c */ -}}\n  c {{/* x */}} d"), "a1bc  d");
  EXPECT_EQ(render("{{- \"a\" }}\n{{ \"b\" -}}\n\n  c"), "a\nbc");
  EXPECT_EQ(render("{{-3}} {{ -3 }} {{- -3 -}} x"), "-3 -3-3x");
}

TEST(Exec, Variables) {
  EXPECT_EQ(render("{{$x := 1}}{{if true}}{{$x := 2}}{{$x}}{{end}}{{$x}}{{if true}}{{$x = 3}}{{end}}{{$x}}"), "213");
  EXPECT_EQ(render("{{$x := 1}}{{$x := $x}}{{$x}}"), "1");
  EXPECT_EQ(render_json("{{with $x := .a}}{{$x}}{{else}}[{{$x}}]{{end}}", R"({"a":0})"), "[0]");
  EXPECT_EQ(render_json("{{range .}}{{$}}{{end}}", "[1,2]"), "[1 2][1 2]");
  EXPECT_EQ(render("{{$y = 2}}"), "EXEC: undefined variable: $y");
  EXPECT_EQ(render("{{if true}}{{$x := 1}}{{end}}{{$x}}"), "PARSE: undefined variable \"$x\"");
}

TEST(Exec, IfElse) {
  const char* t = "{{if eq . 1}}one{{else if eq . 2}}two{{else if eq . 3}}three{{else}}many{{end}}";
  EXPECT_EQ(render(t, Value(1)), "one");
  EXPECT_EQ(render(t, Value(3)), "three");
  EXPECT_EQ(render(t, Value(9)), "many");
  EXPECT_EQ(render_json("{{if .a}}T{{else}}F{{end}}{{if .b}}T{{else}}F{{end}}{{if .c}}T{{else}}F{{end}}",
                        R"({"a":0.0,"b":[],"c":" "})"),
            "FFT");
}

TEST(Exec, With) {
  EXPECT_EQ(render_json("{{with .a}}{{.}}{{else}}no{{end}}{{with .b}}{{.}}{{else}}no{{end}}", R"({"a":"","b":[1]})"),
            "no[1]");
}

TEST(Exec, Range) {
  EXPECT_EQ(render_json("{{range $k, $v := .}}{{$k}}={{$v}} {{end}}", R"({"z":1,"a":{"x":[1,2]},"m":"s"})"),
            "a=map[x:[1 2]] m=s z=1 ");
  EXPECT_EQ(render_json("{{range $i, $e := .}}{{$i}}:{{$e}} {{end}}", R"(["x","y"])"), "0:x 1:y ");
  EXPECT_EQ(render_json("{{range $e := .}}{{$e}}{{end}}", "[1,2]"), "12");
  EXPECT_EQ(render_json("{{range .e}}x{{else}}empty{{end}}|{{range .n}}x{{else}}nil{{end}}", R"({"e":[]})"),
            "empty|nil");
  EXPECT_EQ(render("{{range 5}}x{{end}}"), "EXEC: range can't iterate over 5");
  EXPECT_EQ(render("{{range \"abc\"}}x{{end}}"), "EXEC: range can't iterate over abc");
}

TEST(Exec, BreakContinue) {
  EXPECT_EQ(render_json("{{range .}}{{if eq . 3}}{{break}}{{end}}{{if eq . 1}}{{continue}}{{end}}{{.}}{{end}}",
                        "[0,1,2,3,4]"),
            "02");
  EXPECT_EQ(render_json("{{range .}}{{range .}}{{if eq . 2}}{{break}}{{end}}{{.}}{{end}};{{end}}", "[[1,2,3],[4,2]]"),
            "1;4;");
}

TEST(Exec, RangeElseFlow) {
  // A continue in an inner range's else reaches the outer range; a break there
  // only ends the inner range (Go's walkRange recovers it).
  EXPECT_EQ(render_json("{{range .l}}{{range $.e}}{{else}}{{continue}}{{end}}[{{.}}]{{end}}", R"({"l":[1,2]})"), "");
  EXPECT_EQ(render_json("{{range .l}}{{range $.e}}{{else}}{{break}}{{end}}[{{.}}]{{end}}", R"({"l":[1,2]})"), "[1][2]");
}

TEST(Exec, VariablesGoResolvesAtRunTime) {
  // Go's parser lets an if body's variable be named in the else branch, and a
  // declaration's own name inside its pipeline; both fail only when run.
  EXPECT_EQ(render("{{if false}}{{$x := 1}}{{else}}{{$x}}{{end}}"), "EXEC: undefined variable: $x");
  EXPECT_EQ(render("{{$x := 5}}{{if false}}{{$x := 1}}{{else}}{{$x}}{{end}}"), "5");
  EXPECT_EQ(render("{{range $v := $v}}{{end}}"), "EXEC: undefined variable: $v");
  EXPECT_EQ(render("{{$x := 1}}{{range $x := $x}}{{end}}"), "EXEC: range can't iterate over 1");
  EXPECT_EQ(render_json("{{range .e}}{{$y = 1}}{{$y}}{{end}}ok", R"({"e":[]})"), "ok");
  EXPECT_EQ(render_json("{{$ = 5}}{{$}}", R"({"a":1})"), "5");
}

TEST(Exec, DefineTemplateBlock) {
  EXPECT_EQ(render("{{define \"a\"}}A{{.}}{{end}}{{template \"a\" 1}}{{template \"a\"}}{{block \"b\" 2}}B{{.}}{{end}}"),
            "A1A<no value>B2");
  EXPECT_EQ(render("x{{template \"nope\"}}"), "EXEC: template \"nope\" not defined");
  EXPECT_EQ(render("{{define \"a\"}}A{{end}}{{define \"a\"}} {{end}}{{template \"a\"}}"), "A");
  EXPECT_EQ(render_json("{{define \"r\"}}{{if .}}{{len .}}{{template \"r\" (slice . 1)}}{{end}}{{end}}"
                        "{{template \"r\" .}}",
                        "[1,2,3]"),
            "321");
  // Templates see only their own variables.
  EXPECT_EQ(render("{{define \"a\"}}{{$x}}{{end}}{{$x := 1}}"), "PARSE: undefined variable \"$x\"");
}

TEST(Exec, Pipelines) {
  EXPECT_EQ(render_json("{{.a | printf \"%s-%s\" \"x\"}}", R"({"a":"A"})"), "x-A");
  EXPECT_EQ(render("{{\"x\" | print 1 | print 2}}"), "21x");
  EXPECT_EQ(render("{{(print 1 2).X}}"), "EXEC: can't evaluate field X in type string");
  EXPECT_EQ(render("{{ print\n  1\n  2 }}"), "1 2");
}

class Instance : public Record {
 public:
  std::string_view type_name() const override { return "Instance"; }
  std::optional<Value> field(std::string_view name) const override {
    if (name == "Address") return Value("10.0.0.1");
    if (name == "Port") return Value(8080);
    return std::nullopt;
  }
  std::string format() const override { return "{web 10.0.0.1}"; }
};

TEST(Exec, Records) {
  Value rec = Value::record(std::make_shared<Instance>());
  Value data = Value::map({{"i", rec}});
  EXPECT_EQ(render("{{.i.Address}}:{{.i.Port}} {{.i}} {{if .i}}t{{end}}", data), "10.0.0.1:8080 {web 10.0.0.1} t");
  EXPECT_EQ(render("{{.i.Nope}}", data), "EXEC: can't evaluate field Nope in type Instance");
  EXPECT_EQ(render("{{.i.Port 1}}", data), "EXEC: Port has arguments but cannot be invoked as function");
  EXPECT_EQ(render("{{printf \"%T\" .i}}", data), "Instance");
}

TEST(Exec, UserFunctions) {
  FuncMap funcs;
  funcs.add("join", [](std::span<const Value> args) -> Result<Value> {
    std::string s;
    for (const Value& v : args) s += v.is_null() ? "nil" : v.kind() == Value::Kind::kString ? v.as_string() : "?";
    return Value(s);
  });
  funcs.add("fail", [](std::span<const Value>) -> Result<Value> { return make_error("boom"); });
  funcs.add("len", [](std::span<const Value>) -> Result<Value> { return Value("mine"); });
  funcs.add("and", [](std::span<const Value> args) -> Result<Value> { return Value(static_cast<int>(args.size())); });
  EXPECT_EQ(render("{{join \"a\" \"b\"}}|{{\"c\" | join \"a\"}}|{{join .x}}", Value(), MissingKey::kDefault, funcs),
            "ab|ac|nil");
  EXPECT_EQ(render("{{fail}}", Value(), MissingKey::kDefault, funcs), "EXEC: error calling fail: boom");
  // Caller functions shadow built-ins, and a caller "and" does not short-circuit.
  EXPECT_EQ(render("{{len 1}}|{{and 0 1 2}}", Value(), MissingKey::kDefault, funcs), "mine|3");
}

// A declared signature types the arguments as text/template does for a Go
// func(string, []string, ...interface{}), with Go's messages.
TEST(Exec, CallerFunctionSignatures) {
  FuncMap funcs;
  funcs.add("f", Signature{{ParamType::kString, ParamType::kStringList, ParamType::kAny}, /*variadic=*/true},
            [](std::span<const Value> args) -> Result<Value> {
              std::string s = args[0].as_string() + ":" + std::to_string(args[1].as_list().size()) + ":" +
                              std::to_string(args.size() - 2);
              for (const Value& v : args.subspan(2)) s += v.is_null() ? ",nil" : "," + v.type_name();
              return Value(s);
            });
  funcs.add("strs", [](std::span<const Value>) -> Result<Value> {
    return Value::typed_list(Value::GoType::kStringSlice, {Value("a"), Value("b")});
  });
  auto run = [&](const std::string& text, const Value& data = Value()) {
    return render(text, data, MissingKey::kDefault, funcs);
  };
  EXPECT_EQ(run("{{ f \"a\" (strs) }}|{{ f \"a\" nil 1 nil .x }}|{{ strs | f \"b\" }}"),
            "a:2:0|a:0:3,int,nil,nil|b:2:0");
  EXPECT_EQ(run("{{ printf \"%T\" (strs) }} {{ printf \"%T\" (slice (strs) 1) }}"), "[]string []string");
  EXPECT_EQ(run("{{ f }}"), "EXEC: wrong number of args for f: want at least 2 got 0");
  EXPECT_EQ(run("{{ f 1 (strs) }}"), "EXEC: expected string; found 1");
  EXPECT_EQ(run("{{ f nil (strs) }}"), "EXEC: cannot assign nil to string");
  EXPECT_EQ(run("{{ f .x (strs) }}"), "EXEC: invalid value; expected string");
  EXPECT_EQ(run("{{ f . (strs) }}", Value(3)), "EXEC: wrong type for value; expected string; got int");
  EXPECT_EQ(run("{{ f \"a\" \"b\" }}"), "EXEC: can't handle \"b\" for arg of type []string");
  EXPECT_EQ(run("{{ f \"a\" . }}", Value::list({Value("x")})),
            "EXEC: wrong type for value; expected []string; got []interface {}");
  EXPECT_EQ(run("{{ 3 | f \"a\" }}"), "EXEC: wrong type for value; expected []string; got int");
}

TEST(Exec, Limits) {
  Limits small;
  small.max_output_bytes = 10;
  EXPECT_EQ(render("{{range .}}abcdef{{end}}", Value::list({Value(1), Value(2)}), MissingKey::kDefault, {}, small),
            "EXEC: output exceeds the limit of 10 bytes");
  // Go's limit of 10000 calls, on a stack deep enough for it whatever the
  // build's frames (ASan's take about 3 kB a call: 8 MB end at ~2,700 calls).
  std::string deep;
  on_stack_of(64u << 20, [&] { deep = render("{{define \"r\"}}{{template \"r\" .}}{{end}}{{template \"r\" .}}"); });
  EXPECT_EQ(deep, "EXEC: exceeded maximum template depth (10000)");
  Limits shallow;
  shallow.max_depth = 3;
  EXPECT_EQ(render("{{define \"r\"}}x{{template \"r\" .}}{{end}}{{template \"r\" .}}", Value(), MissingKey::kDefault,
                   {}, shallow),
            "EXEC: exceeded maximum template depth (3)");
}

TEST(Exec, NestedLoopsThatPrintNothingEndAtTheStepLimit) {
  std::vector<Value> items(2000, Value(1));
  Value data = Value::list(std::move(items));
  // 8 billion iterations: hours without a limit.
  auto start = std::chrono::steady_clock::now();
  auto t = Template::parse("nginx.ctmpl", "x\n  {{range .}}{{range $}}{{range $}}{{end}}{{end}}{{end}}", {});
  ASSERT_TRUE(t.ok());
  auto out = t->execute(data);
  ASSERT_FALSE(out.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  EXPECT_EQ(out.error().message, "execution exceeds the limit of 20000000 steps (a loop too large, or nested loops?)");
  ASSERT_TRUE(out.error().pos.has_value());
  EXPECT_EQ(out.error().pos->file, "nginx.ctmpl");
  EXPECT_EQ(out.error().pos->line, 2);
  // 16 steps: the outer range, its 3 iterations, each inner range and its 3.
  Value three = Value::list({Value(1), Value(2), Value(3)});
  Limits few;
  few.max_steps = 16;
  EXPECT_EQ(render("{{range .}}{{range $}}{{end}}{{end}}", three, MissingKey::kDefault, {}, few), "");
  few.max_steps = 15;
  EXPECT_EQ(render("{{range .}}{{range $}}{{end}}{{end}}", three, MissingKey::kDefault, {}, few),
            "EXEC: execution exceeds the limit of 15 steps (a loop too large, or nested loops?)");

}

TEST(Exec, DeepRecursionEndsBeforeTheStack) {
  Limits deep;
  deep.max_depth = 10000000;
  std::string out = render("{{define \"r\"}}{{template \"r\" .}}{{end}}{{template \"r\" .}}", Value(),
                           MissingKey::kDefault, {}, deep);
  EXPECT_TRUE(out.starts_with("EXEC: exceeded maximum template depth (")) << out;
  EXPECT_TRUE(out.ends_with("calls exhaust the stack)")) << out;
}

TEST(Exec, ExecuteIsRepeatable) {
  auto t = Template::parse("t", "{{$x := .}}{{$x}}");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t->execute(Value(1)), "1");
  EXPECT_EQ(*t->execute(Value("b")), "b");
}

TEST(Value, FromJsonTypes) {
  Value v = Value::from_json(nlohmann::json::parse(R"({"i":1,"f":1.5,"e":1e2,"b":true,"s":"x","n":null,"l":[]})"));
  const auto& m = v.as_map();
  EXPECT_EQ(m.at("i").type_name(), "int64");
  EXPECT_EQ(m.at("f").type_name(), "float64");
  EXPECT_EQ(m.at("e").type_name(), "float64");
  EXPECT_EQ(m.at("b").type_name(), "bool");
  EXPECT_TRUE(m.at("n").is_null());
  EXPECT_EQ(m.at("l").type_name(), "[]interface {}");
  EXPECT_EQ(v.type_name(), "map[string]interface {}");
  Value o = Value::from_json(nlohmann::ordered_json::parse(R"({"b":"x","a":"y"})"));
  EXPECT_EQ(render("{{.}}", o), "map[a:y b:x]");
  EXPECT_EQ(render("{{.}}", o, MissingKey::kDefault).size(), 12u);
}

TEST(Value, IntegerTypes) {
  EXPECT_EQ(Value(size_t{3}).type_name(), "int64");
  EXPECT_EQ(Value(7LL).as_int(), 7);
  EXPECT_EQ(Value(5).type_name(), "int");
  EXPECT_EQ(Value(int64_t{5}).type_name(), "int64");
  EXPECT_EQ(Value(true).kind(), Value::Kind::kBool);
}

TEST(Value, Truthiness) {
  EXPECT_FALSE(Value().truthy());
  EXPECT_FALSE(Value(0).truthy());
  EXPECT_FALSE(Value(0.0).truthy());
  EXPECT_FALSE(Value("").truthy());
  EXPECT_FALSE(Value::list({}).truthy());
  EXPECT_FALSE(Value::map({}).truthy());
  EXPECT_TRUE(Value(-1).truthy());
  EXPECT_TRUE(Value("0").truthy());
  EXPECT_TRUE(Value::list({Value()}).truthy());
}

}  // namespace
}  // namespace autopilot::tmpl
