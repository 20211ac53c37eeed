// The large-allocation path of src/util/huge_pages.cpp, built without
// sanitizers (which keep their own allocator) so that the test suite's
// AddressSanitizer build still runs it.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr std::uintptr_t kHugePage = std::uintptr_t{2} << 20;

std::uintptr_t offset_in_huge_page(const void* p) { return reinterpret_cast<std::uintptr_t>(p) & (kHugePage - 1); }

}  // namespace

TEST_CASE("blocks of 2 MiB and more get a mapping of their own, 64 bytes into a huge page") {
  for (std::size_t n : {std::size_t{2} << 20, (std::size_t{2} << 20) + 1, std::size_t{37} << 20, std::size_t{300} << 20}) {
    CAPTURE(n);
    auto block = std::make_unique<std::uint8_t[]>(n);
    CHECK(offset_in_huge_page(block.get()) == 64);
    block[0] = 1;
    block[n - 1] = 2;  // the last byte is there
    CHECK(block[0] + block[n - 1] == 3);
  }
}

TEST_CASE("smaller blocks still come from malloc, and every block is given back where it came from") {
  std::vector<void*> small;
  for (std::size_t n = 1; n < (std::size_t{1} << 21); n = n * 3 + 1) small.push_back(::operator new(n));
  for (void* p : small) CHECK(offset_in_huge_page(p) != 64);  // malloc's blocks are 16 past a chunk
  for (void* p : small) ::operator delete(p);
  // A vector grown past the limit moves into a mapping, keeping its values.
  std::vector<std::uint64_t> values;
  for (std::uint64_t i = 0; i < 3'000'000; ++i) values.push_back(i * 7);
  CHECK(offset_in_huge_page(values.data()) == 64);
  std::uint64_t sum = std::accumulate(values.begin(), values.end(), std::uint64_t{0});
  CHECK(sum == 7 * (3'000'000ull * 2'999'999ull / 2));
  values = {};
  // nothrow new of an impossible size gives nullptr instead of throwing.
  volatile std::size_t impossible = std::size_t{1} << 63;
  CHECK(::operator new(impossible, std::nothrow) == nullptr);
  CHECK_THROWS_AS((void)::operator new(impossible), std::bad_alloc);
}

TEST_CASE("threads allocating and freeing large and small blocks at once") {
  std::vector<std::thread> pool;
  for (int t = 0; t < 4; ++t)
    pool.emplace_back([t] {
      for (int round = 0; round < 20; ++round) {
        std::string big((std::size_t{3} << 20) + static_cast<std::size_t>(round), static_cast<char>('a' + t));
        std::vector<int> small(100 + round, t);
        if (big[big.size() - 1] != 'a' + t || small.back() != t) std::abort();
      }
    });
  for (std::thread& th : pool) th.join();
  CHECK(true);
}
