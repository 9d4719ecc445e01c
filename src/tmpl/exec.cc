// The evaluator: walks a parsed TemplateSet over a Value, following Go 1.19
// text/template/exec.go (state.walk, evalPipeline, evalCommand, evalField,
// evalCall). Variables live in one stack with slots resolved at parse time.
// Errors unwind with an exception, as Go's s.errorf panics; it never leaves
// this file.
#include "tmpl/exec.h"

#include <algorithm>
#include <array>

#include "tmpl/builtins.h"
#include "tmpl/go_format.h"
#include "tmpl/parser.h"
#include "tmpl/stack_guard.h"

namespace autopilot::tmpl {
namespace {

struct ExecError {
  std::string message;
  size_t pos;
};

enum class Flow { kNormal, kBreak, kContinue };

// Arguments of one call, on the stack when few.
class ArgBuffer {
 public:
  void push(Value v) {
    if (n_ < small_.size())
      small_[n_] = std::move(v);
    else {
      if (big_.empty()) big_.assign(small_.begin(), small_.end());
      big_.push_back(std::move(v));
    }
    ++n_;
  }
  std::span<Value> span() { return n_ <= small_.size() ? std::span<Value>(small_.data(), n_) : std::span<Value>(big_); }

 private:
  std::array<Value, 6> small_;
  std::vector<Value> big_;
  size_t n_ = 0;
};

class Exec {
 public:
  Exec(const TemplateSet& set, MissingKey missing, Limits limits) : set_(set), missing_(missing), limits_(limits) {}

  Result<std::string> run(const Tree& tree, const Value& data) {
    try {
      Value dot = data.is_null() ? Value::missing() : data;
      vars_.reserve(64);
      out_.reserve(4096);
      vars_.push_back(dot);
      walk_list(dot, tree.root);
    } catch (const ExecError& e) {
      return positioned_error(set_, e.pos, e.message);
    }
    return std::move(out_);
  }

 private:
  [[noreturn]] void fail(std::string msg, size_t pos) { throw ExecError{std::move(msg), pos}; }
  void check_output(size_t pos) {
    if (out_.size() > limits_.max_output_bytes)
      fail("output exceeds the limit of " + std::to_string(limits_.max_output_bytes) + " bytes", pos);
  }
  void step(size_t pos) {
    if (++steps_ > limits_.max_steps)
      fail("execution exceeds the limit of " + std::to_string(limits_.max_steps) +
               " steps (a loop too large, or nested loops?)",
           pos);
  }
  Value& var(int slot) { return vars_[base_ + slot]; }
  const Value& var(const Arg& a) {
    if (a.slot < 0) fail("undefined variable: " + a.text.substr(0, a.text.find('.', 1)), a.pos);
    return vars_[base_ + a.slot];
  }

  // The hot path {{.A.B}}: a chain of present map keys or stored record
  // fields, found without copying. nullptr when anything else is involved
  // (the general path then produces the value or the error).
  static const Value* plain_field(const Value& dot, const Pipeline& p) {
    if (p.cmds.size() != 1 || !p.decl.empty() || p.cmds[0].args.size() != 1) return nullptr;
    const Arg& a = p.cmds[0].args[0];
    if (a.kind != Arg::Kind::kField) return nullptr;
    const Value* cur = &dot;
    for (const std::string& name : a.fields) {
      if (cur->kind() == Value::Kind::kRecord) {
        cur = cur->as_record().field_ref(name);
        if (!cur) return nullptr;
        continue;
      }
      if (cur->kind() != Value::Kind::kMap) return nullptr;
      const auto& m = cur->as_map();
      auto it = m.find(name);
      if (it == m.end()) return nullptr;
      cur = &it->second;
    }
    return cur;
  }
  Flow walk_list(const Value& dot, const std::vector<Node>& list);
  Flow walk_control(const Value& dot, const Node& n);
  Flow walk_range(const Value& dot, const Node& n);
  void walk_template(const Value& dot, const Node& n);
  Value eval_pipeline(const Value& dot, const Pipeline& p);
  Value eval_command(const Value& dot, const Command& c, const Value* final);
  Value eval_arg(const Value& dot, const Arg& a);
  Value eval_chain(const Value& receiver, const Arg& a, bool has_args);
  Value eval_field(const std::string& name, const Value& receiver, bool has_args, size_t pos);
  Value eval_function(const Value& dot, const Arg& fn, std::span<const Arg> args, const Value* final);
  Value eval_and_or(const Value& dot, const Arg& fn, std::span<const Arg> args, const Value* final);
  void eval_typed_args(const Value& dot, const Arg& fn, std::span<const Arg> args, const Value* final, ArgBuffer& out);
  Value typed_arg(const Value& dot, const Arg& a, ParamType type);
  Value checked_value(Value v, ParamType type, size_t pos);
  void not_a_function(std::span<const Arg> args, const Value* final) {
    if (args.size() > 1 || final) fail("can't give argument to non-function " + args[0].text, args[0].pos);
  }

