// Interned labels: hosts, services, operations repeat on millions of spans
// and are stored once each.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "store/hash_index.h"
#include "store/span.h"
#include "util/hash.h"
#include "util/longest_run.h"

namespace ta {

namespace symbol_key {

// The bytes of a text of 1 to 16 bytes as two words; with the length they
// tell texts apart exactly (overlapping loads cover every byte).
inline void pack(std::string_view s, std::uint64_t& a, std::uint64_t& b) {
  const char* p = s.data();
  const std::size_t n = s.size();
  if (n >= 8) {
    a = load_word(p);
    b = load_word(p + n - 8);
  } else if (n >= 4) {
    a = load_half(p) | (static_cast<std::uint64_t>(load_half(p + n - 4)) << 32);
    b = 0;
  } else {
    a = static_cast<unsigned char>(p[0]) | (static_cast<std::uint64_t>(static_cast<unsigned char>(p[n / 2])) << 8) |
        (static_cast<std::uint64_t>(static_cast<unsigned char>(p[n - 1])) << 16);
    b = 0;
  }
}

// The words offset by the process's secret (util/hash.h: labels come from
// outside and must not be craftable to collide), multiplied 64 x 64 -> 128
// bits and folded; the slot is taken from the top bits.
inline std::uint64_t mix(std::uint64_t a, std::uint64_t b, std::size_t n, const HashKey& key = hash_key) {
  __extension__ using Wide = unsigned __int128;
  const Wide m = static_cast<Wide>(a ^ key.a) * (b ^ key.b ^ (n * 0x165667B19E3779F9ull));
  return static_cast<std::uint64_t>(m) ^ static_cast<std::uint64_t>(m >> 64);
}

}  // namespace symbol_key

// The labels' texts by symbol, in blocks that never move (block b holds
// 64 << b texts) found through a directory of fixed size. So a thread may
// read the text of a symbol handed to it (through a queue's lock) while
// another thread adds texts: nothing it reads is ever moved or freed.
class TextList {
 public:
  std::string_view operator[](Symbol s) const {
    const auto [block, at] = where(s);
    return blocks_[block][at];
  }
  std::size_t size() const { return size_; }
  void push_back(std::string_view text) {
    const auto [block, at] = where(static_cast<Symbol>(size_));
    if (!blocks_[block]) blocks_[block] = std::make_unique<std::string[]>(std::size_t{64} << block);
    blocks_[block][at] = text;
    ++size_;
  }

 private:
  static constexpr int kBlocks = 27;  // 64 << 27 texts: past any Symbol
  static std::pair<int, std::size_t> where(Symbol s) {
    const std::uint64_t n = std::uint64_t{s} + 64;
    const int block = 63 - __builtin_clzll(n) - 6;
    return {block, static_cast<std::size_t>(n - (std::uint64_t{64} << block))};
  }
  std::unique_ptr<std::string[]> blocks_[kBlocks];
  std::size_t size_ = 0;
};

// Thread use: one thread interns (or several, each through a SymbolCache);
// any thread may read the text of a symbol it was handed.
class SymbolTable {
 public:
  SymbolTable();
  // Several times a span: a label met before is found inline.
  Symbol intern(std::string_view text) {
    if (text.empty()) return 0;
    if (text.size() > 16) return intern_long(text);
    std::uint64_t a, b;
    symbol_key::pack(text, a, b);
    const auto n = static_cast<std::uint32_t>(text.size());
    const std::size_t mask = short_.size() - 1;
    for (std::size_t i = symbol_key::mix(a, b, n) >> short_shift_;; i = (i + 1) & mask) {
      const Short& e = short_[i];
      if (e.symbol == 0) break;
      if (e.a == a && e.b == b && e.length == n) return e.symbol;
    }
    return add_short(text);
  }
  std::string_view text(Symbol s) const { return texts_[s]; }
  std::size_t size() const { return texts_.size(); }
  // The longest run of full slots, in the table of short labels and in the
  // index of long ones (util/longest_run.h).
  std::size_t longest_run() const {
    return std::max(ta::longest_run(short_, [](const Short& e) { return e.symbol != 0; }), index_.longest_run());
  }

  // At most `max_labels` distinct labels from now on (live mode: memory
  // must not grow with an endless stream of new hosts): a new label past
  // them is interned as `overflow` (one more symbol), and counted.
  void limit(std::size_t max_labels, std::string_view overflow);
  // Labels met past the limit (each time met, as they are not kept).
  std::uint64_t over_limit() const { return over_limit_; }
  Symbol overflow_symbol() const { return overflow_; }

 private:
  // Labels of up to 16 bytes (nearly all) are found by their bytes packed
  // in two words, with no string hash and no compare.
  struct Short {
    std::uint64_t a = 0, b = 0;
    std::uint32_t length = 0;
    Symbol symbol = 0;  // 0: free slot
  };
  Symbol add_short(std::string_view text);  // a new label of up to 16 bytes
  Symbol intern_long(std::string_view text);
  Symbol add(std::string_view text);
  bool full() const { return texts_.size() >= max_symbols_; }
  Symbol refuse() {
    ++over_limit_;
    return overflow_;
  }

  TextList texts_;
  HashIndex index_;                // labels longer than 16 bytes
  std::vector<Short> short_;
  int short_shift_ = 56;  // a slot is the hash's top bits: 64 - log2(short_.size())
  std::size_t short_count_ = 0;
  std::size_t max_symbols_ = SIZE_MAX;
  Symbol overflow_ = 0;
  std::uint64_t over_limit_ = 0;
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
