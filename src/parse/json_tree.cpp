#include "parse/json_tree.h"

#include <fmt/format.h>
#include <simdjson.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <charconv>
#include <cstring>

namespace ta::json {
namespace {

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

std::size_t skip_space(std::string_view s, std::size_t p) {
  while (p < s.size() && is_space(s[p])) ++p;
  return p;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool read_hex4(std::string_view s, std::size_t p, unsigned& out) {
  if (p + 4 > s.size()) return false;
  out = 0;
  for (std::size_t i = p; i < p + 4; ++i) {
    const int v = hex_value(s[i]);
    if (v < 0) return false;
    out = out << 4 | static_cast<unsigned>(v);
  }
  return true;
}

void put_utf8(std::string& out, unsigned cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// The first byte of s that is not valid UTF-8 (s.size() when all are).
std::size_t first_invalid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n;
    unsigned min;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3, min = 0x10000;
    } else {
      return i;
    }
    unsigned cp = c & (0x3F >> n);
    for (std::size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return i;
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return i;
      cp = cp << 6 | (d & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += n + 1;
  }
  return s.size();
}

const char* describe(char c) {
  switch (c) {
    case '}': return "'}'";
    case ']': return "']'";
    case ',': return "','";
    case ':': return "':'";
    default: return nullptr;
  }
}

}  // namespace

bool Tree::fail(std::size_t offset, std::string reason) {
  error_.offset = offset;
  error_.reason = std::move(reason);
  error_.incomplete = offset >= input_.size();
  return false;
}

static_assert(sizeof(Tree::Node) == 16);

void Tree::grow() { nodes_.resize(std::max<std::size_t>(nodes_.size() * 2, 256)); }

// The first byte at or after p that ends a plain run of a string: a quote,
// a backslash or a control byte; input.size() when there is none.
static inline std::size_t string_stop(std::string_view input, std::size_t p) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'), control = _mm_set1_epi8(0x1f);
  for (; p + 16 <= input.size(); p += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(input.data() + p));
    const __m128i stop = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                                      _mm_cmpeq_epi8(_mm_max_epu8(v, control), control));  // unsigned v <= 0x1f
    if (const int mask = _mm_movemask_epi8(stop)) return p + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
  }
#endif
  for (; p < input.size(); ++p) {
    const auto c = static_cast<unsigned char>(input[p]);
    if (c == '"' || c == '\\' || c < 0x20) return p;
  }
  return p;
}

// A string without escapes (the common case) at p, its opening quote: true
// and p after it when it is one; false, p unchanged, for parse_string to
// read it with its escapes or to say what is wrong.
static inline bool plain_string(std::string_view input, std::size_t& p, Tree::Node& n) {
  const std::size_t stop = string_stop(input, p + 1);
  if (stop >= input.size() || input[stop] != '"') return false;
  n.offset = static_cast<std::uint32_t>(p);
  n.length = static_cast<std::uint32_t>(stop + 1 - p);
  n.type = Type::kString;
  n.in_arena = false;
  n.count = 0;
  p = stop + 1;
  return true;
}

// A string at p (its opening quote) into n; p is left after it. Text with
// escapes is unescaped into the arena, after its length.
bool Tree::parse_string(std::size_t& p, Node& n) {
  const std::size_t open = p++;
  const std::size_t begin = p;
  bool escaped = false;
  std::size_t arena_at = 0;
  while (true) {
    const std::size_t stop = string_stop(input_, p);
    if (escaped) arena_.append(input_.data() + p, stop - p);
    p = stop;
    if (p >= input_.size()) return fail(p, "unexpected end of input in a string");
    const char c = input_[p];
    if (c == '"') break;
    if (static_cast<unsigned char>(c) < 0x20)
      return fail(p, fmt::format("raw control character 0x{:02x} in a string", static_cast<unsigned>(c)));
    // A backslash.
    if (!escaped) {
      escaped = true;
      arena_.append(sizeof(std::uint32_t), '\0');  // the length, once known
      arena_at = arena_.size();
      arena_.append(input_.data() + begin, p - begin);
    }
    if (p + 1 >= input_.size()) return fail(p + 1, "unexpected end of input in a string");
    const char e = input_[p + 1];
    switch (e) {
      case '"': arena_ += '"'; break;
      case '\\': arena_ += '\\'; break;
      case '/': arena_ += '/'; break;
      case 'b': arena_ += '\b'; break;
      case 'f': arena_ += '\f'; break;
      case 'n': arena_ += '\n'; break;
      case 'r': arena_ += '\r'; break;
      case 't': arena_ += '\t'; break;
      case 'u': {
        unsigned cp;
        if (!read_hex4(input_, p + 2, cp)) return fail(p, "invalid \\u escape in a string");
        std::size_t used = 6;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          unsigned low;
          if (p + 12 > input_.size() || input_[p + 6] != '\\' || input_[p + 7] != 'u' ||
              !read_hex4(input_, p + 8, low) || low < 0xDC00 || low > 0xDFFF)
            return fail(p, "unpaired surrogate in a \\u escape");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          used = 12;
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          return fail(p, "unpaired surrogate in a \\u escape");
        }
        put_utf8(arena_, cp);
        p += used;
        continue;
      }
      default: {
        const auto b = static_cast<unsigned char>(e);
        return fail(p, b >= 0x20 && b < 0x7f ? fmt::format("invalid escape '\\{}' in a string", e)
                                             : fmt::format("invalid escape: '\\' before byte 0x{:02x} in a string", b));
      }
    }
    p += 2;
  }
  ++p;  // the closing quote
  n.offset = static_cast<std::uint32_t>(open);
  n.type = Type::kString;
  n.in_arena = escaped;
  n.count = 0;
  if (escaped) {
    const auto length = static_cast<std::uint32_t>(arena_.size() - arena_at);
    std::memcpy(arena_.data() + arena_at - sizeof length, &length, sizeof length);
    n.arena_text = static_cast<std::uint32_t>(arena_at);
  } else {
    n.length = static_cast<std::uint32_t>(p - open);
  }
  return true;
}

