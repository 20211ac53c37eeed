#include <doctest/doctest.h>

#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

#include "store/symbols.h"

using namespace ta;

namespace {

// Texts of every length from 1 to 40 that differ in one byte only, at the
// start, the middle or the end: the short-label path packs bytes into words.
std::vector<std::string> near_texts() {
  std::vector<std::string> out;
  for (std::size_t n = 1; n <= 40; ++n) {
    const std::string base(n, 'a');
    out.push_back(base);
    for (std::size_t at : {std::size_t{0}, n / 2, n - 1}) {
      std::string t = base;
      t[at] = 'b';
      out.push_back(t);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("a symbol table gives each text one symbol and gives the text back") {
  SymbolTable table;
  CHECK(table.intern("") == 0);
  CHECK(table.text(0).empty());
  std::vector<std::string> texts = near_texts();
  texts.push_back(std::string("a\0b", 3));
  texts.push_back(std::string("a\0c", 3));
  std::vector<Symbol> symbols;
  for (const std::string& t : texts) symbols.push_back(table.intern(t));
  for (std::size_t i = 0; i < texts.size(); ++i) {
    INFO("text: ", texts[i]);
    CHECK(table.intern(texts[i]) == symbols[i]);  // again: the same symbol
    CHECK(table.text(symbols[i]) == texts[i]);
  }
  // Distinct texts (near_texts repeats one when n / 2 == 0 or n - 1 == n / 2).
  std::vector<std::string> sorted = texts;
  std::sort(sorted.begin(), sorted.end());
  const auto distinct = static_cast<std::size_t>(std::unique(sorted.begin(), sorted.end()) - sorted.begin());
  CHECK(table.size() == distinct + 1);
}

TEST_CASE("a symbol table keeps its symbols while it grows") {
  SymbolTable table;
  std::vector<Symbol> first;
  for (int i = 0; i < 5000; ++i) first.push_back(table.intern("host-" + std::to_string(i)));
  for (int i = 0; i < 5000; ++i) CHECK(table.intern("host-" + std::to_string(i)) == first[i]);
  CHECK(table.size() == 5001);
}

TEST_CASE("symbol caches of several threads give the shared table's symbols") {
  SymbolTable shared;
  std::mutex lock;
  SymbolCache a(shared, lock), b(shared, lock);
  const Symbol x = a.intern("redis-cache"), y = b.intern("user-service"), z = b.intern("redis-cache");
  CHECK(x == z);
  CHECK(x != y);
  CHECK(shared.text(x) == "redis-cache");
  CHECK(shared.text(y) == "user-service");
  CHECK(a.intern("user-service") == y);
  CHECK(a.intern("") == 0);
}

TEST_CASE("a limited symbol table keeps no label past its limit: each one past it is the overflow symbol, counted") {
  SymbolTable table;
  const Symbol early = table.intern("early-host");
  const std::size_t before = table.size();
  table.limit(10, "(other)");
  std::vector<Symbol> first;
  for (int i = 0; i < 10; ++i) first.push_back(table.intern("host-" + std::to_string(i)));
  const std::size_t full = table.size();
  CHECK(full <= before + 11);  // the ten, and the overflow label
  // A stream of new labels, short and long: none is kept, each is counted.
  for (int i = 10; i < 100000; ++i) {
    const std::string label = i % 2 ? "host-" + std::to_string(i) : "a-label-longer-than-sixteen-bytes-" + std::to_string(i);
    CHECK(table.intern(label) == table.overflow_symbol());
  }
  CHECK(table.size() == full);
  CHECK(table.over_limit() == 99990);
  CHECK(table.text(table.overflow_symbol()) == "(other)");
  // Labels met before the limit keep their symbols.
  CHECK(table.intern("early-host") == early);
  for (int i = 0; i < 10; ++i) CHECK(table.intern("host-" + std::to_string(i)) == first[static_cast<std::size_t>(i)]);
}
