// Messages on stderr in one shape: "trace-assemble: error: FILE:LINE: message".
#pragma once

#include <string_view>

namespace ta {

void print_error(std::string_view message);
void print_warning(std::string_view message);

}  // namespace ta