  const TemplateSet& set_;
  MissingKey missing_;
  Limits limits_;
  std::string out_;
  std::vector<Value> vars_;
  size_t base_ = 0;
  int depth_ = 0;
  std::uint64_t steps_ = 0;
  StackGuard stack_;
};

Flow Exec::walk_list(const Value& dot, const std::vector<Node>& list) {
  for (const Node& n : list) {
    step(n.pos);
    switch (n.type) {
      case Node::Type::kText:
        out_ += n.text;
        check_output(n.pos);
        break;
      case Node::Type::kAction: {
        if (const Value* found = plain_field(dot, *n.pipe)) {
          gofmt::print_value(out_, *found);
          check_output(n.pos);
          break;
        }
        Value v = eval_pipeline(dot, *n.pipe);
        if (n.pipe->decl.empty()) {
          gofmt::print_value(out_, v);
          check_output(n.pos);
        }
        break;
      }
      case Node::Type::kIf:
      case Node::Type::kWith:
      case Node::Type::kRange: {
        Flow f = walk_control(dot, n);
        if (f != Flow::kNormal) return f;
        break;
      }
      case Node::Type::kTemplate:
        walk_template(dot, n);
        break;
      case Node::Type::kBreak:
        return Flow::kBreak;
      case Node::Type::kContinue:
        return Flow::kContinue;
    }
  }
  return Flow::kNormal;
}

// walkIfOrWith; variables declared in the pipeline or the body end with it.
Flow Exec::walk_control(const Value& dot, const Node& n) {
  if (n.type == Node::Type::kRange) return walk_range(dot, n);
  size_t mark = vars_.size();
  Value v = eval_pipeline(dot, *n.pipe);
  Flow f = Flow::kNormal;
  if (v.truthy())
    f = walk_list(n.type == Node::Type::kWith ? v : dot, n.list);
  else if (n.has_else)
    f = walk_list(dot, n.else_list);
  vars_.resize(mark);
  return f;
}

Flow Exec::walk_range(const Value& dot, const Node& n) {
  size_t mark = vars_.size();
  Value v = eval_pipeline(dot, *n.pipe);
  size_t body_mark = vars_.size();
  const std::vector<int>& decl = n.pipe->decl;
  auto one = [&](auto&& key, const Value& elem) {
    step(n.pos);
    if (!decl.empty()) var(decl.back()) = elem;
    if (decl.size() > 1) var(decl[0]) = Value(key);
    Flow f = walk_list(elem, n.list);
    vars_.resize(body_mark);
    return f;
  };
  bool ran = false;
  switch (v.kind()) {
    case Value::Kind::kList: {
      const auto& l = v.as_list();
      for (size_t i = 0; i < l.size(); ++i) {
        ran = true;
        if (one(static_cast<int>(i), l[i]) == Flow::kBreak) break;
      }
      break;
    }
    case Value::Kind::kMap:
      for (const auto& [k, e] : v.as_map()) {
        ran = true;
        if (one(k, e) == Flow::kBreak) break;
      }
      break;
    case Value::Kind::kNull:
      break;
    default: {
      std::string s;
      gofmt::print_value(s, v);
      fail("range can't iterate over " + s, n.pipe->cmds.back().pos);
    }
  }
  // Go's walkRange swallows a break from its else branch but lets a continue
  // reach the enclosing range.
  Flow f = Flow::kNormal;
  if (!ran && n.has_else && walk_list(dot, n.else_list) == Flow::kContinue) f = Flow::kContinue;
  vars_.resize(mark);
  return f;
}

void Exec::walk_template(const Value& dot, const Node& n) {
  if (!n.callee) fail("template \"" + n.text + "\" not defined", n.pos);
  if (depth_ >= limits_.max_depth)
    fail("exceeded maximum template depth (" + std::to_string(limits_.max_depth) + ")", n.pos);
  if (depth_ > 64 && stack_.exhausted())
    fail("exceeded maximum template depth (" + std::to_string(depth_) + " calls exhaust the stack)", n.pos);
  Value new_dot = n.pipe ? eval_pipeline(dot, *n.pipe) : Value::missing();
  size_t saved_base = base_, mark = vars_.size();
  base_ = mark;
  vars_.push_back(new_dot);
  ++depth_;
  walk_list(new_dot, n.callee->root);
  --depth_;
  vars_.resize(mark);
  base_ = saved_base;
}

Value Exec::eval_pipeline(const Value& dot, const Pipeline& p) {
  Value value;
  bool has_value = false;
  for (const Command& c : p.cmds) {
    Value next = eval_command(dot, c, has_value ? &value : nullptr);
    value = next.is_null() ? Value::missing() : std::move(next);  // Go: nil interface -> no value
    has_value = true;
  }
  for (size_t k = 0; k < p.decl.size(); ++k) {
    int slot = p.decl[k];
    if (!p.is_assign) {
      vars_.push_back(value);
    } else {
      if (slot < 0) fail("undefined variable: " + p.decl_names[k], p.pos);
      var(slot) = value;
    }
  }
  return value;
}

Value Exec::eval_command(const Value& dot, const Command& c, const Value* final) {
  const Arg& first = c.args[0];
  std::span<const Arg> args(c.args);
  bool has_args = args.size() > 1 || final;
  switch (first.kind) {
    case Arg::Kind::kField:
      return eval_chain(dot, first, has_args);
    case Arg::Kind::kChain:
      if (first.base->kind == Arg::Kind::kNil) fail("indirection through explicit nil in " + first.text, first.pos);
      return eval_chain(eval_arg(dot, *first.base), first, has_args);
    case Arg::Kind::kFunc:
      return eval_function(dot, first, args.subspan(1), final);
    case Arg::Kind::kVariable:
      if (first.fields.empty()) {
        not_a_function(args, final);
        return var(first);
      }
      return eval_chain(var(first), first, has_args);
    case Arg::Kind::kPipe:
      not_a_function(args, final);
      return eval_pipeline(dot, *first.pipe);
    default:
      break;
  }
  not_a_function(args, final);
  if (first.kind == Arg::Kind::kNil) fail("nil is not a command", first.pos);
  return eval_arg(dot, first);
}

Value Exec::eval_arg(const Value& dot, const Arg& a) {
  switch (a.kind) {
    case Arg::Kind::kDot:
      return dot;
    case Arg::Kind::kNil:
      return Value::missing();  // an untyped nil reflect.Value
    case Arg::Kind::kBool:
    case Arg::Kind::kString:
      return a.constant;
    case Arg::Kind::kNumber:
      if (!a.error.empty()) fail(a.error, a.pos);
      return a.constant;
    case Arg::Kind::kField:
      return eval_chain(dot, a, false);
    case Arg::Kind::kVariable:
      return a.fields.empty() ? var(a) : eval_chain(var(a), a, false);
    case Arg::Kind::kPipe:
      return eval_pipeline(dot, *a.pipe);
    case Arg::Kind::kFunc:
      return eval_function(dot, a, {}, nullptr);
    case Arg::Kind::kChain:
      if (a.base->kind == Arg::Kind::kNil) fail("indirection through explicit nil in " + a.text, a.pos);
      return eval_chain(eval_arg(dot, *a.base), a, false);
  }
  return Value();
}

// evalFieldChain: only the last field may receive arguments (and then fails,
// as data has no methods).
Value Exec::eval_chain(const Value& receiver, const Arg& a, bool has_args) {
  const auto& fields = a.fields;
  size_t n = fields.size();
  Value v = eval_field(fields[0], receiver, has_args && n == 1, a.pos);
  for (size_t i = 1; i < n; ++i) v = eval_field(fields[i], v, has_args && i + 1 == n, a.pos);
  return v;
}

Value Exec::eval_field(const std::string& name, const Value& receiver, bool has_args, size_t pos) {
  switch (receiver.kind()) {
    case Value::Kind::kMap: {
      if (has_args) fail(name + " is not a method but has arguments", pos);
      const auto& m = receiver.as_map();
      auto it = m.find(name);
      if (it != m.end()) return it->second;
      if (missing_ == MissingKey::kError) fail("map has no entry for key \"" + name + "\"", pos);
      if (missing_ == MissingKey::kZero)
        return receiver.go_type() == Value::GoType::kStringMap ? Value(std::string()) : Value();
      return Value::missing();
    }
    case Value::Kind::kRecord: {
      auto v = receiver.as_record().field(name);
      if (!v) break;
      if (has_args) fail(name + " has arguments but cannot be invoked as function", pos);
      return *v;
    }
    case Value::Kind::kNull:
      if (receiver.is_missing()) {
        if (missing_ == MissingKey::kError) fail("nil data; no entry for key \"" + name + "\"", pos);
        return Value::missing();
      }
      fail("nil pointer evaluating interface {}." + name, pos);
    default:
      break;
  }
  fail("can't evaluate field " + name + " in type " + receiver.type_name(), pos);
}

Value Exec::eval_and_or(const Value& dot, const Arg& fn, std::span<const Arg> args, const Value* final) {
  bool is_or = fn.builtin == Builtin::kOr;
  Value v;
  for (const Arg& a : args) {
    v = eval_arg(dot, a);
    if (v.truthy() == is_or) return v;
  }
  return final ? *final : v;
}

Value Exec::eval_function(const Value& dot, const Arg& fn, std::span<const Arg> args, const Value* final) {
  size_t given = args.size() + (final ? 1 : 0);
  if (!fn.func) {
    BuiltinSignature sig = builtin_signature(fn.builtin);
    if (sig.variadic && given < static_cast<size_t>(sig.fixed))
      fail("wrong number of args for " + fn.text + ": want at least " + std::to_string(sig.fixed) + " got " +
               std::to_string(args.size()),
           fn.pos);
    if (!sig.variadic && given != static_cast<size_t>(sig.fixed))
      fail("wrong number of args for " + fn.text + ": want " + std::to_string(sig.fixed) + " got " +
               std::to_string(given),
           fn.pos);
    if (fn.builtin == Builtin::kAnd || fn.builtin == Builtin::kOr) return eval_and_or(dot, fn, args, final);
  }
  ArgBuffer values;
  if (fn.func && fn.func->signature) {
    eval_typed_args(dot, fn, args, final, values);
  } else {
    for (const Arg& a : args) values.push(eval_arg(dot, a));
    if (final) values.push(*final);
  }
  Result<Value> r = Value();
  if (fn.func) {
    for (Value& v : values.span())
      if (v.is_missing()) v = Value();  // a caller function sees nil, not "no value"
    r = fn.func->call(values.span());
  } else {
    if (fn.builtin == Builtin::kPrintf) {
      const Value& format = values.span()[0];
      if (format.kind() != Value::Kind::kString) {
        if (!args.empty() && args[0].kind != Arg::Kind::kString && args[0].kind <= Arg::Kind::kNumber &&
            args[0].kind != Arg::Kind::kDot)
          fail("expected string; found " + args[0].text, args[0].pos);
        if (format.is_missing()) fail("invalid value; expected string", fn.pos);
        fail("wrong type for value; expected string; got " + format.type_name(), fn.pos);
      }
    }
    r = call_builtin(fn.builtin, values.span());
  }
  if (!r) fail("error calling " + fn.text + ": " + r.error().message, fn.pos);
  return std::move(*r);
}

// evalCall for a caller function with a declared signature: the argument
// count first, then each argument evaluated against its parameter type
// (evalArg for written arguments, validateType for the piped final value).
void Exec::eval_typed_args(const Value& dot, const Arg& fn, std::span<const Arg> args, const Value* final,
                           ArgBuffer& out) {
  const Signature& sig = *fn.func->signature;
  size_t given = args.size() + (final ? 1 : 0);
  size_t fixed = sig.variadic ? sig.params.size() - 1 : sig.params.size();
  if (sig.variadic && given < fixed)
    fail("wrong number of args for " + fn.text + ": want at least " + std::to_string(fixed) + " got " +
             std::to_string(args.size()),
         fn.pos);
  if (!sig.variadic && given != fixed)
    fail("wrong number of args for " + fn.text + ": want " + std::to_string(fixed) + " got " + std::to_string(given),
         fn.pos);
  auto param = [&](size_t i) { return i < fixed ? sig.params[i] : sig.params.back(); };
  for (size_t i = 0; i < args.size(); ++i) out.push(typed_arg(dot, args[i], param(i)));
  if (final) out.push(checked_value(*final, param(args.size()), args.empty() ? fn.pos : args.back().pos));
}

// evalArg: literals must already be of the parameter's type; computed values
// go through checked_value.
Value Exec::typed_arg(const Value& dot, const Arg& a, ParamType type) {
  switch (a.kind) {
    case Arg::Kind::kNil:
      if (type == ParamType::kString) fail("cannot assign nil to string", a.pos);
      return type == ParamType::kStringList ? Value::typed_list(Value::GoType::kStringSlice, {}) : Value();
    case Arg::Kind::kBool:
    case Arg::Kind::kNumber:
    case Arg::Kind::kString:
      if (type == ParamType::kString && a.kind != Arg::Kind::kString) fail("expected string; found " + a.text, a.pos);
      if (type == ParamType::kStringList) fail("can't handle " + a.text + " for arg of type []string", a.pos);
      return eval_arg(dot, a);
    default:
      return checked_value(eval_arg(dot, a), type, a.pos);
  }
}

// validateType. A missing value is Go's invalid reflect.Value; null is a nil
// held in an interface{} (a JSON null, a missingkey=zero miss in a non-string
// map), which Go does not unwrap into a string.
Value Exec::checked_value(Value v, ParamType type, size_t pos) {
  if (type == ParamType::kAny) return v;
  const char* want = type == ParamType::kString ? "string" : "[]string";
  if (v.is_missing()) {
    if (type == ParamType::kStringList) return Value::typed_list(Value::GoType::kStringSlice, {});
    fail(std::string("invalid value; expected ") + want, pos);
  }
  bool good = type == ParamType::kString ? v.kind() == Value::Kind::kString
                                         : v.kind() == Value::Kind::kList && v.go_type() == Value::GoType::kStringSlice;
  if (good) return v;
  fail(
      std::string("wrong type for value; expected ") + want + "; got " + (v.is_null() ? "interface {}" : v.type_name()),
      pos);
}

}  // namespace

Result<std::string> execute_tree(const TemplateSet& set, const Tree& tree, const Value& data, MissingKey missing,
                                 Limits limits) {
  return Exec(set, missing, limits).run(tree, data);
}

}  // namespace autopilot::tmpl
