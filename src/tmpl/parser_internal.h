// The Parser class shared by parser.cc (templates, actions, control
// structures) and parse_pipeline.cc (pipelines, commands, operands).
// Internal header.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tmpl/lexer.h"
#include "tmpl/parser.h"
#include "tmpl/stack_guard.h"

namespace autopilot::tmpl::parse_internal {

constexpr int kMaxNesting = 1000;

struct ParseError {
  std::string message;
  size_t pos;
};

// What textOrAction produced: a node, or the {{end}} / {{else}} markers.
struct Item {
  enum class Kind { kNode, kEnd, kElse } kind = Kind::kNode;
  Node node{};
  size_t pos = 0;
  Tok else_keyword = Tok::kEOF;  // kIf or kWith when "{{else if" / "{{else with"
  std::string str() const { return kind == Kind::kEnd ? "{{end}}" : "{{else}}"; }
};

inline bool is_empty_list(const std::vector<Node>& list) {
  for (const Node& n : list)
    if (n.type != Node::Type::kText || n.text.find_first_not_of(" \t\r\n\v\f") != std::string::npos) return false;
  return true;
}

class Parser {
 public:
  explicit Parser(TemplateSet& set) : set_(set) {}

  void parse() {
    bool break_ok = !set_.funcs.find("break"), continue_ok = !set_.funcs.find("continue");
    toks_ = lex(set_.text, break_ok, continue_ok, lex_error_);
    auto root = std::make_unique<Tree>();
    root->name = set_.name;
    vars_ = {{"$", 0}};
    while (peek().type != Tok::kEOF) {
      if (peek().type == Tok::kLeftDelim) {
        size_t mark = i_;
        next();
        if (next_non_space().type == Tok::kDefine) {
          parse_definition();
          continue;
        }
        i_ = mark;
      }
      Item it = text_or_action();
      if (it.kind != Item::Kind::kNode) fail("unexpected " + it.str(), it.pos);
      root->root.push_back(std::move(it.node));
    }
    add(std::move(root), 0);
  }

 private:
  [[noreturn]] void fail(std::string msg, size_t pos) { throw ParseError{std::move(msg), pos}; }
  const Token& next() { return toks_[std::min(i_++, toks_.size() - 1)]; }
  const Token& peek() const { return toks_[std::min(i_, toks_.size() - 1)]; }
  void backup() { --i_; }
  const Token& next_non_space() {
    while (peek().type == Tok::kSpace) ++i_;
    return next();
  }
  const Token& peek_non_space() {
    while (peek().type == Tok::kSpace) ++i_;
    return peek();
  }
  [[noreturn]] void unexpected(const Token& t, std::string_view context) {
    if (t.type == Tok::kError) fail(std::string(t.val), t.pos);
    fail("unexpected " + token_string(t) + " in " + std::string(context), t.pos);
  }
  const Token& expect(Tok type, std::string_view context) {
    const Token& t = next_non_space();
    if (t.type != type) unexpected(t, context);
    return t;
  }
  void enter(size_t pos) {
    if (++depth_ > kMaxNesting || (depth_ > 64 && stack_.exhausted()))
      fail("template nesting too deep (more than " + std::to_string(kMaxNesting) + " levels)", pos);
  }

  void add(std::unique_ptr<Tree> tree, size_t pos);
  void parse_definition();
  std::unique_ptr<Tree> parse_body(std::string name, std::string_view context);
  std::pair<std::vector<Node>, Item> item_list();
  Item text_or_action();
  Item action();
  Node control(Node::Type type, std::string_view context);
  Item else_control();
  Node break_or_continue(const Token& t, Node::Type type);
  Node template_control();
  Node block_control();
  std::string template_name(const Token& t, std::string_view context);
  std::unique_ptr<Pipeline> pipeline(std::string_view context, Tok end);
  void check_pipeline(const Pipeline& p, std::string_view context, size_t pos);
  Command command();
  std::optional<Arg> operand();
  std::optional<Arg> term();
  Arg function(const Token& t);
  Arg literal(const Token& t);
  // Go resolves variables by name at run time. Parse-time names that the run
  // time will not have pushed (declared in an if body, seen from its else;
  // declared by the pipeline being parsed) are phantoms with slot -1: a
  // reference to them passes the parser and finds an outer variable of the
  // same name, or fails when executed.
  struct Var {
    std::string name;
    int slot;
  };
  // nullopt: no such name at all (a parse error).
  std::optional<int> find_var(std::string_view name) const {
    bool phantom = false;
    for (size_t k = vars_.size(); k-- > 0;) {
      if (vars_[k].name != name) continue;
      if (vars_[k].slot >= 0) return vars_[k].slot;
      phantom = true;
    }
    return phantom ? std::optional<int>(-1) : std::nullopt;
  }
  int next_slot() const {
    for (size_t k = vars_.size(); k-- > 0;)
      if (vars_[k].slot >= 0) return vars_[k].slot + 1;
    return 0;
  }
  void make_phantoms(size_t from) {
    for (size_t k = from; k < vars_.size(); ++k) vars_[k].slot = -1;
  }

  TemplateSet& set_;
  std::string lex_error_;
  std::vector<Token> toks_;
  size_t i_ = 0;
  std::vector<Var> vars_;
  int range_depth_ = 0;
  int depth_ = 0;
  StackGuard stack_;
};

}  // namespace autopilot::tmpl::parse_internal
