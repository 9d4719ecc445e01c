// Pipelines, commands and operands: parse.go's pipeline, command, operand
// and term, with variables resolved to stack slots.
#include "tmpl/go_format.h"
#include "tmpl/parser_internal.h"

namespace autopilot::tmpl::parse_internal {

std::unique_ptr<Pipeline> Parser::pipeline(std::string_view context, Tok end) {
  enter(peek().pos);
  auto pipe = std::make_unique<Pipeline>();
  pipe->pos = peek_non_space().pos;
  std::vector<std::string_view> names;  // declared or assigned
  size_t mark = vars_.size();
  for (;;) {
    if (peek_non_space().type != Tok::kVariable) break;
    size_t at = i_;
    const Token& v = next();
    const Token& op = peek_non_space();
    if (op.type == Tok::kAssign || op.type == Tok::kDeclare) {
      pipe->is_assign = op.type == Tok::kAssign;
      next_non_space();
      names.push_back(v.val);
      break;
    }
    if (op.type == Tok::kChar && op.val == ",") {
      next_non_space();
      names.push_back(v.val);
      if (context == "range" && names.size() < 2) {
        Tok p = peek_non_space().type;
        if (p == Tok::kVariable || p == Tok::kRightDelim || p == Tok::kRightParen) continue;
        fail("range can only initialize variables", op.pos);
      }
      fail("too many declarations in " + std::string(context), op.pos);
    }
    i_ = at;  // $x is an operand, not a declaration
    break;
  }
  // Go declares the names before parsing the commands, but they only exist at
  // run time afterwards: phantoms meanwhile.
  if (!pipe->is_assign)
    for (std::string_view name : names) vars_.push_back({std::string(name), -1});
  for (;;) {
    const Token& t = next_non_space();
    if (t.type == end) break;
    switch (t.type) {
      case Tok::kBool:
      case Tok::kCharConstant:
      case Tok::kComplex:
      case Tok::kDot:
      case Tok::kField:
      case Tok::kIdentifier:
      case Tok::kNumber:
      case Tok::kNil:
      case Tok::kRawString:
      case Tok::kString:
      case Tok::kVariable:
      case Tok::kLeftParen:
        backup();
        pipe->cmds.push_back(command());
        break;
      default:
        unexpected(t, context);
    }
  }
  check_pipeline(*pipe, context, pipe->pos);
  vars_.resize(mark);
  for (std::string_view name : names) {
    pipe->decl_names.emplace_back(name);
    if (!pipe->is_assign) {
      pipe->decl.push_back(next_slot());
      vars_.push_back({std::string(name), pipe->decl.back()});
      continue;
    }
    std::optional<int> slot = find_var(name);
    pipe->decl.push_back(slot.value_or(-1));
    if (!slot) vars_.push_back({std::string(name), -1});  // Go lets later uses parse
  }
  --depth_;
  return pipe;
}

void Parser::check_pipeline(const Pipeline& p, std::string_view context, size_t pos) {
  if (p.cmds.empty()) fail("missing value for " + std::string(context), pos);
  for (size_t k = 1; k < p.cmds.size(); ++k) {
    switch (p.cmds[k].args[0].kind) {
      case Arg::Kind::kBool:
      case Arg::Kind::kDot:
      case Arg::Kind::kNil:
      case Arg::Kind::kNumber:
      case Arg::Kind::kString:
        fail("non executable command in pipeline stage " + std::to_string(k + 1), p.cmds[k].pos);
      default:
        break;
    }
  }
}

Command Parser::command() {
  Command cmd;
  cmd.pos = peek_non_space().pos;
  for (;;) {
    peek_non_space();
    if (auto a = operand()) cmd.args.push_back(std::move(*a));
    const Token& t = next();
    if (t.type == Tok::kSpace) continue;
    if (t.type == Tok::kRightDelim || t.type == Tok::kRightParen) {
      backup();
    } else if (t.type != Tok::kPipe) {
      unexpected(t, "operand");
    }
    break;
  }
  if (cmd.args.empty()) fail("empty command", cmd.pos);
  return cmd;
}

std::optional<Arg> Parser::operand() {
  std::optional<Arg> node = term();
  if (!node || peek().type != Tok::kField) return node;
  std::vector<std::string> fields;
  std::string suffix;
  while (peek().type == Tok::kField) {
    std::string_view f = next().val;
    suffix += f;
    fields.emplace_back(f.substr(1));
  }
  switch (node->kind) {
    case Arg::Kind::kField:
    case Arg::Kind::kVariable:
      node->fields.insert(node->fields.end(), fields.begin(), fields.end());
      node->text += suffix;
      return node;
    case Arg::Kind::kBool:
    case Arg::Kind::kString:
    case Arg::Kind::kNumber:
    case Arg::Kind::kNil:
    case Arg::Kind::kDot: {
      std::string quoted;
      gofmt::append_quoted(quoted, node->text, false);
      fail("unexpected . after term " + quoted, node->pos);
    }
    default: {
      Arg chain;
      chain.kind = Arg::Kind::kChain;
      chain.pos = node->pos;
      chain.text = (node->kind == Arg::Kind::kPipe ? "(" + node->text + ")" : node->text) + suffix;
      chain.fields = std::move(fields);
      chain.base = std::make_unique<Arg>(std::move(*node));
      return chain;
    }
  }
}

std::optional<Arg> Parser::term() {
  const Token& t = next_non_space();
  Arg a;
  a.pos = t.pos;
  a.text = std::string(t.val);
  switch (t.type) {
    case Tok::kIdentifier:
      return function(t);
    case Tok::kDot:
      a.kind = Arg::Kind::kDot;
      return a;
    case Tok::kNil:
      a.kind = Arg::Kind::kNil;
      return a;
    case Tok::kVariable:
      a.kind = Arg::Kind::kVariable;
      {
        std::optional<int> slot = find_var(t.val);
        if (!slot) fail("undefined variable \"" + std::string(t.val) + "\"", t.pos);
        a.slot = *slot;
        return a;
      }
    case Tok::kField:
      a.kind = Arg::Kind::kField;
      a.fields.emplace_back(t.val.substr(1));
      return a;
    case Tok::kLeftParen:
      a.kind = Arg::Kind::kPipe;
      a.pipe = pipeline("parenthesized pipeline", Tok::kRightParen);
      a.text = "";
      for (size_t k = t.pos + 1; k < peek().pos - 1 && k < set_.text.size(); ++k) a.text += set_.text[k];
      return a;
    case Tok::kBool:
    case Tok::kCharConstant:
    case Tok::kComplex:
    case Tok::kNumber:
    case Tok::kString:
    case Tok::kRawString:
      return literal(t);
    default:
      backup();
      return std::nullopt;
  }
}

Arg Parser::function(const Token& t) {
  Arg a;
  a.kind = Arg::Kind::kFunc;
  a.pos = t.pos;
  a.text = std::string(t.val);
  if (const UserFunc* f = set_.funcs.find(t.val)) {
    a.func = f;
    return a;
  }
  auto b = find_builtin(t.val);
  if (!b) fail("function \"" + a.text + "\" not defined", t.pos);
  a.builtin = *b;
  return a;
}

Arg Parser::literal(const Token& t) {
  Arg a;
  a.pos = t.pos;
  a.text = std::string(t.val);
  if (t.type == Tok::kBool) {
    a.kind = Arg::Kind::kBool;
    a.constant = Value(t.val == "true");
  } else if (t.type == Tok::kString || t.type == Tok::kRawString) {
    a.kind = Arg::Kind::kString;
    auto s = unquote(t.val);
    if (!s) fail("invalid syntax", t.pos);
    a.constant = Value(std::move(*s));
  } else {
    a.kind = Arg::Kind::kNumber;
    auto v = number_constant(t.val, t.type == Tok::kCharConstant);
    if (v.ok()) {
      a.constant = *v;
    } else if (v.error().kind == ErrorKind::kOutOfRange) {
      a.error = v.error().message;  // Go parses it and fails when evaluating it
    } else {
      fail(v.error().message, t.pos);
    }
  }
  return a;
}

}  // namespace autopilot::tmpl::parse_internal
