#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store/blob_arena.h"

using namespace ta;

namespace {

// Appends n bytes of a pattern that depends on the blob and the position.
void fill(BlobArena& arena, Blob& b, std::size_t n, std::uint8_t seed) {
  const std::size_t from = b.size;
  std::uint8_t* p = arena.append(b, n);
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<std::uint8_t>(seed * 31 + (from + i) * 7);
}

bool holds_pattern(const Blob& b, std::uint8_t seed) {
  for (std::size_t i = 0; i < b.size; ++i)
    if (b.data[i] != static_cast<std::uint8_t>(seed * 31 + i * 7)) return false;
  return true;
}

}  // namespace

TEST_CASE("size classes: the smallest class that holds the bytes, four per power of two") {
  CHECK(BlobArena::class_size(0) == 32);
  CHECK(BlobArena::class_size(1) == 40);
  CHECK(BlobArena::class_size(4) == 64);
  CHECK(BlobArena::class_size(BlobArena::kClasses - 1) == BlobArena::kMaxClass);
  for (std::size_t bytes = 1; bytes <= BlobArena::kMaxClass; ++bytes) {
    const std::size_t c = BlobArena::class_of(bytes);
    REQUIRE(c < BlobArena::kClasses);
    REQUIRE(BlobArena::class_size(c) >= bytes);
    if (c > 0) REQUIRE(BlobArena::class_size(c - 1) < bytes);
  }
  for (std::size_t c = 1; c < BlobArena::kClasses; ++c) {
    CHECK(BlobArena::class_size(c) > BlobArena::class_size(c - 1));
    CHECK(BlobArena::class_size(c) % 8 == 0);  // free blocks hold an aligned pointer
  }
}

TEST_CASE("blobs grown a few bytes at a time, interleaved, keep their bytes across every move") {
  BlobArena arena;
  std::vector<Blob> blobs(300);
  // Growth past kMaxClass too: the first blobs become huge (malloc, realloc).
  for (int round = 0; round < 200; ++round)
    for (std::size_t k = 0; k < blobs.size(); ++k)
      fill(arena, blobs[k], k < 3 ? 997 : 1 + (k * 13 + round) % 90, static_cast<std::uint8_t>(k));
  for (std::size_t k = 0; k < blobs.size(); ++k) {
    CHECK(blobs[k].capacity >= blobs[k].size);
    CHECK(holds_pattern(blobs[k], static_cast<std::uint8_t>(k)));
  }
  CHECK(blobs[0].size == 200u * 997);
  CHECK(blobs[0].capacity > BlobArena::kMaxClass);
  // Freed blocks are handed out again; nothing that lives is overwritten.
  for (std::size_t k = 0; k < blobs.size(); k += 2) arena.free(blobs[k]);
  CHECK(blobs[0].data == nullptr);
  CHECK(blobs[0].size == 0);
  for (std::size_t k = 0; k < blobs.size(); k += 2)
    for (int round = 0; round < 50; ++round) fill(arena, blobs[k], 1 + (k + round) % 200, static_cast<std::uint8_t>(k));
  for (std::size_t k = 0; k < blobs.size(); ++k) CHECK(holds_pattern(blobs[k], static_cast<std::uint8_t>(k)));
}

TEST_CASE("texts are copied into the arena and their blocks reused once freed") {
  BlobArena arena;
  const std::string long_text(BlobArena::kMaxClass + 5, 'x');
  std::vector<std::string> texts{"a", "0123456789abcdef", std::string(33, 'q'), std::string(1000, 'z'), long_text};
  std::vector<std::string_view> copies;
  for (const std::string& t : texts) copies.push_back(arena.copy(t));
  for (std::size_t i = 0; i < texts.size(); ++i) {
    CHECK(copies[i] == texts[i]);
    CHECK(copies[i].data() != texts[i].data());
  }
  CHECK(arena.copy("").empty());
  arena.free_text(copies[2]);
  const std::string_view again = arena.copy(std::string(35, 'r'));  // the same class as the 33 bytes
  CHECK(again.data() == copies[2].data());
  CHECK(again == std::string(35, 'r'));
  for (std::size_t i = 0; i < texts.size(); ++i)
    if (i != 2) CHECK(copies[i] == texts[i]);
  arena.free_text(copies[4]);
  arena.clear();
  const std::string_view after = arena.copy("after clear");
  CHECK(after == "after clear");
}
