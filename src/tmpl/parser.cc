// A recursive-descent parser following Go 1.19 text/template/parse/parse.go
// function by function (pipeline, command, operand, term, parseControl...),
// so that what Go accepts or rejects, and the words it uses, carry over.
// Like Go's parser it unwinds with an exception on the first error; the
// exception never leaves parse_set().
#include "tmpl/parser.h"

#include "tmpl/parser_internal.h"

namespace autopilot::tmpl {
namespace parse_internal {

// Go's Tree.add: an empty definition never replaces a non-empty one.
void Parser::add(std::unique_ptr<Tree> tree, size_t pos) {
  tree->is_empty = is_empty_list(tree->root);
  auto it = set_.trees.find(tree->name);
  if (it == set_.trees.end() || it->second->is_empty) {
    set_.trees[tree->name] = std::move(tree);
    return;
  }
  if (!tree->is_empty) fail("template: multiple definition of template \"" + tree->name + "\"", pos);
}

void Parser::parse_definition() {
  const Token& t = next_non_space();
  if (t.type != Tok::kString && t.type != Tok::kRawString) unexpected(t, "define clause");
  std::string name = template_name(t, "define clause");
  expect(Tok::kRightDelim, "define clause");
  add(parse_body(std::move(name), "define clause"), t.pos);
}

// The body of a define or block: its own variable scope, outside any range.
std::unique_ptr<Tree> Parser::parse_body(std::string name, std::string_view context) {
  auto tree = std::make_unique<Tree>();
  tree->name = std::move(name);
  std::vector<Var> saved_vars = std::exchange(vars_, {{"$", 0}});
  int saved_range = std::exchange(range_depth_, 0);
  auto [list, end] = item_list();
  if (end.kind != Item::Kind::kEnd) fail("unexpected " + end.str() + " in " + std::string(context), end.pos);
  tree->root = std::move(list);
  vars_ = std::move(saved_vars);
  range_depth_ = saved_range;
  return tree;
}

std::pair<std::vector<Node>, Item> Parser::item_list() {
  std::vector<Node> list;
  while (peek_non_space().type != Tok::kEOF) {
    Item it = text_or_action();
    if (it.kind != Item::Kind::kNode) return {std::move(list), std::move(it)};
    list.push_back(std::move(it.node));
  }
  fail("unexpected EOF", peek().pos);
}

Item Parser::text_or_action() {
  const Token& t = next_non_space();
  if (t.type == Tok::kText) {
    Item it;
    it.node.type = Node::Type::kText;
    it.node.pos = t.pos;
    it.node.text = std::string(t.val);
    return it;
  }
  if (t.type == Tok::kLeftDelim) return action();
  unexpected(t, "input");
}

Item Parser::action() {
  const Token& t = next_non_space();
  Item it;
  it.pos = t.pos;
  switch (t.type) {
    case Tok::kBlock:
      it.node = block_control();
      return it;
    case Tok::kBreak:
      it.node = break_or_continue(t, Node::Type::kBreak);
      return it;
    case Tok::kContinue:
      it.node = break_or_continue(t, Node::Type::kContinue);
      return it;
    case Tok::kElse:
      return else_control();
    case Tok::kEnd:
      expect(Tok::kRightDelim, "end");
      it.kind = Item::Kind::kEnd;
      return it;
    case Tok::kIf:
      it.node = control(Node::Type::kIf, "if");
      return it;
    case Tok::kRange:
      it.node = control(Node::Type::kRange, "range");
      return it;
    case Tok::kTemplate:
      it.node = template_control();
      return it;
    case Tok::kWith:
      it.node = control(Node::Type::kWith, "with");
      return it;
    default:
      break;
  }
  backup();
  it.node.type = Node::Type::kAction;
  it.node.pos = peek().pos;
  it.node.pipe = pipeline("command", Tok::kRightDelim);
  return it;
}

Item Parser::else_control() {
  Item it;
  it.kind = Item::Kind::kElse;
  const Token& p = peek_non_space();
  it.pos = p.pos;
  if (p.type == Tok::kIf || p.type == Tok::kWith) {
    it.else_keyword = p.type;  // left pending for control()
    return it;
  }
  expect(Tok::kRightDelim, "else");
  return it;
}

// parseControl: if, range and with. "{{else if}}" (and, as in Go 1.23,
// "{{else with}}") nests the next control in the else branch and shares its
// {{end}}.
Node Parser::control(Node::Type type, std::string_view context) {
  enter(peek().pos);
  size_t mark = vars_.size();
  Node n;
  n.type = type;
  n.pipe = pipeline(context, Tok::kRightDelim);
  n.pos = n.pipe->pos;
  size_t body_mark = vars_.size();
  if (type == Node::Type::kRange) ++range_depth_;
  auto [list, next] = item_list();
  if (type == Node::Type::kRange) --range_depth_;
  n.list = std::move(list);
  make_phantoms(body_mark);  // the else branch runs without the body's variables
  if (next.kind == Item::Kind::kElse) {
    n.has_else = true;
    bool chained = (type == Node::Type::kIf && next.else_keyword == Tok::kIf) ||
                   (type == Node::Type::kWith && next.else_keyword == Tok::kWith);
    if (chained) {
      this->next();
      n.else_list.push_back(control(type, context));
    } else {
      auto [else_list, end] = item_list();
      if (end.kind != Item::Kind::kEnd) fail("expected end; found " + end.str(), end.pos);
      n.else_list = std::move(else_list);
    }
  }
  vars_.resize(mark);
  --depth_;
  return n;
}

Node Parser::break_or_continue(const Token& t, Node::Type type) {
  const char* word = type == Node::Type::kBreak ? "{{break}}" : "{{continue}}";
  const Token& close = next_non_space();
  if (close.type != Tok::kRightDelim) unexpected(close, word);
  if (range_depth_ == 0) fail(std::string(word) + " outside {{range}}", t.pos);
  Node n;
  n.type = type;
  n.pos = t.pos;
  return n;
}

std::string Parser::template_name(const Token& t, std::string_view context) {
  if (t.type != Tok::kString && t.type != Tok::kRawString) unexpected(t, context);
  auto s = unquote(t.val);
  if (!s) fail("invalid syntax", t.pos);
  return *s;
}

Node Parser::template_control() {
  const Token& t = next_non_space();
  Node n;
  n.type = Node::Type::kTemplate;
  n.pos = t.pos;
  n.text = template_name(t, "template clause");
  if (next_non_space().type != Tok::kRightDelim) {
    backup();
    n.pipe = pipeline("template clause", Tok::kRightDelim);
  }
  return n;
}

Node Parser::block_control() {
  const Token& t = next_non_space();
  Node n;
  n.type = Node::Type::kTemplate;
  n.pos = t.pos;
  n.text = template_name(t, "block clause");
  n.pipe = pipeline("block clause", Tok::kRightDelim);
  add(parse_body(n.text, "block clause"), t.pos);
  return n;
}

void resolve_calls(std::vector<Node>& list, const TemplateSet& set) {
  for (Node& n : list) {
    if (n.type == Node::Type::kTemplate) {
      auto it = set.trees.find(n.text);
      n.callee = it == set.trees.end() ? nullptr : it->second.get();
    }
    resolve_calls(n.list, set);
    resolve_calls(n.else_list, set);
  }
}

std::pair<int, int> line_col(std::string_view text, size_t pos) {
  pos = std::min(pos, text.size());
  int line = 1;
  size_t line_start = 0;
  for (size_t k = 0; k < pos; ++k)
    if (text[k] == '\n') ++line, line_start = k + 1;
  return {line, static_cast<int>(pos - line_start) + 1};
}

}  // namespace parse_internal

using parse_internal::ParseError;
using parse_internal::Parser;

Error positioned_error(const TemplateSet& set, size_t pos, std::string message) {
  auto [line, col] = parse_internal::line_col(set.text, pos);
  return error_at(set.name, set.text, line, col, std::move(message));
}

Result<std::shared_ptr<TemplateSet>> parse_set(std::string name, std::string_view text, FuncMap funcs) {
  auto set = std::make_shared<TemplateSet>();
  set->name = std::move(name);
  set->text = std::string(text);
  set->funcs = std::move(funcs);
  try {
    Parser(*set).parse();
  } catch (const ParseError& e) {
    return positioned_error(*set, e.pos, e.message);
  }
  for (auto& [n, tree] : set->trees) parse_internal::resolve_calls(tree->root, *set);
  return set;
}

}  // namespace autopilot::tmpl
