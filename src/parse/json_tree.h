// A JSON value parsed into one flat list of nodes in document order, each
// knowing the byte where it starts: what the whole-document formats (Zipkin,
// Jaeger, OTLP, Recorder) are read from. Numbers are kept as written (an
// OTLP time above 2^53, a Recorder's 128-bit id), strings unescaped. The
// parser keeps its own stack: no recursion, whatever the nesting depth.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ta::json {

enum class Type : std::uint8_t { kNull, kFalse, kTrue, kNumber, kString, kArray, kObject };

class Tree;

// A value in a Tree: a cheap handle (tree and index). A member that is not
// there is a Ref that tests false; every accessor of it answers "empty".
class Ref {
 public:
  Ref() = default;
  Ref(const Tree* tree, std::uint32_t index) : tree_(tree), index_(index) {}
  explicit operator bool() const { return tree_ != nullptr; }

  Type type() const;
  bool is_null() const { return *this && type() == Type::kNull; }
  bool is_bool() const { return *this && (type() == Type::kTrue || type() == Type::kFalse); }
  bool is_true() const { return *this && type() == Type::kTrue; }
  bool is_number() const { return *this && type() == Type::kNumber; }
  bool is_string() const { return *this && type() == Type::kString; }
  bool is_array() const { return *this && type() == Type::kArray; }
  bool is_object() const { return *this && type() == Type::kObject; }

  // A string's unescaped text; a number's characters as written; "true",
  // "false", "null"; an array's or object's JSON text as written.
  std::string_view text() const;
  // The byte where the value starts, in the text given to Tree::parse.
  std::size_t offset() const;
  // Members of an object, elements of an array; 0 for anything else.
  // Constant time, but for 65,535 or more: then they are counted.
  std::size_t size() const;

  // The first member named `key` of an object; a false Ref when there is
  // none or this is not an object. Linear in the object's size.
  Ref get(std::string_view key) const;
  Ref operator[](std::string_view key) const { return get(key); }

  // A whole number (or a string holding only its digits, as OTLP and
  // Jaeger write int64 values) that fits; nullopt otherwise. Exact: never
  // through a double.
  std::optional<std::uint64_t> as_uint64() const;
  std::optional<std::int64_t> as_int64() const;
  // Any number, or a string holding one.
  std::optional<double> as_double() const;

  struct Member;
  // Iteration: for (Ref e : r.elements()), for (auto [key, value] : r.members()).
  // Both are empty ranges for a value of another type.
  class Elements;
  class Members;
  Elements elements() const;
  Members members() const;

  std::uint32_t index() const { return index_; }

 private:
  friend class Tree;
  const Tree* tree_ = nullptr;
  std::uint32_t index_ = 0;
};

struct Ref::Member {
  std::string_view key;
  Ref value;
};

class Tree {
 public:
  struct Error {
    std::size_t offset = 0;  // the byte where the value stopped being JSON
    std::string reason;      // e.g. "trailing comma before '}'", "unexpected end of input in a string"
    bool incomplete = false; // the input ended inside the value (it may go on in more text)
  };

  // Parses one JSON value that starts at `pos` (white space before it is
  // skipped) and leaves pos after it. On failure returns false, error() says
  // where and why, and pos is left where the value began. The input must
  // stay alive while the tree is read; offsets are bytes into it (a value
  // must lie within its first 4 GiB).
  bool parse(std::string_view input, std::size_t& pos);
  Ref root() const { return Ref(this, 0); }
  const Error& error() const { return error_; }

  // 16 bytes: a line of 8,192 OTLP spans is some 200,000 values.
  struct Node {
    std::uint32_t offset;  // where the value starts in the input
    union {
      std::uint32_t length;      // its bytes as written (containers: up to the closing bracket)
      std::uint32_t arena_text;  // in_arena strings instead: where the text starts in the arena, after its length
    };
    std::uint32_t end;    // the node after this value (and its contents)
    Type type;
    bool in_arena;        // a string with escapes, its text unescaped into the arena
    std::uint16_t count;  // members or elements; kManyValues for that many or more (then counted)
  };
  static constexpr std::uint16_t kManyValues = 0xFFFF;
  const Node& node(std::uint32_t i) const { return nodes_[i]; }
  std::string_view input() const { return input_; }
  std::string_view node_text(std::uint32_t i) const;

