#include <doctest/doctest.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "util/distinct_count.h"
#include "util/hash.h"

using namespace ta;

namespace {

// The fullest of `buckets` buckets, when `keys` hashes are put in bucket
// bucket_of(hash).
template <typename F>
std::size_t fullest(const std::vector<std::string>& keys, std::size_t buckets, F&& bucket_of) {
  std::vector<std::size_t> count(buckets);
  for (const std::string& k : keys) ++count[bucket_of(hash_bytes(k))];
  return *std::max_element(count.begin(), count.end());
}

}  // namespace

TEST_CASE("hash: ids that differ in a few digits spread over partitions and slots alike") {
  // Sequential ids of every short length the fast path takes, and ids that
  // differ only in their last digit or their first: the top bits choose a
  // span log partition, the low bits a hash table slot.
  const char* formats[] = {"{:04x}", "{:08x}", "{:012x}", "{:016x}", "span-{:05}", "{:x}0000000"};
  for (const std::string format : formats) {
    CAPTURE(format);
    std::vector<std::string> keys;
    for (std::uint32_t i = 0; i < 65536; ++i) keys.push_back(fmt::format(fmt::runtime(format), i));
    // 256 partitions, 256 keys each on average; 4096 slots, 16 each. The
    // key is drawn anew in each process, so the bounds are ones a random
    // hash passes but for about once in a million runs: the fullest of 4096
    // slots of 16 on average reaches 40 in about 1% of runs (seen: 4 in 400),
    // 48 in about 2 in a million. A hash that clusters near-equal ids puts
    // whole runs of them in one slot, far past either bound.
    CHECK(fullest(keys, 256, [](std::uint64_t h) { return h >> 56; }) < 340);
    CHECK(fullest(keys, 4096, [](std::uint64_t h) { return h & 4095; }) < 48);
  }
}

TEST_CASE("hash: equal texts hash equal, and length tells otherwise equal words apart") {
  const std::string a = "0123456789abcdef", b = a;
  CHECK(hash_bytes(a) == hash_bytes(b));
  CHECK(hash_bytes("0123456789") != hash_bytes("01234567890"));
  CHECK(hash_bytes(std::string_view("abcdabcd", 8)) != hash_bytes(std::string_view("abcdabcdabcd", 12)));
  // A word that would zero the product does not make every other word collide.
  std::string zero(8, '\0');
  const std::uint64_t k = 0x9E3779B97F4A7C15ull;
  std::memcpy(zero.data(), &k, 8);
  CHECK(hash_bytes(zero + "aaaaaaaa") != hash_bytes(zero + "bbbbbbbb"));
}

TEST_CASE("hash: values chosen to line up with their pairs spread over slots") {
  // Clock offsets are counted per (host pair, offset). Offsets come from the
  // input's times: here each pair i gets the offset that makes
  // pair ^ offset * K the same number for every pair, which put all 65,536
  // entries in one slot of the multiplicative hash once used there.
  const std::uint64_t k = 0x9E3779B97F4A7C15ull;
  std::uint64_t inverse = k;  // k * inverse == 1 (mod 2^64), by Newton's steps
  for (int step = 0; step < 6; ++step) inverse *= 2 - k * inverse;
  REQUIRE(k * inverse == 1);
  std::vector<std::size_t> count(4096);
  std::vector<std::size_t> unkeyed(4096);
  for (std::uint64_t pair = 1; pair <= 65536; ++pair) {
    const std::uint64_t offset = (0x1234567ull ^ pair) * inverse;
    ++count[hash_number_pair(pair, offset) & 4095];
    ++unkeyed[((pair ^ (offset * k)) * 0xff51afd7ed558ccdull >> 32) & 4095];
  }
  CHECK(*std::max_element(unkeyed.begin(), unkeyed.end()) == 65536);  // the attack, on the old hash
  CHECK(*std::max_element(count.begin(), count.end()) < 40);          // 16 a slot on average
}

TEST_CASE("distinct count: the estimate is within a few percent of the exact count, for any number of values") {
  for (const std::size_t n : {std::size_t{1}, std::size_t{64}, std::size_t{1000}, std::size_t{65536}}) {
    for (const std::size_t distinct : {std::size_t{1}, n / 8 + 1, n / 2 + 1, n}) {
      CAPTURE(n);
      CAPTURE(distinct);
      // Values 0, 7, 14, ... repeated in turn: `distinct` of them among n.
      const double estimate = estimate_distinct(n, [&](auto&& mark) {
        for (std::size_t i = 0; i < n; ++i) mark(hash_number(static_cast<std::uint64_t>(i % distinct) * 7));
      });
      const double exact = static_cast<double>(distinct);
      CHECK(estimate >= exact * 0.9 - 2);
      CHECK(estimate <= exact * 1.1 + 2);
    }
  }
  CHECK(estimate_distinct(0, [](auto&&) {}) == 0);
}