bool Tree::parse_number(std::size_t& p, Node& n) {
  const std::size_t begin = p;
  const char* s = input_.data();
  const std::size_t size = input_.size();
  auto digit = [&](std::size_t i) { return i < size && s[i] >= '0' && s[i] <= '9'; };
  if (s[p] == '-') ++p;
  if (!digit(p)) return fail(p, "a number needs a digit here");
  if (s[p] == '0') {
    ++p;
    if (digit(p)) return fail(p, "a number cannot have a leading zero");
  } else {
    while (digit(p)) ++p;
  }
  if (p < size && s[p] == '.') {
    ++p;
    if (!digit(p)) return fail(p, "a number needs a digit after '.'");
    while (digit(p)) ++p;
  }
  if (p < size && (s[p] == 'e' || s[p] == 'E')) {
    ++p;
    if (p < size && (s[p] == '+' || s[p] == '-')) ++p;
    if (!digit(p)) return fail(p, "a number needs a digit in its exponent");
    while (digit(p)) ++p;
  }
  n.offset = static_cast<std::uint32_t>(begin);
  n.length = static_cast<std::uint32_t>(p - begin);
  n.type = Type::kNumber;
  n.in_arena = false;
  n.count = 0;
  return true;
}

bool Tree::parse_key(std::size_t& p) {
  if (p >= input_.size()) return fail(p, "unexpected end of input in an object");
  if (input_[p] != '"') {
    if (input_[p] == '}') return fail(p, "expected a member name, found '}'");
    return fail(p, "expected a member name (a string in double quotes)");
  }
  Node& key = add_node();
  if (!plain_string(input_, p, key) && !parse_string(p, key)) return false;
  p = skip_space(input_, p);
  if (p >= input_.size()) return fail(p, "unexpected end of input in an object");
  if (input_[p] != ':') return fail(p, "expected ':' after a member name");
  ++p;
  return true;
}

void Tree::close_container(std::size_t end) {
  const Open open = stack_.back();
  stack_.pop_back();
  Node& done = nodes_[open.index];
  done.length = static_cast<std::uint32_t>(end - done.offset);
  done.end = used_;
  done.count = static_cast<std::uint16_t>(std::min<std::uint32_t>(open.count, kManyValues));
}

