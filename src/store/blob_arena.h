// Memory for the traces' blobs and ids, one arena per span store. Hundreds
// of thousands of traces each grow a blob of a few hundred bytes one span at
// a time; through malloc every growth and, at the end, every trace is a call
// (and, across threads, a lock on the arena that allocated it). Here blocks
// come out of 1 MiB slabs in size classes a fifth apart, freed blocks wait
// on their class's list for the next trace that grows into that size, and
// everything goes back at once when the store is cleared. Blocks over
// kMaxClass (a huge trace) are malloc's, grown with realloc, which moves
// big ones by remapping their pages instead of copying them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace ta {

// Bytes owned by a BlobArena: size used of capacity.
struct Blob {
  std::uint8_t* data = nullptr;
  std::size_t size = 0, capacity = 0;
};

class BlobArena {
 public:
  static constexpr std::size_t kSlabBytes = 1u << 20;
  static constexpr std::size_t kMaxClass = 64u << 10;

  BlobArena() = default;
  BlobArena(const BlobArena&) = delete;
  BlobArena& operator=(const BlobArena&) = delete;
  BlobArena(BlobArena&& other) noexcept;
  BlobArena& operator=(BlobArena&& other) noexcept;
  ~BlobArena() { clear(); }

  // Makes room for `more` bytes after b's used ones, moving b to a larger
  // block when needed, and returns where they go; b.size grows by `more`.
  std::uint8_t* append(Blob& b, std::size_t more) {
    if (b.capacity - b.size < more) grow(b, b.size + more);
    std::uint8_t* at = b.data + b.size;
    b.size += more;
    return at;
  }
  void free(Blob& b);
  // A copy of `text` in a block of the arena; free_text gives it back.
  std::string_view copy(std::string_view text);
  void free_text(std::string_view text);
  // Frees every block at once; blobs and texts from before are invalid.
  void clear();

  // The size classes: 32 B to kMaxClass, four per power of two.
  static constexpr std::size_t kClasses = 45;
  static std::size_t class_size(std::size_t c) { return (4 + c % 4) << (3 + c / 4); }
  // The smallest class of at least `bytes` (1 to kMaxClass).
  static std::size_t class_of(std::size_t bytes);

 private:
  void grow(Blob& b, std::size_t need);
  std::uint8_t* take(std::size_t c);
  void give(std::uint8_t* block, std::size_t c);
  void free(std::uint8_t* block, std::size_t capacity);

  struct FreeBlock {
    FreeBlock* next;
  };
  std::array<FreeBlock*, kClasses> free_{};
  std::vector<std::uint8_t*> slabs_;
  std::uint8_t* bump_ = nullptr;  // the current slab's unused part
  std::uint8_t* bump_end_ = nullptr;
  std::unordered_set<void*> large_;  // blocks past kMaxClass, from malloc
};

}  // namespace ta
