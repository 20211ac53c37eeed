// Text from outside (ids, labels, file names, excerpts of input lines) made
// safe for a terminal, for the reports and for the messages on stderr alike.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ta {

// One-byte controls (C0, DEL) and bytes that are not UTF-8 are shown as
// \xNN, C1 and bidirectional controls as \u{XXXX}: so data cannot move the
// cursor, clear the screen, break lines or reorder what is shown after it,
// and the result is always valid UTF-8. Colour codes (ESC [ digits m) are
// kept when keep_colour is set.
std::string printable(std::string_view s, bool keep_colour = false);
// True for a code point that acts on a terminal instead of showing: a
// control (C0, DEL, C1) or a bidirectional control (which reorders what
// follows it on screen).
bool terminal_control(std::uint32_t code_point);
// True when printable(s) would be s.
bool all_printable(std::string_view s);

}  // namespace ta