bool Tree::parse(std::string_view input, std::size_t& pos) {
  input_ = input;
  used_ = 0;
  arena_.clear();
  stack_.clear();
  error_ = {};
  const std::size_t start = skip_space(input, pos);
  if (input.size() > UINT32_MAX) return fail(start, "a JSON value must lie within the input's first 4 GiB");
  std::size_t p = start;
  if (p >= input.size()) return fail(p, "unexpected end of input: no JSON value");
  const char* s = input.data();
  const std::size_t size = input.size();
  auto container_name = [&](const Open& o) { return o.object ? "an object" : "an array"; };
  auto literal = [&](std::size_t at, std::string_view word) {
    return size - at >= word.size() && std::memcmp(s + at, word.data(), word.size()) == 0;
  };

  // Expecting a value at p; then, in a container, a separator or its end.
  while (true) {
    p = skip_space(input, p);
    if (p >= size)
      return fail(p, stack_.empty() ? "unexpected end of input"
                                    : fmt::format("unexpected end of input in {}", container_name(stack_.back())));
    const char c = s[p];
    bool opened = false;
    if (c == '"') {
      Node& n = add_node();
      if (!plain_string(input, p, n) && !parse_string(p, n)) return false;
    } else if (c == '{' || c == '[') {
      const Type type = c == '{' ? Type::kObject : Type::kArray;
      Node& n = add_node();
      n.offset = static_cast<std::uint32_t>(p);
      n.type = type;
      n.in_arena = false;
      stack_.push_back({used_ - 1, 0, type == Type::kObject});
      p = skip_space(input, p + 1);
      if (p < size && s[p] == (type == Type::kObject ? '}' : ']')) {
        ++p;
        opened = true;  // closed empty
      } else {
        if (type == Type::kObject && !parse_key(p)) return false;
        continue;  // the first member's value, or the first element
      }
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      if (!parse_number(p, add_node())) return false;
    } else {
      Type type;
      std::uint32_t length;
      if (literal(p, "true")) {
        type = Type::kTrue, length = 4;
      } else if (literal(p, "false")) {
        type = Type::kFalse, length = 5;
      } else if (literal(p, "null")) {
        type = Type::kNull, length = 4;
      } else if (const char* what = describe(c)) {
        return fail(p, fmt::format("expected a value, found {}", what));
      } else {
        return fail(p, "expected a JSON value here");
      }
      Node& n = add_node();
      n.offset = static_cast<std::uint32_t>(p);
      n.length = length;
      n.type = type;
      n.in_arena = false;
      n.count = 0;
      p += length;
    }
    // A value is complete (a scalar, or a container just closed): close
    // every container that ends here, then expect the next member/element.
    while (true) {
      if (opened) {  // the container at the top of the stack ends at p
        close_container(p);
        opened = false;
      }
      if (stack_.empty()) {
        if (!simdjson::validate_utf8(s + start, p - start)) {
          const std::size_t bad = first_invalid_utf8(input.substr(start, p - start));
          return fail(start + bad, "invalid UTF-8");
        }
        pos = p;
        return true;
      }
      Open& parent = stack_.back();
      ++parent.count;
      p = skip_space(input, p);
      const bool object = parent.object;
      const char close_bracket = object ? '}' : ']';
      if (p >= size) return fail(p, fmt::format("unexpected end of input in {}", container_name(parent)));
      if (s[p] == close_bracket) {
        ++p;
        opened = true;  // close it on the next turn
        continue;
      }
      if (s[p] != ',')
        return fail(p, object ? "expected ',' or '}' after an object member" : "expected ',' or ']' after an array element");
      const std::size_t comma = p;
      p = skip_space(input, p + 1);
      if (p < size && (s[p] == '}' || s[p] == ']'))
        return fail(comma, fmt::format("trailing comma before '{}'", s[p]));
      if (object && !parse_key(p)) return false;
      break;
    }
  }
}

std::size_t Ref::size() const {
  if (!tree_) return 0;
  const Tree::Node& n = tree_->node(index_);
  if (n.type != Type::kArray && n.type != Type::kObject) return 0;
  if (n.count != Tree::kManyValues) return n.count;
  std::size_t count = 0;  // too many to hold in the node
  if (n.type == Type::kObject) {
    for (const Member m : members()) count += m.value ? 1 : 0;
  } else {
    for (const Ref e : elements()) count += e ? 1 : 0;
  }
  return count;
}

Ref Ref::get(std::string_view key) const {
  if (!is_object()) return {};
  for (auto [k, v] : members())
    if (k == key) return v;
  return {};
}

std::optional<std::uint64_t> Ref::as_uint64() const {
  if (!is_number() && !is_string()) return std::nullopt;
  const std::string_view t = text();
  if (t.empty()) return std::nullopt;
  std::uint64_t v = 0;
  if (t.size() <= 19) {  // no overflow: below 10^19
    for (const char c : t) {  // digits only, no sign; leading zeros are fine
      const auto digit = static_cast<unsigned char>(c - '0');
      if (digit > 9) return std::nullopt;
      v = v * 10 + digit;
    }
    return v;
  }
  for (const char c : t) {
    const auto digit = static_cast<unsigned char>(c - '0');
    if (digit > 9) return std::nullopt;
    if (__builtin_mul_overflow(v, 10u, &v) || __builtin_add_overflow(v, digit, &v)) return std::nullopt;
  }
  return v;
}

std::optional<std::int64_t> Ref::as_int64() const {
  if (!is_number() && !is_string()) return std::nullopt;
  const std::string_view t = text();
  if (t.empty()) return std::nullopt;
  const std::size_t digits_from = t[0] == '-' ? 1 : 0;
  if (digits_from == t.size()) return std::nullopt;
  for (std::size_t i = digits_from; i < t.size(); ++i)
    if (t[i] < '0' || t[i] > '9') return std::nullopt;
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || end != t.data() + t.size()) return std::nullopt;
  return v;
}

std::optional<double> Ref::as_double() const {
  if (!is_number() && !is_string()) return std::nullopt;
  const std::string_view t = text();
  if (t.empty()) return std::nullopt;
  double v = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || end != t.data() + t.size()) return std::nullopt;
  return v;
}

LineIndex::LineIndex(std::string_view text) {
  const char* p = text.data();
  const char* end = text.data() + text.size();
  while (p < end) {
    const void* nl = std::memchr(p, '\n', static_cast<std::size_t>(end - p));
    if (!nl) break;
    const char* at = static_cast<const char*>(nl);
    newlines_.push_back(static_cast<std::size_t>(at - text.data()));
    p = at + 1;
  }
}

std::uint64_t LineIndex::line_of(std::size_t offset) const {
  return 1 + static_cast<std::uint64_t>(std::lower_bound(newlines_.begin(), newlines_.end(), offset) -
                                        newlines_.begin());
}

}  // namespace ta::json
