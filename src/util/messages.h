// Messages on stderr in one shape: "trace-assemble: error: FILE:LINE: message".
#pragma once

#include <string_view>

namespace ta {

void print_error(std::string_view message);
void print_warning(std::string_view message);
// Something about the input as a whole, said once (e.g. trace ids joined).
void print_note(std::string_view message);

}  // namespace ta
