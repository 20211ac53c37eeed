// Messages on stderr in one shape: "trace-assemble: error: FILE:LINE: message".
// A message often holds text from outside (a file name, an excerpt of a
// line, an id): every one is made printable (util/printable.h) as it is
// written, so none can reach the terminal as controls.
#pragma once

#include <string>
#include <string_view>

namespace ta {

void print_error(std::string_view message);
void print_warning(std::string_view message);
// Something about the input as a whole, said once (e.g. trace ids joined).
void print_note(std::string_view message);
// As it is (a progress line redrawn in place): only for text the program
// wrote itself. Like the others, never fails: a closed or full stderr loses
// the message, not the run.
void print_raw(std::string_view text);

// The line print_error and the others write: "trace-assemble: KIND: " and
// the message made printable, then a line break.
std::string message_line(std::string_view kind, std::string_view message);

}  // namespace ta
