#include "util/hash.h"

#include <sys/random.h>

#include <chrono>
#include <cstdlib>

namespace ta {
namespace {

std::uint64_t splitmix(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

HashKey make_hash_key() {
  std::uint64_t state = 0;
  if (const char* fixed = std::getenv("TA_HASH_KEY"); fixed && *fixed) {
    state = std::strtoull(fixed, nullptr, 0);
  } else if (getrandom(&state, sizeof state, 0) != static_cast<ssize_t>(sizeof state)) {
    // No entropy source (a very old kernel): the clock and an address still
    // differ from run to run.
    state = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
            reinterpret_cast<std::uintptr_t>(&state);
  }
  HashKey k{};
  k.a = splitmix(state);
  k.b = splitmix(state);
  k.seed = splitmix(state);
  k.mix = splitmix(state);
  return k;
}

}  // namespace

const HashKey hash_key = make_hash_key();

}  // namespace ta
