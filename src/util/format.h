// Human units for durations and sizes, shared by reports and messages.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/basic_types.h"

namespace ta {

// "0µs", "850µs", "12.5ms", "1.20s", "3m05s": three significant digits.
std::string human_duration(Nanos ns);
// "1 span", "3 spans".
std::string plural(std::uint64_t n, std::string_view noun);
// "512B", "1.5KiB", "2.0MiB", "1.1GiB".
std::string human_bytes(std::uint64_t bytes);

}  // namespace ta
