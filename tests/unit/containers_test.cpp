#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <random>
#include <string>
#include <vector>

#include "util/chunked_vector.h"
#include "util/pair_map.h"
#include "util/radix_sort.h"

using namespace ta;

namespace {

struct Keyed {
  std::uint64_t key;
  std::uint32_t order;  // where it was before the sort
};

}  // namespace

TEST_CASE("radix sort: the order of a stable sort by key, for any size and any bytes of key that vary") {
  std::mt19937_64 rng(11);
  // Masks choose the bytes that vary: none, the low ones, the high ones
  // (ranks of caller << 32 | callee), all.
  const std::vector<std::uint64_t> masks = {0, 0xff, 0xffff, 0x7fff00007fffull, 0xff00000000000000ull, ~0ull};
  for (const std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{63}, std::size_t{64}, std::size_t{1000},
                              std::size_t{100'000}}) {
    for (const std::uint64_t mask : masks) {
      CAPTURE(n);
      CAPTURE(mask);
      std::vector<Keyed> v(n);
      // Few distinct keys as well as many: ties must keep their order.
      const std::uint64_t distinct = n / 8 + 1;
      std::vector<std::uint64_t> keys(distinct);
      for (auto& k : keys) k = rng() & mask;
      for (std::uint32_t i = 0; i < n; ++i) v[i] = Keyed{keys[rng() % distinct] ^ (i % 3 == 0 ? rng() & mask : 0), i};
      std::vector<Keyed> expected = v;
      std::stable_sort(expected.begin(), expected.end(), [](const Keyed& x, const Keyed& y) { return x.key < y.key; });
      radix_sort(v, [](const Keyed& x) { return x.key; });
      REQUIRE(v.size() == expected.size());
      bool same = true;
      for (std::size_t i = 0; i < n; ++i) same &= v[i].key == expected[i].key && v[i].order == expected[i].order;
      CHECK(same);
    }
  }
}

TEST_CASE("chunked vector: indexes, iterates and moves what it holds, across the first block's growth and past it") {
  using List = ChunkedVector<std::pair<std::uint64_t, std::unique_ptr<std::string>>, 256>;  // blocks of 16
  static_assert(List::kBlock == 16);
  for (const std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{15}, std::size_t{16}, std::size_t{17},
                              std::size_t{1000}}) {
    CAPTURE(n);
    List list;
    for (std::size_t i = 0; i < n; ++i) {
      auto& e = list.emplace_back(i * 7, std::make_unique<std::string>(std::to_string(i)));
      CHECK(e.first == i * 7);
    }
    REQUIRE(list.size() == n);
    // A reference taken past the first block stays good as the list grows.
    bool indexed = true;
    for (std::size_t i = 0; i < n; ++i) indexed &= list[i].first == i * 7 && *list[i].second == std::to_string(i);
    CHECK(indexed);
    List moved = std::move(list);
    CHECK(list.size() == 0);
    CHECK(moved.size() == n);
    std::size_t i = 0;
    bool iterated = true;
    for (auto& [key, text] : moved) iterated &= key == i * 7 && *text == std::to_string(i++);
    CHECK(iterated);
    CHECK(i == n);
  }
  // Elements past the first block never move.
  List list;
  for (std::uint64_t i = 0; i < 20; ++i) list.emplace_back(i, nullptr);
  const auto* at = &list[17];
  for (std::uint64_t i = 20; i < 200; ++i) list.emplace_back(i, nullptr);
  CHECK(&list[17] == at);
  // Blocks of a huge page, mapped whole, hold as many and free them; of
  // elements whose size does not divide it too (87,381 of 24 bytes a block).
  ChunkedVector<std::pair<std::uint64_t, std::uint64_t>> big;
  static_assert(decltype(big)::kBlock == 131072);
  for (std::uint64_t i = 0; i < 300'000; ++i) big.emplace_back(i, ~i);
  bool held = true;
  for (std::uint64_t i = 0; i < 300'000; ++i) held &= big[i].first == i && big[i].second == ~i;
  CHECK(held);
  struct Three {
    std::uint64_t a, b, c;
  };
  ChunkedVector<Three> odd;
  static_assert(decltype(odd)::kBlock == 87381);
  for (std::uint64_t i = 0; i < 300'000; ++i) odd.emplace_back(Three{i, ~i, i * 3});
  const Three* kept = &odd[100'000];
  for (std::uint64_t i = 300'000; i < 400'000; ++i) odd.emplace_back(Three{i, ~i, i * 3});
  CHECK(&odd[100'000] == kept);
  held = true;
  for (std::uint64_t i = 0; i < 400'000; ++i) held &= odd[i].a == i && odd[i].b == ~i && odd[i].c == i * 3;
  CHECK(held);
  std::uint64_t walked = 0;
  for (const Three& t : odd) held &= t.a == walked++;
  CHECK(held);
  CHECK(walked == 400'000);
}

TEST_CASE("chunked vector: truncated, it keeps its room; trimmed, it gives back the blocks past its elements") {
  using List = ChunkedVector<std::pair<std::uint64_t, std::unique_ptr<std::string>>, 256>;  // blocks of 16
  List list;
  for (std::uint64_t i = 0; i < 100; ++i) list.emplace_back(i, std::make_unique<std::string>(std::to_string(i)));
  list.truncate(37);
  CHECK(list.size() == 37);
  list.trim();  // blocks of another size than a huge page: kept as they are
  for (std::uint64_t i = 37; i < 60; ++i) list.emplace_back(i + 1000, nullptr);
  bool held = true;
  for (std::uint64_t i = 0; i < 37; ++i) held &= list[i].first == i && *list[i].second == std::to_string(i);
  for (std::uint64_t i = 37; i < 60; ++i) held &= list[i].first == i + 1000 && list[i].second == nullptr;
  CHECK(held);
  // Huge-page blocks (131,072 pairs each): three made, two given back, and
  // the list grows again past them.
  ChunkedVector<std::pair<std::uint64_t, std::uint64_t>> big;
  for (std::uint64_t i = 0; i < 300'000; ++i) big.emplace_back(i, ~i);
  big.truncate(100'000);
  big.trim();
  CHECK(big.size() == 100'000);
  for (std::uint64_t i = 100'000; i < 350'000; ++i) big.emplace_back(i * 2, i);
  held = true;
  for (std::uint64_t i = 0; i < 100'000; ++i) held &= big[i].first == i && big[i].second == ~i;
  for (std::uint64_t i = 100'000; i < 350'000; ++i) held &= big[i].first == i * 2 && big[i].second == i;
  CHECK(held);
  big.truncate(0);
  big.trim();
  CHECK(big.empty());
  big.emplace_back(7, 8);
  CHECK(big[0].first == 7);
}

TEST_CASE("pair map: listed, settled, searched by halves, indexed again; a key's entries merged into one") {
  using Map = PairMap<std::uint64_t>;
  auto add = [](std::uint64_t& to, std::uint64_t& from) { to += from; };
  std::map<std::uint64_t, std::uint64_t> expected;
  Map map;
  // Looked up first, then listed: 300,000 calls on 120,000 pairs (more than
  // a huge-page block of entries, so that parts lie across two blocks).
  std::mt19937_64 random(7);
  for (std::uint64_t i = 0; i < 1000; ++i) {
    const std::uint64_t key = (i % 50) << 32 | (i % 7);
    map[key] += i;
    expected[key] += i;
  }
  CHECK(map.mode() == Map::Mode::kIndexed);
  map.list();
  CHECK(map.mode() == Map::Mode::kListed);
  CHECK_THROWS_AS(map[1], std::logic_error);
  for (std::uint64_t i = 0; i < 300'000; ++i) {
    const std::uint64_t key = (random() % 400) << 32 | (random() % 300);
    map.append(key) += i;
    expected[key] += i;
  }
  // Every key once, in order, with its values merged.
  auto settled_as = [](Map& m, const std::map<std::uint64_t, std::uint64_t>& want) {
    REQUIRE(m.size() == want.size());
    bool ordered = true, found = true;
    for (std::size_t i = 0; i < m.size(); ++i) {
      if (i > 0) ordered &= Map::before(m.entries()[i - 1].first, m.entries()[i].first);
      const auto it = want.find(m.entries()[i].first);
      found &= it != want.end() && it->second == m.entries()[i].second;
    }
    CHECK(ordered);
    CHECK(found);
  };
  auto check = [&](Map& m) {
    settled_as(m, expected);
    bool searched = true;
    for (const auto& [key, value] : expected) {
      const std::uint64_t* v = m.find(key);
      searched &= v && *v == value && m.entries()[m.index_of(key)].first == key;
    }
    CHECK(searched);
    CHECK(m.find(std::uint64_t{999} << 32) == nullptr);
    CHECK(m.index_of(std::uint64_t{999} << 32) == Map::kNotFound);
  };
  map.settle(add);
  CHECK(map.mode() == Map::Mode::kSorted);
  check(map);
  map.trim();
  // Listed again: new entries and repeats merged into the settled ones.
  map.list();
  for (std::uint64_t i = 0; i < 5000; ++i) {
    const std::uint64_t key = (i % 500) << 32 | 1;
    map.append(key) += 3;
    expected[key] += 3;
  }
  map.settle(add);
  check(map);
  // Indexed again, as a lookup asks: the same values, and new keys taken.
  map[std::uint64_t{999} << 32] += 5;
  expected[std::uint64_t{999} << 32] += 5;
  CHECK(map.mode() == Map::Mode::kIndexed);
  bool indexed = true;
  for (const auto& [key, value] : expected) indexed &= map.find(key) && *map.find(key) == value;
  CHECK(indexed);
  CHECK(map.size() == expected.size());
  // One pair called 200,000 times among 20,000 others: its part of the
  // first pass holds more entries than settle moves out at once, so it is
  // dealt in place, and its bucket, across two blocks, merged where it is.
  Map hot;
  std::map<std::uint64_t, std::uint64_t> hot_expected;
  hot.list();
  const std::uint64_t hot_key = std::uint64_t{77} << 32 | 78;
  for (std::uint64_t i = 0; i < 220'000; ++i) {
    const std::uint64_t key = i % 11 == 0 ? (random() % 20'000) << 32 | (random() % 7) : hot_key;
    hot.append(key) += i;
    hot_expected[key] += i;
  }
  hot.settle(add);
  settled_as(hot, hot_expected);
  REQUIRE(hot.find(hot_key) != nullptr);
  CHECK(*hot.find(hot_key) == hot_expected[hot_key]);
  // An empty table settles to an empty one.
  Map empty;
  empty.list();
  empty.settle(add);
  CHECK(empty.size() == 0);
  CHECK(empty.find(1) == nullptr);
}
