#include "store/blob_arena.h"

#include <sys/mman.h>

#include <bit>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

namespace ta {

BlobArena::BlobArena(BlobArena&& other) noexcept { *this = std::move(other); }

BlobArena& BlobArena::operator=(BlobArena&& other) noexcept {
  if (this != &other) {
    clear();
    free_ = std::exchange(other.free_, {});
    slabs_ = std::exchange(other.slabs_, {});
    bump_ = std::exchange(other.bump_, nullptr);
    bump_end_ = std::exchange(other.bump_end_, nullptr);
    large_ = std::exchange(other.large_, {});
  }
  return *this;
}

std::size_t BlobArena::class_of(std::size_t bytes) {
  if (bytes <= 32) return 0;
  // bytes lies in (4 << s, 8 << s]: one of the four classes (5..8) << s.
  const auto s = static_cast<std::size_t>(std::bit_width(bytes - 1)) - 3;
  const std::size_t q = ((bytes - 1) >> s) + 1;
  return (s - 3) * 4 + (q - 4);
}

std::uint8_t* BlobArena::take(std::size_t c) {
  if (FreeBlock* f = free_[c]) {
    free_[c] = f->next;
    return reinterpret_cast<std::uint8_t*>(f);
  }
  const std::size_t size = class_size(c);
  if (static_cast<std::size_t>(bump_end_ - bump_) < size) {
    // The rest of the slab goes to the lists, in the largest blocks it holds.
    for (std::size_t left; (left = static_cast<std::size_t>(bump_end_ - bump_)) >= class_size(0);) {
      std::size_t k = class_of(left);
      if (class_size(k) > left) --k;
      give(bump_, k);
      bump_ += class_size(k);
    }
    // Mapped with its pages at once: one call instead of a fault per page,
    // and every slab is filled before the next is taken.
    void* mapped = ::mmap(nullptr, kSlabBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (mapped == MAP_FAILED) throw std::bad_alloc();
    auto* slab = static_cast<std::uint8_t*>(mapped);
    slabs_.push_back(slab);
    bump_ = slab;
    bump_end_ = slab + kSlabBytes;
  }
  std::uint8_t* block = bump_;
  bump_ += size;
  return block;
}

void BlobArena::give(std::uint8_t* block, std::size_t c) {
  auto* f = reinterpret_cast<FreeBlock*>(block);
  f->next = free_[c];
  free_[c] = f;
}

void BlobArena::grow(Blob& b, std::size_t need) {
  if (need <= kMaxClass) {
    const std::size_t c = class_of(need);
    std::uint8_t* block = take(c);
    if (b.size) std::memcpy(block, b.data, b.size);
    free(b.data, b.capacity);
    b.data = block;
    b.capacity = class_size(c);
    return;
  }
  // A huge trace: a quarter more each time, and twice the size past 4 MiB,
  // as untouched pages cost no memory and every growth moves it.
  const std::size_t capacity = need + (b.size >= (4u << 20) ? b.size : b.size / 4);
  if (b.capacity > kMaxClass) {
    void* moved = std::realloc(b.data, capacity);
    if (!moved) throw std::bad_alloc();
    large_.erase(b.data);
    b.data = static_cast<std::uint8_t*>(moved);
  } else {
    auto* block = static_cast<std::uint8_t*>(std::malloc(capacity));
    if (!block) throw std::bad_alloc();
    if (b.size) std::memcpy(block, b.data, b.size);
    free(b.data, b.capacity);
    b.data = block;
  }
  large_.insert(b.data);
  b.capacity = capacity;
}

void BlobArena::free(std::uint8_t* block, std::size_t capacity) {
  if (!block) return;
  if (capacity > kMaxClass) {
    large_.erase(block);
    std::free(block);
  } else {
    give(block, class_of(capacity));
  }
}

void BlobArena::free(Blob& b) {
  free(b.data, b.capacity);
  b = Blob{};
}

std::string_view BlobArena::copy(std::string_view text) {
  if (text.empty()) return {};
  Blob b;
  std::memcpy(append(b, text.size()), text.data(), text.size());
  return {reinterpret_cast<const char*>(b.data), b.size};
}

void BlobArena::free_text(std::string_view text) {
  if (text.empty()) return;
  // copy() gave it the smallest block that holds it.
  const std::size_t capacity = text.size() <= kMaxClass ? class_size(class_of(text.size())) : text.size();
  free(reinterpret_cast<std::uint8_t*>(const_cast<char*>(text.data())), capacity);
}

void BlobArena::clear() {
  for (std::uint8_t* slab : slabs_) ::munmap(slab, kSlabBytes);
  for (void* block : large_) std::free(block);
  slabs_.clear();
  large_.clear();
  free_ = {};
  bump_ = bump_end_ = nullptr;
}

}  // namespace ta
