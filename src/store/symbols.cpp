#include "store/symbols.h"

#include "util/hash.h"

namespace ta {

SymbolTable::SymbolTable() { texts_.emplace_back(); }  // symbol 0: ""

Symbol SymbolTable::intern(std::string_view text) {
  if (text.empty()) return 0;
  const std::uint64_t h = hash_bytes(text);
  auto key_of = [this](std::uint32_t v) { return std::string_view(texts_[v]); };
  if (const Symbol s = index_.find(text, h, key_of); s != kNone) return s;
  const auto id = static_cast<Symbol>(texts_.size());
  texts_.emplace_back(text);
  index_.insert(h, id);
  return id;
}

}  // namespace ta
