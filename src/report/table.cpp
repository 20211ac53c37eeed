#include "report/table.h"

#include <algorithm>

#include "util/utf8.h"

namespace ta {

namespace {

// The length of the UTF-8 sequence at s[i] when it is well formed and shows
// as text, else 0: a control (C0, DEL, C1), a bidirectional control (which
// reorders what follows it on screen), or bytes that are not UTF-8.
std::size_t shown_length(std::string_view s, std::size_t i) {
  const Utf8Char ch = utf8_char(s, i);
  const std::uint32_t cp = ch.code_point;
  const bool control = cp < 0x20 || (cp >= 0x7f && cp < 0xa0);  // C0, DEL, C1
  const bool bidi = cp == 0x61c || cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
                    (cp >= 0x2066 && cp <= 0x2069);
  return control || bidi ? 0 : ch.length;
}

}  // namespace

bool all_printable(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = shown_length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string printable(std::string_view s, bool keep_colour) {
  std::string out;
  out.reserve(s.size());
  static const char* hex = "0123456789abcdef";
  for (std::size_t i = 0; i < s.size();) {
    if (const std::size_t n = shown_length(s, i)) {
      out.append(s.substr(i, n));
      i += n;
      continue;
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (keep_colour && c == 0x1b && i + 1 < s.size() && s[i + 1] == '[') {
      std::size_t j = i + 2;
      while (j < s.size() && ((s[j] >= '0' && s[j] <= '9') || s[j] == ';')) ++j;
      if (j < s.size() && s[j] == 'm') {
        out.append(s.substr(i, j - i + 1));
        i = j + 1;
        continue;
      }
    }
    // A whole character that may not be shown as itself is named by its
    // code point; a byte that is no character, by its value.
    if (c >= 0xc2 && c <= 0xf4) {
      std::size_t n = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
      bool whole = i + n <= s.size();
      std::uint32_t cp = c & (0x3f >> (n - 1));
      for (std::size_t k = 1; whole && k < n; ++k) {
        const auto d = static_cast<unsigned char>(s[i + k]);
        whole = (d & 0xc0) == 0x80;
        cp = cp << 6 | (d & 0x3f);
      }
      if (whole && cp <= 0x10ffff) {
        out += "\\u{";
        bool any = false;
        for (int shift = 20; shift >= 0; shift -= 4) {
          const unsigned digit = (cp >> shift) & 15;
          if (!any && digit == 0 && shift > 12) continue;
          any = true;
          out += hex[digit];
        }
        out += '}';
        i += n;
        continue;
      }
    }
    out += "\\x";
    out += hex[c >> 4];
    out += hex[c & 15];
    ++i;
  }
  return out;
}

std::size_t display_width(std::string_view s) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == 0x1b) {  // colour escape: ESC [ ... m takes no room
      while (i < s.size() && s[i] != 'm') ++i;
      continue;
    }
    n += (c & 0xC0) != 0x80;
  }
  return n;
}

std::string clip(std::string_view s, std::size_t width) {
  if (display_width(s) <= width) return std::string(s);
  std::string out;
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80 && ++n > width - 1) break;
    out += s[i];
  }
  return out + "…";
}

std::string pad(std::string_view s, std::size_t width, Table::Align align) {
  const std::size_t w = display_width(s);
  if (w >= width) return std::string(s);
  const std::string fill(width - w, ' ');
  return align == Table::kLeft ? std::string(s) + fill : fill + std::string(s);
}

void Table::write_text(Output& out, std::string_view indent) const {
  std::vector<std::vector<std::string>> rows;
  rows.reserve(rows_.size() + 1);
  std::vector<std::string> head;
  for (const Column& col : columns_) head.push_back(col.title);
  rows.push_back(std::move(head));
  for (const auto& row : rows_) {
    std::vector<std::string> r;
    for (std::size_t c = 0; c < columns_.size(); ++c) r.push_back(c < row.size() ? printable(row[c], true) : "");
    rows.push_back(std::move(r));
  }
  std::vector<std::size_t> widths(columns_.size(), 0);
  for (const auto& row : rows)
    for (std::size_t c = 0; c < columns_.size(); ++c) widths[c] = std::max(widths[c], display_width(row[c]));
  for (const auto& row : rows) {
    std::string text(indent);
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      const bool last = c + 1 == columns_.size();
      text += (last && columns_[c].align == kLeft) ? row[c] : pad(row[c], widths[c], columns_[c].align);
      if (!last) text += "  ";
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out.print("{}\n", text);
  }
}

// A cell as Markdown shows it. Data from the input is text, never markup:
// in a code span (`...`, as the reports write ids) nothing but `|` (which
// would end the cell) is read as markup; elsewhere every character that
// can start markup or HTML mid-line (`<img onerror=…>`, `[a](url)`,
// `&entity;`, emphasis) is escaped with a backslash.
std::string markdown_cell(std::string_view raw) {
  const std::string s = printable(raw);
  const bool code = s.size() >= 2 && s.front() == '`' && s.back() == '`' &&
                    s.find('`', 1) == s.size() - 1;
  std::string v;
  for (char ch : s) {
    if (ch == '|') {
      v += "\\|";
    } else if (!code && std::string_view("\\`*_[]<>&~").find(ch) != std::string_view::npos) {
      v += '\\';
      v += ch;
    } else {
      v += ch;
    }
  }
  return v;
}

void Table::write_markdown(Output& out) const {
  auto cell = [](std::string_view raw) { return markdown_cell(raw); };
  std::string head = "|", rule = "|";
  for (const auto& col : columns_) {
    head += " " + cell(col.title) + " |";
    rule += col.align == kRight ? " ---: |" : " --- |";
  }
  out.print("{}\n{}\n", head, rule);
  for (const auto& row : rows_) {
    std::string text = "|";
    for (std::size_t c = 0; c < columns_.size(); ++c) text += " " + cell(c < row.size() ? row[c] : "") + " |";
    out.print("{}\n", text);
  }
}

}  // namespace ta
