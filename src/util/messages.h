// Messages on stderr in one shape: "trace-assemble: error: FILE:LINE: message".
#pragma once

#include <string_view>

namespace ta {

void print_error(std::string_view message);
void print_warning(std::string_view message);
// Something about the input as a whole, said once (e.g. trace ids joined).
void print_note(std::string_view message);
// As it is (a progress line redrawn in place). Like the others, never fails:
// a closed or full stderr loses the message, not the run.
void print_raw(std::string_view text);

}  // namespace ta
