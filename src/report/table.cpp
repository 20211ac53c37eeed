#include "report/table.h"

#include <algorithm>

#include "util/printable.h"

namespace ta {

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
  for (const Column& col : columns_) head.push_back(printable(col.title));  // a --group-by field names one
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
