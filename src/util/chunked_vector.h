// A list that grows by blocks of a fixed size, indexed like a vector. A
// vector that doubles copies all it holds each time, and for that moment
// holds it twice (the old room and the new), then keeps up to half its room
// unused: for a table of a fleet's pairs (tens of megabytes), that moment
// is the run's peak. Here nothing moves once it is past the first block,
// and at most one block is partly unused; the first block grows by doubling
// up to the block size, so a small list stays small. Blocks of a huge page
// (2 MiB, the default) are mapped as one: tables read at random take a TLB
// miss a read on small pages.
#pragma once

#include <algorithm>
#include <cstddef>
#include <new>
#include <utility>
#include <sys/mman.h>

#include <vector>

#include "util/huge_pages.h"
#include "util/index_iterator.h"

namespace ta {

template <typename T, std::size_t kBlockBytes = kHugePage>
class ChunkedVector {
 public:
  // As many as fit: a constant, so that finding an element's block divides
  // by a multiply (a shift when it is a power of two).
  static constexpr std::size_t kBlock = kBlockBytes / sizeof(T);
  static_assert(kBlock >= 16);

  using Iterator = IndexIterator<ChunkedVector>;

  ChunkedVector() = default;
  ChunkedVector(ChunkedVector&& o) noexcept
      : blocks_(std::exchange(o.blocks_, std::vector<T*>())),
        maps_(std::exchange(o.maps_, std::vector<HugeMapping>())),
        size_(std::exchange(o.size_, 0)),
        room_(std::exchange(o.room_, 0)) {}
  ChunkedVector& operator=(ChunkedVector&& o) noexcept {
    if (this != &o) {
      release();
      blocks_ = std::exchange(o.blocks_, std::vector<T*>());
      maps_ = std::exchange(o.maps_, std::vector<HugeMapping>());
      size_ = std::exchange(o.size_, 0);
      room_ = std::exchange(o.room_, 0);
    }
    return *this;
  }
  ChunkedVector(const ChunkedVector&) = delete;
  ChunkedVector& operator=(const ChunkedVector&) = delete;
  ~ChunkedVector() { release(); }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T& operator[](std::size_t i) { return blocks_[i / kBlock][i % kBlock]; }
  const T& operator[](std::size_t i) const { return blocks_[i / kBlock][i % kBlock]; }
  Iterator begin() { return {this, 0}; }
  Iterator end() { return {this, size_}; }

  // The first n elements kept (n <= size()); the room stays.
  void truncate(std::size_t n) {
    for (std::size_t i = n; i < size_; ++i) (*this)[i].~T();
    size_ = n;
  }
  // Whole blocks past the elements given back.
  void trim() {
    if (!kHuge || room_ < kBlock) return;
    const std::size_t keep = std::max<std::size_t>(1, (size_ + kBlock - 1) / kBlock);
    while (blocks_.size() > keep && maps_.size() == blocks_.size()) {
      ::munmap(maps_.back().base, maps_.back().length);
      maps_.pop_back();
      blocks_.pop_back();
      room_ -= kBlock;
    }
  }
  // Whether elements [from, to) are in one block (to > from).
  static bool one_block(std::size_t from, std::size_t to) { return from / kBlock == (to - 1) / kBlock; }

  template <typename... Args>
  T& emplace_back(Args&&... args) {
    if (size_ == room_) grow();
    T* at = &(*this)[size_];
    new (at) T(std::forward<Args>(args)...);
    ++size_;
    return *at;
  }

 private:
  // A whole block that fills a huge page (all but less than an element of
  // it) is mapped as one (its mapping kept to unmap); a smaller one (the
  // first, growing, or blocks of another size) comes from operator new.
  static constexpr bool kHuge = kBlockBytes == kHugePage;
  T* allocate(std::size_t n) {
    if (kHuge && n == kBlock) {
      maps_.reserve(maps_.size() + 1);
      const HugeMapping m = map_huge_pages(n * sizeof(T));
      if (!m.base) throw std::bad_alloc();
      maps_.push_back(m);
      return reinterpret_cast<T*>(m.start);
    }
    return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{alignof(T)}));
  }
  // Small blocks only: whole huge ones are unmapped by release().
  static void deallocate_small(T* p) { ::operator delete(p, std::align_val_t{alignof(T)}); }
  void grow() {
    blocks_.reserve(blocks_.size() + 1);  // so that a block allocated is never lost
    if (room_ >= kBlock) {
      blocks_.push_back(allocate(kBlock));
      room_ += kBlock;
      return;
    }
    // The first block: twice its room (16 to start with) up to a block's,
    // what it holds moved.
    const std::size_t room = room_ == 0 ? 16 : std::min(room_ * 2, kBlock);
    T* block = allocate(room);
    if (!blocks_.empty()) {
      T* old = blocks_[0];
      for (std::size_t i = 0; i < size_; ++i) {
        new (block + i) T(std::move(old[i]));
        old[i].~T();
      }
      deallocate_small(old);  // smaller than a block
      blocks_[0] = block;
    } else {
      blocks_.push_back(block);
    }
    room_ = room;
  }
  void release() {
    for (std::size_t i = 0; i < size_; ++i) (*this)[i].~T();
    if (!kHuge || room_ < kBlock) {
      for (T* b : blocks_) deallocate_small(b);
    }
    for (const HugeMapping& m : maps_) ::munmap(m.base, m.length);
    maps_.clear();
    blocks_.clear();
    size_ = room_ = 0;
  }

  std::vector<T*> blocks_;
  std::vector<HugeMapping> maps_;  // of blocks mapped whole
  std::size_t size_ = 0, room_ = 0;
};

}  // namespace ta
