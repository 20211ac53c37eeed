// Human units for durations and sizes, shared by reports and messages.
#pragma once

#include <cstdint>
#include <string>

#include "store/span.h"

namespace ta {

// "0µs", "850µs", "12.5ms", "1.20s", "3m05s": three significant digits.
std::string human_duration(Nanos ns);
// "512B", "1.5KiB", "2.0MiB", "1.1GiB".
std::string human_bytes(std::uint64_t bytes);

}  // namespace ta
