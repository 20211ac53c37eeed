#include "store/symbols.h"

#include <cstring>

#include "util/hash.h"

namespace ta {
SymbolTable::SymbolTable() : short_(256) { texts_.push_back(""); }  // symbol 0: ""

Symbol SymbolTable::add(std::string_view text) {
  const auto id = static_cast<Symbol>(texts_.size());
  texts_.push_back(text);
  return id;
}

void SymbolTable::limit(std::size_t max_labels, std::string_view overflow) {
  overflow_ = intern(overflow);
  max_symbols_ = texts_.size() + max_labels;
}

Symbol SymbolTable::add_short(std::string_view text) {
  if (full()) return refuse();
  using namespace symbol_key;
  std::uint64_t a, b;
  pack(text, a, b);
  const auto n = static_cast<std::uint32_t>(text.size());
  std::size_t mask = short_.size() - 1;
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

Symbol SymbolTable::intern_long(std::string_view text) {
  const std::uint64_t h = hash_bytes(text);
  auto key_of = [this](std::uint32_t v) { return std::string_view(texts_[v]); };
  if (const Symbol s = index_.find(text, h, key_of); s != kNone) return s;
  if (full()) return refuse();
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
