// Spans are kept encoded, one compact byte record after another in their
// trace's blob: varints, times relative to the trace's first span, labels
// as symbols. A span costs tens of bytes instead of a hundred and more as
// structs, which is what keeps memory well below the input size.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "parse/span_record.h"
#include "store/span.h"
#include "store/symbols.h"

namespace ta {

// Appends one span. `base` is the trace's time origin.
void encode_span(const SpanRecord& r, std::uint32_t file, std::uint32_t line, Nanos base, SymbolTable& symbols,
                 std::vector<std::uint8_t>& blob);

// Decodes every span of a blob: Span/Call structs with ids copied into
// `text`. Span::content_hash is the hash of the record's content (location
// excluded), so one line delivered twice decodes to equal hashes.
void decode_spans(const std::vector<std::uint8_t>& blob, Nanos base, std::vector<Span>& spans,
                  std::vector<Call>& calls, std::string& text);

}  // namespace ta
