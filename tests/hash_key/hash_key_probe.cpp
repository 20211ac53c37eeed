// Prints what the process's hash key makes of a few fixed texts: two runs
// print the same only when TA_HASH_KEY fixes the key (tests/hash_key/check.sh).
#include <cstdio>

#include "store/symbols.h"
#include "util/hash.h"

int main() {
  std::printf("%016llx %016llx %016llx %016llx\n",
              static_cast<unsigned long long>(ta::hash_bytes("0123456789abcdef")),
              static_cast<unsigned long long>(ta::hash_bytes("a trace id longer than sixteen bytes")),
              static_cast<unsigned long long>(ta::symbol_key::mix(0x3130312e302e3031ull, 0, 10)),
              static_cast<unsigned long long>(ta::hash_number(42)));
}
