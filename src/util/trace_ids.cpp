#include "util/trace_ids.h"

#include <fmt/format.h>

#include <algorithm>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace ta {

namespace {

std::string_view shape_name(std::string_view id) { return id.size() == 16 ? "16 hex" : "32 hex, high half zero"; }

std::string apart_note(std::string_view id, std::vector<std::string_view> longs) {
  std::sort(longs.begin(), longs.end());
  constexpr std::size_t kListed = 3;
  std::string list;
  for (std::size_t i = 0; i < std::min(longs.size(), kListed); ++i)
    list += fmt::format("{}{}", i ? ", " : "", longs[i]);
  if (longs.size() > kListed) list += ", ...";
  return fmt::format("trace {} ({}) not joined: {} 32-hex trace ids end in its low 64 bits ({})", id, shape_name(id),
                     longs.size(), list);
}

#if defined(__SSE2__)
// 16 bytes at p: a bit per byte that is a hex digit (either case).
unsigned hex_bits(const char* p) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  // Signed compares: bytes of 0x80 and more are negative, below every bound.
  const __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)), _mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1)));
  const __m128i lower = _mm_or_si128(v, _mm_set1_epi8(0x20));  // 'A'-'F' -> 'a'-'f', nothing else lands there
  const __m128i letter =
      _mm_and_si128(_mm_cmpgt_epi8(lower, _mm_set1_epi8('a' - 1)), _mm_cmplt_epi8(lower, _mm_set1_epi8('f' + 1)));
  return static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(digit, letter)));
}
bool zeros16(const char* p) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('0'))) == 0xFFFF;
}
bool all_hex(std::string_view id) {
  // Called for every span in live mode: 16 bytes at a time (sizes 16 or 32).
  for (std::size_t i = 0; i < id.size(); i += 16)
    if (hex_bits(id.data() + i) != 0xFFFF) return false;
  return true;
}
#else
bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool zeros16(const char* p) { return std::all_of(p, p + 16, [](char c) { return c == '0'; }); }
bool all_hex(std::string_view id) { return std::all_of(id.begin(), id.end(), is_hex); }
#endif

}  // namespace

TraceIdHalves trace_id_halves(std::string_view id) {
  if ((id.size() != 16 && id.size() != 32) || !all_hex(id)) return {};
  const std::string_view low = id.substr(id.size() - 16);
  if (id.size() == 16 || zeros16(id.data())) return {TraceIdHalves::kShort, low};
  return {TraceIdHalves::kLong, low};
}

std::string joined_trace_note(std::string_view from, std::string_view into) {
  return from.size() == 16
             ? fmt::format("trace {} (16 hex) joined to {} (32 hex), whose low 64 bits it is", from, into)
             : fmt::format("trace {} ({}) joined to {} (32 hex), whose low 64 bits are the same", from,
                           shape_name(from), into);
}

void join_low_half(std::span<const std::string_view> ids, std::span<std::uint32_t> into,
                   std::vector<std::string>& notes) {
  constexpr std::uint32_t kAbsent = UINT32_MAX;
  std::uint32_t sixteen = kAbsent, zero = kAbsent;  // the 16-digit id, the 32-digit one with a zero high half
  std::vector<std::string_view> longs;
  std::uint32_t the_long = kAbsent;
  for (std::uint32_t i = 0; i < ids.size(); ++i) {
    into[i] = i;
    if (ids[i].size() == 16) {
      sixteen = i;
    } else if (trace_id_halves(ids[i]).shape == TraceIdHalves::kShort) {
      zero = i;
    } else {
      longs.push_back(ids[i]);
      the_long = i;
    }
  }
  auto join = [&](std::uint32_t from, std::uint32_t to) {
    if (from == kAbsent) return;
    into[from] = to;
    notes.push_back(joined_trace_note(ids[from], ids[to]));
  };
  if (longs.size() == 1) {
    join(sixteen, the_long);
    join(zero, the_long);
    return;
  }
  if (zero != kAbsent) join(sixteen, zero);  // the same id, as Zipkin trims it
  const std::uint32_t apart = zero != kAbsent ? zero : sixteen;
  if (longs.size() > 1 && apart != kAbsent) notes.push_back(apart_note(ids[apart], std::move(longs)));
}

void TraceJoinNotes::add(std::string note) {
  ++count;
  first.push_back(std::move(note));
  if (first.size() >= keep * 8 + 64) trim();  // in batches: linear overall
}

void TraceJoinNotes::take(TraceJoinNotes& other) {
  count += other.count;
  for (std::string& note : other.first) first.push_back(std::move(note));
  other = TraceJoinNotes{};
  trim();
}

void TraceJoinNotes::trim() {
  if (first.size() > keep) {
    std::nth_element(first.begin(), first.begin() + static_cast<std::ptrdiff_t>(keep), first.end());
    first.resize(keep);
  }
  std::sort(first.begin(), first.end());
}

std::vector<std::string> TraceJoinNotes::lines() const {
  TraceJoinNotes listed = *this;
  listed.trim();
  std::vector<std::string> out = std::move(listed.first);
  if (count > out.size())
    out.push_back(fmt::format("{} more trace ids joined, or left apart, by their low 64 bits (not listed)",
                              count - out.size()));
  return out;
}

namespace {

// An id of 1 to 32 hex digits (either case) as the adapters write ids: lower
// case, zeros in front to 16 or 32 digits; empty when the id is not one.
std::string_view hex_form(std::string_view id, char (&out)[32]) {
  if (id.empty() || id.size() > 32) return {};
  const std::size_t n = id.size() <= 16 ? 16 : 32, pad = n - id.size();
  std::fill(out, out + pad, '0');
  for (std::size_t i = 0; i < id.size(); ++i) {
    const char c = id[i], lower = static_cast<char>(c | 0x20);
    if (c >= '0' && c <= '9') {
      out[pad + i] = c;
    } else if (lower >= 'a' && lower <= 'f') {
      out[pad + i] = lower;
    } else {
      return {};
    }
  }
  return {out, n};
}

}  // namespace

bool trace_id_names(std::string_view asked, std::string_view id) {
  if (asked == id) return true;
  // The asked id as the adapters write ids: `--trace` takes an id as the
  // file shows it (Jaeger's trimmed leading zeros, upper case). A trace's
  // own id is only lowered: a native "0001" is not "0000000000000001".
  char asked_form[32], id_form[32];
  const std::string_view a = hex_form(asked, asked_form);
  const std::string_view t = id.size() == 16 || id.size() == 32 ? hex_form(id, id_form) : std::string_view();
  if (a.empty() || t.empty()) return false;
  if (a == t) return true;
  const TraceIdHalves ah = trace_id_halves(a);
  if (ah.shape != TraceIdHalves::kShort) return false;
  const TraceIdHalves th = trace_id_halves(t);
  return th.shape != TraceIdHalves::kOther && ah.low == th.low;
}

}  // namespace ta
