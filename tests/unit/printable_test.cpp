// Text from outside as the terminal is given it, in reports and messages
// (util/printable.h).
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cstdint>
#include <string>

#include "util/printable.h"

using ta::all_printable;
using ta::printable;

TEST_CASE("printable: text that shows as itself is kept, byte for byte") {
  for (const std::string s : {"", "web GET /users", "café ✓ 東京", "emoji 🙂", "tab-free ~!@#$%^&*()"}) {
    CHECK(all_printable(s));
    CHECK(printable(s) == s);
  }
}

TEST_CASE("printable: C0, DEL and C1 controls are named, not sent") {
  CHECK(printable("a\x1b[2Jb") == "a\\x1b[2Jb");
  CHECK(printable("line\nbreak\r") == "line\\x0abreak\\x0d");
  CHECK(printable("del\x7f") == "del\\x7f");
  // C1: U+009B is a CSI on terminals that read 8-bit controls.
  CHECK(printable("x\xc2\x9b" "2Jy") == "x\\u{009b}2Jy");
  CHECK(printable("\xc2\x85") == "\\u{0085}");
  CHECK_FALSE(all_printable("x\xc2\x9b"));
}

TEST_CASE("printable: bidirectional controls cannot reorder what follows") {
  // U+202E RIGHT-TO-LEFT OVERRIDE, U+2066 LEFT-TO-RIGHT ISOLATE, U+200F RLM.
  CHECK(printable("admin\xe2\x80\xae" "cod.exe") == "admin\\u{202e}cod.exe");
  CHECK(printable("\xe2\x81\xa6x\xe2\x81\xa9") == "\\u{2066}x\\u{2069}");
  CHECK(printable("\xe2\x80\x8f") == "\\u{200f}");
  CHECK(printable("\xd8\x9c") == "\\u{061c}");
  CHECK(printable("\xe2\x80\x8b") == "\xe2\x80\x8b");  // a zero-width space reorders nothing
}

TEST_CASE("printable: bytes that are not UTF-8 are shown by value") {
  CHECK(printable("a\xff" "b") == "a\\xffb");
  CHECK(printable("\xc3") == "\\xc3");                  // cut short
  CHECK(printable("\xc0\xaf") == "\\xc0\\xaf");         // overlong '/'
  CHECK(printable("\xed\xa0\x80") == "\\u{d800}");      // a surrogate: whole, but no character
  CHECK(printable("\xe0\x80\xaf") == "\\u{002f}");      // overlong, three bytes
  CHECK_FALSE(all_printable("\xff"));
}

TEST_CASE("printable: colour codes are kept only when asked") {
  CHECK(printable("\x1b[31mred\x1b[0m", true) == "\x1b[31mred\x1b[0m");
  CHECK(printable("\x1b[31mred\x1b[0m", false) == "\\x1b[31mred\\x1b[0m");
  CHECK(printable("\x1b[31;1x", true) == "\\x1b[31;1x");
}

namespace {

// The UTF-8 bytes of one code point (below U+10000 is all these tests need).
std::string utf8(std::uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xc0 | cp >> 6);
    s += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    s += static_cast<char>(0xe0 | cp >> 12);
    s += static_cast<char>(0x80 | (cp >> 6 & 0x3f));
    s += static_cast<char>(0x80 | (cp & 0x3f));
  }
  return s;
}

}  // namespace

TEST_CASE("printable: every control of every class is escaped, its neighbours are not") {
  for (std::uint32_t cp = 0; cp < 0x20; ++cp) {  // C0
    CAPTURE(cp);
    CHECK(printable("a" + utf8(cp) + "b") == fmt::format("a\\x{:02x}b", cp));
  }
  CHECK(printable(utf8(0x7f)) == "\\x7f");  // DEL
  for (std::uint32_t cp = 0x80; cp < 0xa0; ++cp) {  // C1
    CAPTURE(cp);
    CHECK(printable("a" + utf8(cp) + "b") == fmt::format("a\\u{{{:04x}}}b", cp));
  }
  const std::uint32_t bidi[] = {0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c,
                                0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069};
  for (const std::uint32_t cp : bidi) {
    CAPTURE(cp);
    CHECK(printable("a" + utf8(cp) + "b") == fmt::format("a\\u{{{:04x}}}b", cp));
    CHECK_FALSE(all_printable(utf8(cp)));
  }
  const std::uint32_t shown[] = {0x20, 0x7e, 0xa0, 0x061b, 0x061d, 0x200d, 0x2010, 0x2029, 0x202f, 0x2065, 0x206a};
  for (const std::uint32_t cp : shown) {
    CAPTURE(cp);
    CHECK(printable(utf8(cp)) == utf8(cp));
    CHECK(all_printable(utf8(cp)));
  }
}

TEST_CASE("printable: what it gives is printable, so escaping twice changes nothing") {
  const std::string hostile = "x \xc2\x9b" "2J \xe2\x80\xae\x1b[31m\xff\xc3\n\t\x7f";
  const std::string once = printable(hostile);
  CHECK(once == "x \\u{009b}2J \\u{202e}\\x1b[31m\\xff\\xc3\\x0a\\x09\\x7f");
  CHECK(all_printable(once));
  CHECK(printable(once) == once);
}
