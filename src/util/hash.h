// One fast hash for ids and labels (XXH3, header-only).
#pragma once

#define XXH_INLINE_ALL
// SSE2 kernels: the AVX-512 ones trip GCC's uninitialised-use warnings under
// -march=native, and the inputs here (ids, span records) are short anyway.
#define XXH_VECTOR 1
#include <xxhash.h>

#include <cstdint>
#include <string_view>

namespace ta {

inline std::uint64_t hash_bytes(std::string_view s) { return XXH3_64bits(s.data(), s.size()); }

}  // namespace ta
