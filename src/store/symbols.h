// Interned labels: hosts, services, operations repeat on millions of spans
// and are stored once each.
#pragma once

#include <deque>
#include <string>
#include <string_view>

#include "store/hash_index.h"
#include "store/span.h"

namespace ta {

class SymbolTable {
 public:
  SymbolTable();
  Symbol intern(std::string_view text);
  std::string_view text(Symbol s) const { return texts_[s]; }
  std::size_t size() const { return texts_.size(); }

 private:
  std::deque<std::string> texts_;  // deque: views into it stay valid
  HashIndex index_;
};

}  // namespace ta
