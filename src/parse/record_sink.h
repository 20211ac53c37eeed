// The input seam: every format adapter hands what it read to a RecordSink,
// one span record or one rejection at a time. Batch and live mode each give
// their own sink; the adapters do not know which.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "parse/span_record.h"

namespace ta {

class RecordSink {
 public:
  virtual ~RecordSink() = default;
  // One span. `offset` is the byte where its object starts in the text the
  // adapter was given (the caller turns it into a line). The record's views
  // die when this returns.
  virtual void span(const SpanRecord& record, std::size_t offset) = 0;
  // One record that could not be read as a span, with why.
  virtual void reject(std::size_t offset, std::string reason) = 0;
  // A record folded into a span handed over before (a Zipkin fragment, a
  // repeated half): counted as a duplicate, so the records still add up.
  virtual void merged(std::size_t offset) = 0;
  // Something the user should know about the input as a whole, said once
  // (e.g. "Zipkin: trace 0123… (16 hex) joined to …0123… (32 hex)").
  virtual void note(std::string message) { (void)message; }
};

}  // namespace ta
