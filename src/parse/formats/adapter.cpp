#include "parse/formats/adapter.h"

namespace ta {

std::string_view lower_hex_id(std::string_view id, Scratch& scratch) {
  bool upper = false;
  for (char c : id) {
    if (c >= 'A' && c <= 'F') {
      upper = true;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return id;  // not hex: kept as it is
    }
  }
  if (!upper) return id;
  std::string lower(id);
  for (char& c : lower)
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  return scratch.keep(std::move(lower));
}

}  // namespace ta
