// Interned labels: hosts, services, operations repeat on millions of spans
// and are stored once each.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

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
  // Labels of up to 16 bytes (nearly all) are found by their bytes packed
  // in two words, with no string hash and no compare.
  struct Short {
    std::uint64_t a = 0, b = 0;
    std::uint32_t length = 0;
    Symbol symbol = 0;  // 0: free slot
  };
  Symbol intern_short(std::string_view text);
  Symbol add(std::string_view text);

  std::deque<std::string> texts_;  // deque: views into it stay valid
  HashIndex index_;                // labels longer than 16 bytes
  std::vector<Short> short_;
  int short_shift_ = 56;  // a slot is the hash's top bits: 64 - log2(short_.size())
  std::size_t short_count_ = 0;
};

// A parsing thread's way into a table it shares with other threads: labels
// it has met are answered from its own table, and only a new one takes the
// lock.
class SymbolCache {
 public:
  SymbolCache(SymbolTable& shared, std::mutex& lock) : shared_(shared), lock_(lock) {}
  Symbol intern(std::string_view text) {
    const Symbol local = local_.intern(text);
    if (local < to_shared_.size()) return to_shared_[local];
    return add(text, local);
  }

 private:
  Symbol add(std::string_view text, Symbol local);
  SymbolTable& shared_;
  std::mutex& lock_;
  SymbolTable local_;
  std::vector<Symbol> to_shared_{0};  // local symbol -> shared symbol
};

}  // namespace ta
