#include "report/table.h"

#include <algorithm>

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
  std::vector<std::size_t> widths(columns_.size());
  for (std::size_t c = 0; c < columns_.size(); ++c) widths[c] = display_width(columns_[c].title);
  for (const auto& row : rows_)
    for (std::size_t c = 0; c < row.size() && c < widths.size(); ++c)
      widths[c] = std::max(widths[c], display_width(row[c]));
  auto line = [&](auto cell) {
    std::string text(indent);
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      const bool last = c + 1 == columns_.size();
      std::string v = cell(c);
      text += (last && columns_[c].align == kLeft) ? v : pad(v, widths[c], columns_[c].align);
      if (!last) text += "  ";
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out.print("{}\n", text);
  };
  line([&](std::size_t c) { return columns_[c].title; });
  for (const auto& row : rows_) line([&](std::size_t c) { return c < row.size() ? row[c] : std::string(); });
}

void Table::write_markdown(Output& out) const {
  auto cell = [](std::string_view s) {
    std::string v;
    for (char ch : s) {
      if (ch == '|') v += "\\|";
      else if (ch == '\n') v += ' ';
      else v += ch;
    }
    return v;
  };
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
