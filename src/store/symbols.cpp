#include "store/symbols.h"

namespace ta {

SymbolTable::SymbolTable() { intern(""); }

Symbol SymbolTable::intern(std::string_view text) {
  if (auto it = index_.find(text); it != index_.end()) return it->second;
  const auto id = static_cast<Symbol>(texts_.size());
  const std::string& stored = texts_.emplace_back(text);
  index_.emplace(std::string_view(stored), id);
  return id;
}

}  // namespace ta
