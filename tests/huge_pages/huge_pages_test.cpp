// The large-allocation path of src/util/huge_pages.cpp, built without
// sanitizers (which keep their own allocator) so that the test suite's
// AddressSanitizer build still runs it.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

constexpr std::uintptr_t kHugePage = std::uintptr_t{2} << 20;

std::uintptr_t offset_in_huge_page(const void* p) { return reinterpret_cast<std::uintptr_t>(p) & (kHugePage - 1); }
std::uintptr_t address(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }
std::uintptr_t round_to_huge_pages(std::uintptr_t n) { return (n + kHugePage - 1) & ~(kHugePage - 1); }

// The kernel can advise huge pages (madvise(MADV_HUGEPAGE) sets a mapping's
// "hg" flag even when they are off): the advised range is then a mapping of
// its own in /proc/self/smaps.
bool kernel_has_huge_pages() { return ::access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK) == 0; }

// One mapping of /proc/self/smaps.
struct Vma {
  std::uintptr_t start = 0, end = 0;
  bool advised_huge = false;  // "hg" in VmFlags
};

// The mapping that holds `p`, or nullopt when nothing maps it. Reads into a
// buffer allocated once, so that reading allocates (and maps) nothing.
std::optional<Vma> vma_of(const void* p) {
  static std::vector<char> buffer(std::size_t{1} << 20);
  const int fd = ::open("/proc/self/smaps", O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  std::size_t size = 0;
  while (true) {
    REQUIRE(size < buffer.size());  // all of it fits
    const ssize_t n = ::read(fd, buffer.data() + size, buffer.size() - size);
    REQUIRE(n >= 0);
    if (n == 0) break;
    size += static_cast<std::size_t>(n);
  }
  ::close(fd);
  const std::string_view text(buffer.data(), size);
  const std::uintptr_t at = address(p);
  std::optional<Vma> found;
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    const std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    // A mapping's first line: "start-end perms offset dev inode [path]", in hex.
    const std::size_t dash = line.find('-'), space = line.find(' ');
    if (dash != std::string_view::npos && dash < space &&
        line.substr(0, dash).find_first_not_of("0123456789abcdef") == std::string_view::npos) {
      if (found) break;  // the next mapping: the one holding p is done
      const std::uintptr_t start = std::stoull(std::string(line.substr(0, dash)), nullptr, 16);
      const std::uintptr_t end = std::stoull(std::string(line.substr(dash + 1, space - dash - 1)), nullptr, 16);
      if (start <= at && at < end) found = Vma{start, end, false};
    } else if (found && line.rfind("VmFlags:", 0) == 0) {
      found->advised_huge = (std::string(line) + " ").find(" hg ") != std::string::npos;
    }
  }
  return found;
}

// What operator new promises a block of n >= 2 MiB bytes: a mapping of its
// own that starts at a huge page (its header is in the small page before
// it), holds all n bytes, and (where the kernel has huge pages) is advised
// as huge pages where the block fills them, and only there: none for the
// header, none for a last one the block fills in part.
void check_own_mapping(const void* block, std::size_t n) {
  CHECK(offset_in_huge_page(block) == 0);
  const std::optional<Vma> vma = vma_of(block);
  REQUIRE(vma.has_value());
  const std::optional<Vma> header = vma_of(static_cast<const char*>(block) - 64);
  REQUIRE(header.has_value());
  const std::optional<Vma> last = vma_of(static_cast<const char*>(block) + n - 1);
  REQUIRE(last.has_value());
  CHECK(last->end >= address(block) + n);
  if (kernel_has_huge_pages()) {
    const std::size_t whole = n & ~(kHugePage - 1);
    CHECK(vma->advised_huge);
    CHECK(vma->start == address(block));
    CHECK(vma->end - vma->start == whole);
    CHECK_FALSE(header->advised_huge);
    CHECK(last->advised_huge == (whole == n));
  }
}

// A block from malloc: not in a mapping advised as huge pages.
bool from_malloc(const void* p) {
  const std::optional<Vma> vma = vma_of(p);
  return vma && !vma->advised_huge;
}

}  // namespace

