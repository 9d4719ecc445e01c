// The parsed form of a template, resolved as far as parsing allows:
// variables are stack slots, functions are indexes, numbers are Values, and
// {{template}} calls point at their tree. Internal header.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tmpl/template.h"
#include "tmpl/value.h"

namespace autopilot::tmpl {

struct Pipeline;

enum class Builtin : uint8_t {
  kUser,
  kAnd,
  kOr,
  kNot,
  kLen,
  kIndex,
  kSlice,
  kPrint,
  kPrintf,
  kPrintln,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kHtml,
  kJs,
  kUrlquery,
  kCall,
};

// One operand of a command (Go's Node kinds that may appear as arguments).
struct Arg {
  enum class Kind : uint8_t { kDot, kNil, kBool, kNumber, kString, kField, kVariable, kFunc, kPipe, kChain };
  Kind kind;
  size_t pos = 0;
  Value constant;                    // kBool, kNumber, kString
  std::string error;                 // kNumber that cannot be an int ("X overflows int")
  int slot = -1;                     // kVariable: stack slot in the current frame; -1 when Go
                                     // would fail at run time with "undefined variable"
  std::vector<std::string> fields;   // kField, kVariable (after the name), kChain
  Builtin builtin = Builtin::kUser;  // kFunc
  const UserFunc* func = nullptr;    // kFunc with kUser
  std::unique_ptr<Pipeline> pipe;    // kPipe
  std::unique_ptr<Arg> base;         // kChain: the term before the fields
  std::string text;                  // Go's String() of the node, for messages
};

struct Command {
  size_t pos = 0;
  std::vector<Arg> args;
};

struct Pipeline {
  size_t pos = 0;
  bool is_assign = false;
  std::vector<int> decl;  // slots; for assignments, the slots assigned (-1: undefined)
  std::vector<std::string> decl_names;
  std::vector<Command> cmds;
  std::string text;  // for messages
};

struct Tree;

struct Node {
  enum class Type : uint8_t { kText, kAction, kIf, kRange, kWith, kTemplate, kBreak, kContinue };
  Type type;
  size_t pos = 0;
  std::string text;                // kText; kTemplate: the name
  std::unique_ptr<Pipeline> pipe;  // may be null for kTemplate
  std::vector<Node> list, else_list;
  bool has_else = false;
  const Tree* callee = nullptr;  // kTemplate, resolved after parsing
};

struct Tree {
  std::string name;
  std::vector<Node> root;
  bool is_empty = true;  // only whitespace text: may be replaced by a later definition
};

}  // namespace autopilot::tmpl