 private:
  // An open container: its node and how many values it has so far.
  struct Open {
    std::uint32_t index;
    std::uint32_t count;
    bool object;
  };
  bool fail(std::size_t offset, std::string reason);
  Node& add_node() {  // its end set: a container's is set when it closes
    if (used_ == nodes_.size()) grow();
    Node& n = nodes_[used_++];
    n.end = used_;
    return n;
  }
  void grow();
  bool parse_string(std::size_t& p, Node& n);
  bool parse_number(std::size_t& p, Node& n);
  bool parse_key(std::size_t& p);  // a member name and the ':' after it
  void close_container(std::size_t end);  // the one on top of stack_, its bracket just before `end`

  std::string_view input_;
  // Grown, never shrunk: its memory serves every value parsed after (size
  // is the capacity; used_ nodes are this value's).
  std::vector<Node> nodes_;
  std::uint32_t used_ = 0;
  std::string arena_;
  std::vector<Open> stack_;
  Error error_;
};

class Ref::Elements {
 public:
  class iterator {
   public:
    iterator(const Tree* t, std::uint32_t i) : tree_(t), i_(i) {}
    Ref operator*() const { return Ref(tree_, i_); }
    iterator& operator++() {
      i_ = tree_->node(i_).end;
      return *this;
    }
    bool operator!=(const iterator& o) const { return i_ != o.i_; }

   private:
    const Tree* tree_;
    std::uint32_t i_;
  };
  Elements(const Tree* t, std::uint32_t begin, std::uint32_t end) : tree_(t), begin_(begin), end_(end) {}
  iterator begin() const { return {tree_, begin_}; }
  iterator end() const { return {tree_, end_}; }

 private:
  const Tree* tree_;
  std::uint32_t begin_, end_;
};

class Ref::Members {
 public:
  class iterator {
   public:
    iterator(const Tree* t, std::uint32_t i) : tree_(t), i_(i) {}
    Member operator*() const { return {tree_->node_text(i_), Ref(tree_, i_ + 1)}; }
    iterator& operator++() {
      i_ = tree_->node(i_ + 1).end;  // past the key and its value
      return *this;
    }
    bool operator!=(const iterator& o) const { return i_ != o.i_; }

   private:
    const Tree* tree_;
    std::uint32_t i_;  // the member's key node
  };
  Members(const Tree* t, std::uint32_t begin, std::uint32_t end) : tree_(t), begin_(begin), end_(end) {}
  iterator begin() const { return {tree_, begin_}; }
  iterator end() const { return {tree_, end_}; }

 private:
  const Tree* tree_;
  std::uint32_t begin_, end_;
};

// The accessors every adapter calls for every value, here to be inlined.

inline std::string_view Tree::node_text(std::uint32_t i) const {
  const Node& n = nodes_[i];
  if (n.type != Type::kString) return std::string_view(input_.data() + n.offset, n.length);
  if (!n.in_arena) return std::string_view(input_.data() + n.offset + 1, n.length - 2);
  std::uint32_t length;  // written before the text
  std::memcpy(&length, arena_.data() + n.arena_text - sizeof length, sizeof length);
  return std::string_view(arena_.data() + n.arena_text, length);
}

inline Type Ref::type() const { return tree_->node(index_).type; }

inline std::string_view Ref::text() const { return tree_ ? tree_->node_text(index_) : std::string_view(); }

inline std::size_t Ref::offset() const { return tree_ ? tree_->node(index_).offset : 0; }

inline Ref::Elements Ref::elements() const {
  if (!is_array()) return {tree_, 0, 0};
  return {tree_, index_ + 1, tree_->node(index_).end};
}

inline Ref::Members Ref::members() const {
  if (!is_object()) return {tree_, 0, 0};
  return {tree_, index_ + 1, tree_->node(index_).end};
}

// Byte offset -> line number (from 1) over one text.
class LineIndex {
 public:
  explicit LineIndex(std::string_view text);
  std::uint64_t line_of(std::size_t offset) const;

 private:
  std::vector<std::size_t> newlines_;  // offsets of '\n'
};

}  // namespace ta::json