TEST_CASE("blocks of 2 MiB and more get a mapping of their own, from the start of a huge page") {
  for (std::size_t n : {std::size_t{2} << 20, (std::size_t{2} << 20) + 1, (std::size_t{4} << 20) - 64,
                        std::size_t{8} << 20, std::size_t{37} << 20, std::size_t{300} << 20}) {
    CAPTURE(n);
    auto* block = static_cast<std::uint8_t*>(::operator new[](n));
    check_own_mapping(block, n);
    // Usable to its last byte: a byte on every page (every 16th of the
    // largest) keeps what was written.
    const std::size_t last = n - 1, step = n <= (std::size_t{64} << 20) ? 4096 : n / 16;
    block[last] = 0xAB;  // the last byte is there
    for (std::size_t i = 0; i < last; i += step) block[i] = static_cast<std::uint8_t>(i / step + 1);
    bool kept = block[last] == 0xAB;
    for (std::size_t i = 0; i < last; i += step) kept &= block[i] == static_cast<std::uint8_t>(i / step + 1);
    CHECK(kept);
    // Freeing unmaps it: nothing is left at that address.
    ::operator delete[](block);
    CHECK_FALSE(vma_of(block).has_value());
    CHECK_FALSE(vma_of(block - 64).has_value());
    // And a new block of the size is mapped again, as usable.
    block = static_cast<std::uint8_t*>(::operator new[](n));
    check_own_mapping(block, n);
    block[0] = 3;
    block[n - 1] = 4;
    CHECK(block[0] + block[n - 1] == 7);
    ::operator delete[](block);
  }
}

TEST_CASE("two large blocks alive at once are two mappings, freed one by one") {
  const std::size_t n = std::size_t{5} << 20;
  auto* a = static_cast<char*>(::operator new(n));
  auto* b = static_cast<char*>(::operator new(n));
  check_own_mapping(a, n);
  check_own_mapping(b, n);
  CHECK(std::max(a, b) - std::min(a, b) >= static_cast<std::ptrdiff_t>(n + 64));  // they do not overlap
  std::memset(a, 'a', n);
  std::memset(b, 'b', n);
  ::operator delete(a);
  CHECK_FALSE(vma_of(a).has_value());
  CHECK(std::all_of(b, b + n, [](char c) { return c == 'b'; }));  // b untouched by a's unmapping
  check_own_mapping(b, n);
  ::operator delete(b, n);  // the sized delete finds the mapping too
  CHECK_FALSE(vma_of(b).has_value());
}

TEST_CASE("smaller blocks still come from malloc, and every block is given back where it came from") {
  std::vector<void*> small;
  for (std::size_t n = 1; n < (std::size_t{1} << 21); n = n * 3 + 1) small.push_back(::operator new(n));
  if (kernel_has_huge_pages())
    for (void* p : small) CHECK(from_malloc(p));
  for (void* p : small) std::memset(p, 0x5A, 1);                // usable
  for (void* p : small) ::operator delete(p);
  // A vector grown past the limit moves into a mapping, keeping its values.
  std::vector<std::uint64_t> values;
  for (std::uint64_t i = 0; i < 3'000'000; ++i) values.push_back(i * 7);
  CHECK(offset_in_huge_page(values.data()) == 0);
  std::uint64_t sum = std::accumulate(values.begin(), values.end(), std::uint64_t{0});
  CHECK(sum == 7 * (3'000'000ull * 2'999'999ull / 2));
  values = {};
  // nothrow new of an impossible size gives nullptr instead of throwing.
  volatile std::size_t impossible = std::size_t{1} << 63;
  CHECK(::operator new(impossible, std::nothrow) == nullptr);
  CHECK_THROWS_AS((void)::operator new(impossible), std::bad_alloc);
}

TEST_CASE("threads allocating and freeing large and small blocks at once") {
  // doctest's CHECK is not for other threads: each counts what went wrong.
  constexpr int kThreads = 4, kRounds = 20;
  std::atomic<int> large_blocks{0}, misplaced{0}, overwritten{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < kThreads; ++t)
    pool.emplace_back([&, t] {
      for (int round = 0; round < kRounds; ++round) {
        const char mark = static_cast<char>('a' + t);
        std::string big((std::size_t{3} << 20) + static_cast<std::size_t>(round), mark);
        std::vector<int> small(100 + round, t);
        ++large_blocks;
        if (offset_in_huge_page(big.data()) != 0) ++misplaced;  // a mapping of its own
        std::this_thread::yield();  // let the others map and unmap meanwhile
        // No other thread's block was laid over this one.
        if (std::count(big.begin(), big.end(), mark) != static_cast<std::ptrdiff_t>(big.size())) ++overwritten;
        if (std::count(small.begin(), small.end(), t) != static_cast<std::ptrdiff_t>(small.size())) ++overwritten;
      }
    });
  for (std::thread& th : pool) th.join();
  CHECK(large_blocks == kThreads * kRounds);
  CHECK(misplaced == 0);
  CHECK(overwritten == 0);
}
