// Large allocations (a trace of a million spans, a listed sample, a
// partition's grouping) on transparent huge pages. On a VM a 4 KiB page
// fault costs microseconds: a huge trace's few hundred MB took 160,000
// faults, a third of its run. The global operator new gives each
// allocation of kLarge bytes or more a mapping of its own, aligned to
// huge pages and advised as such where it fills them; smaller ones go to
// malloc as before. (glibc's own
// switch for this, the glibc.malloc.hugetlb tunable, is read only when the
// process starts.) Sanitizer builds keep their own allocator.
#include "util/huge_pages.h"

#include <sys/mman.h>

#include <cstdint>

namespace ta {

HugeMapping map_aligned(std::size_t bytes, std::size_t lead, std::size_t advised) {
  const std::size_t rounded = (bytes + kHugePage - 1) & ~(kHugePage - 1);
  const std::size_t length = rounded + kHugePage;  // room to align, past the lead
  void* base = ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) return {};
  const std::uintptr_t aligned = (reinterpret_cast<std::uintptr_t>(base) + lead + kHugePage - 1) &
                                 ~static_cast<std::uintptr_t>(kHugePage - 1);
  if (advised) ::madvise(reinterpret_cast<void*>(aligned), advised, MADV_HUGEPAGE);
  return {base, length, reinterpret_cast<char*>(aligned)};
}

}  // namespace ta

#if defined(__SANITIZE_ADDRESS__)
#define TA_KEEP_ALLOCATOR 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TA_KEEP_ALLOCATOR 1
#endif
#endif

#if !defined(TA_KEEP_ALLOCATOR)

#include <cstdlib>
#include <new>

namespace {

using ta::kHugePage;
constexpr std::size_t kLarge = std::size_t{2} << 20;
constexpr std::size_t kHeader = 64;  // just before the block: where the mapping is
constexpr std::uint64_t kMagic = 0x7a41c3e9d2b85f17ull;

struct Header {
  std::uint64_t check;  // kMagic ^ the block's address
  void* base;
  std::size_t length;
};

// A large block starts at a huge page, and its header sits in the small
// page before it (a header on the block's own first page would make a
// block of a whole number of huge pages, like a vector's, one huge page
// longer): how operator delete tells it from malloc's is its address, at a
// huge-page boundary, and the check word, tied to that address.
void* allocate_large(std::size_t n) {
  if (n > (std::size_t{1} << 62)) return nullptr;
  // The huge pages the block fills; its tail keeps small pages, so that a
  // vector's unused room past its last huge page is not made resident.
  const ta::HugeMapping m = ta::map_aligned(n, kHeader, n & ~(kHugePage - 1));
  if (!m.base) return nullptr;
  auto* h = reinterpret_cast<Header*>(m.start - kHeader);
  h->check = kMagic ^ reinterpret_cast<std::uintptr_t>(m.start);
  h->base = m.base;
  h->length = m.length;
  return m.start;
}

Header* large_header(void* p) {
  const auto at = reinterpret_cast<std::uintptr_t>(p);
  if ((at & (kHugePage - 1)) != 0) return nullptr;
  // 64 bytes before a malloc'd block are always mapped (its chunk header
  // and the arena's before it).
  auto* h = reinterpret_cast<Header*>(at - kHeader);
  return h->check == (kMagic ^ at) ? h : nullptr;
}

void* allocate(std::size_t n) {
  void* p = n >= kLarge ? allocate_large(n) : std::malloc(n == 0 ? 1 : n);
  if (!p) throw std::bad_alloc();
  return p;
}

void release(void* p) noexcept {
  if (!p) return;
  if (Header* h = large_header(p)) {
    ::munmap(h->base, h->length);
    return;
  }
  std::free(p);
}

}  // namespace

void* operator new(std::size_t n) { return allocate(n); }
void* operator new[](std::size_t n) { return allocate(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return allocate(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return allocate(n);
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* p) noexcept { release(p); }
void operator delete[](void* p) noexcept { release(p); }
void operator delete(void* p, std::size_t) noexcept { release(p); }
void operator delete[](void* p, std::size_t) noexcept { release(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { release(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { release(p); }

#endif
