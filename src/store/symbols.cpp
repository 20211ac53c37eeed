#include "store/symbols.h"

#include <cstring>

#include "util/hash.h"

namespace ta {
namespace {

std::uint64_t load(const char* p, std::size_t n) {  // n is 4 or 8
  if (n == 8) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
  }
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// The bytes of a text of 1 to 16 bytes as two words; with the length they
// tell texts apart exactly (overlapping loads cover every byte).
void pack(std::string_view s, std::uint64_t& a, std::uint64_t& b) {
  const char* p = s.data();
  const std::size_t n = s.size();
  if (n >= 8) {
    a = load(p, 8);
    b = load(p + n - 8, 8);
  } else if (n >= 4) {
    a = load(p, 4) | (load(p + n - 4, 4) << 32);
    b = 0;
  } else {
    a = static_cast<unsigned char>(p[0]) | (static_cast<std::uint64_t>(static_cast<unsigned char>(p[n / 2])) << 8) |
        (static_cast<std::uint64_t>(static_cast<unsigned char>(p[n - 1])) << 16);
    b = 0;
  }
}

// Labels often differ only in their last bytes ("10.1.0.187"), which sit
// in the high bits of a word: each word is multiplied by an odd constant,
// which carries every bit upward, and the slot is taken from the top bits.
std::uint64_t mix(std::uint64_t a, std::uint64_t b, std::size_t n) {
  return (a * 0x9E3779B97F4A7C15ull) ^ (b * 0xC2B2AE3D27D4EB4Full) ^ (n * 0x165667B19E3779F9ull);
}

}  // namespace

SymbolTable::SymbolTable() : short_(256) { texts_.emplace_back(); }  // symbol 0: ""

Symbol SymbolTable::add(std::string_view text) {
  const auto id = static_cast<Symbol>(texts_.size());
  texts_.emplace_back(text);
  return id;
}

Symbol SymbolTable::intern_short(std::string_view text) {
  std::uint64_t a, b;
  pack(text, a, b);
  const auto n = static_cast<std::uint32_t>(text.size());
  std::size_t mask = short_.size() - 1;
  for (std::size_t i = mix(a, b, n) >> short_shift_;; i = (i + 1) & mask) {
    Short& e = short_[i];
    if (e.symbol == 0) break;
    if (e.a == a && e.b == b && e.length == n) return e.symbol;
  }
  const Symbol id = add(text);
  if ((short_count_ + 1) * 2 > short_.size()) {
    std::vector<Short> old(short_.size() * 2);
    old.swap(short_);
    mask = short_.size() - 1;
    --short_shift_;
    for (const Short& e : old) {
      if (e.symbol == 0) continue;
      std::size_t i = mix(e.a, e.b, e.length) >> short_shift_;
      while (short_[i].symbol != 0) i = (i + 1) & mask;
      short_[i] = e;
    }
  }
  std::size_t i = mix(a, b, n) >> short_shift_;
  while (short_[i].symbol != 0) i = (i + 1) & mask;
  short_[i] = Short{a, b, n, id};
  ++short_count_;
  return id;
}

Symbol SymbolTable::intern(std::string_view text) {
  if (text.empty()) return 0;
  if (text.size() <= 16) return intern_short(text);
  const std::uint64_t h = hash_bytes(text);
  auto key_of = [this](std::uint32_t v) { return std::string_view(texts_[v]); };
  if (const Symbol s = index_.find(text, h, key_of); s != kNone) return s;
  const Symbol id = add(text);
  index_.insert(h, id);
  return id;
}

Symbol SymbolCache::add(std::string_view text, Symbol local) {
  Symbol shared;
  {
    std::lock_guard<std::mutex> hold(lock_);
    shared = shared_.intern(text);
  }
  if (to_shared_.size() <= local) to_shared_.resize(local + 1, 0);
  to_shared_[local] = shared;
  return shared;
}

}  // namespace ta
