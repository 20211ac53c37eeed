// The input seam's front: reads JSON text of any format into a RecordSink.
// A native line goes to the native parser alone (its fast path); a line
// that parser does not take, a line of another format, and every value of a
// whole document (JSON values one after another, pretty-printed or not)
// are parsed into a json::Tree and handed to the adapter that recognises
// them (formats/detect.h), or to the one --input-format names.
#pragma once

#include <string>
#include <string_view>

#include "parse/formats/adapter.h"
#include "parse/formats/detect.h"
#include "parse/json_tree.h"
#include "parse/record_sink.h"
#include "parse/span_parser.h"

namespace ta {

// How an input's records are framed, judged from its first bytes.
enum class Framing : std::uint8_t { kLines, kDocument };
// `head`: the input's first bytes; `whole`: head is all of it. Lines
// unless the first value is an array or goes on past its first line.
Framing detect_framing(std::string_view head, bool whole);

class FormatReader {
 public:
  FormatReader(InputFormat forced, const ParseOptions& options);

  // One line. True when it was read as a span (`record`) by the native
  // parser; false when it was not, and then `sink` has had what the line
  // holds instead: its spans or rejections. `capacity` as SpanParser::parse.
  bool read_line(std::string_view line, std::size_t capacity, SpanRecord& record, RecordSink& sink);
  // A native line read where it lies (SpanParser::parse_in_place): its end
  // when it was read as a span (`record`), else nullptr, and nothing was
  // reported: the line is then to be found and given to read_line.
  const char* read_line_in_place(const char* p, const char* e, SpanRecord& record);

  // A whole document: every JSON value in it, one after another. `text`
  // must be followed by simdjson's padding of readable bytes; offsets given
  // to the sink are bytes into it, `lines` turns them into lines.
  void read_document(std::string_view text, const json::LineIndex& lines, RecordSink& sink);

 private:
  void read_value(json::Ref value, std::string_view text, std::size_t capacity, RecordSink& sink);
  void read_native(json::Ref value, std::string_view text, std::size_t capacity, RecordSink& sink);
  void read_native_object(json::Ref value, std::string_view text, std::size_t capacity, RecordSink& sink);
  // A Filebeat event around a span of another format (in `message` as
  // text, or decoded under `json`): true when it was one and was read.
  bool read_envelope(json::Ref value, RecordSink& sink);
  void read_adapter(InputFormat format, json::Ref value, RecordSink& sink);

  InputFormat forced_;
  SpanParser native_;
  SpanRecord record_;
  json::Tree tree_;
  json::Tree inner_;  // the span text inside a Filebeat event's message
  AdapterOptions adapter_;
};

// Why a value no adapter recognises is not a span, e.g. "not a span of a
// known format: an object with keys \"a\", \"b\"".
std::string unknown_value_reason(json::Ref value);

}  // namespace ta
