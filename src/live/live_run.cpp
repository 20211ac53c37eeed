#include "live/live_run.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <thread>

#include "live/live_assembler.h"
#include "read/byte_source.h"
#include "read/ingest.h"
#include "read/peeked_source.h"
#include "store/span_details.h"
#include "read/line_reader.h"
#include "report/report.h"
#include "run/run.h"
#include "util/blocking_queue.h"
#include "util/format.h"
#include "util/messages.h"
#include "util/stop.h"

namespace ta {
namespace {

// Values kept exactly per distribution before the summary switches to
// log-scaled buckets (sample.h).
constexpr std::size_t kExactValues = 1024;
constexpr std::size_t kChunkBytes = 1 << 20;
constexpr useconds_t kIdleWait = 200'000;
constexpr std::size_t kChunksPerTurn = 16;

// One input being read: stdin and .gz files to their end; other files are
// followed as they grow, and reopened when replaced or truncated (tail -F).
struct Input {
  std::string path;
  std::uint32_t file = 0;
  std::unique_ptr<ByteSource> source;
  std::unique_ptr<PeekedSource> peeked;
  std::unique_ptr<LineReader> reader;
  bool follow = false;
  bool done = false;
  bool document = false;       // a whole JSON document: read at once, not followed
  bool document_read = false;
  std::uint64_t bytes_before = 0;  // of earlier incarnations of the file

  bool open(std::size_t max_line, std::string& error) {
    source = open_input(path, error);
    if (!source) return false;
    peeked = std::make_unique<PeekedSource>(*source);
    if (!peeked->peek()) {
      error = source->error();
      return false;
    }
    document = detect_framing(peeked->head(), peeked->at_end()) == Framing::kDocument;
    document_read = false;
    reader = std::make_unique<LineReader>(*peeked, kChunkBytes, max_line);
    // Only regular files grow: a FIFO or <(cmd) ends like stdin.
    follow = !document && path != "-" && !source->compressed() && source->identity().regular;
    reader->set_follow(follow);
    return true;
  }
  std::uint64_t bytes() const { return bytes_before + (source ? source->raw_bytes() : 0); }
  // The name now points at another file, or this one was cut shorter.
  bool replaced() const {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return false;  // gone for now: keep reading what is open
    const ByteSource::Identity& open = source->identity();
    return st.st_dev != open.dev || st.st_ino != open.ino ||
           static_cast<std::uint64_t>(st.st_size) < source->raw_bytes();
  }
};

// A chunk's lines as the parsing thread read them, in input order: spans
// (their text copied out of the parser's buffers) and rejections, for the
// thread that assembles.
struct ParsedChunk {
  struct Item {
    std::uint64_t line = 0;
    std::uint32_t reason = kNone;  // index in reasons when the line was rejected, else kNone
    TextRef trace_id, span_id, parent_id, host, service, operation, group;
    Nanos start = 0, duration = 0;
    std::uint32_t calls_begin = 0, calls_count = 0;
    std::int16_t http_code = kNoCode;
    TextRef details;  // a richer format's, as codec::put_details writes them
  };
  struct CallItem {
    TextRef span_id, host;
    Nanos start = 0, duration = 0;
    std::int16_t http_code = kNoCode;
  };
  // Each text of a record and where an Item keeps its copy.
  static constexpr std::pair<std::string_view SpanRecord::*, TextRef Item::*> kTexts[] = {
      {&SpanRecord::trace_id, &Item::trace_id},   {&SpanRecord::span_id, &Item::span_id},
      {&SpanRecord::parent_id, &Item::parent_id}, {&SpanRecord::host, &Item::host},
      {&SpanRecord::service, &Item::service},     {&SpanRecord::operation, &Item::operation},
      {&SpanRecord::group, &Item::group}};
  std::uint32_t file = 0;
  std::uint64_t lines = 0, blank = 0, merged = 0;
  std::vector<std::string> notes;
  std::string text;
  std::vector<Item> items;
  std::vector<CallItem> calls;
  std::vector<std::string> reasons;

  void clear(std::uint32_t file_index) {
    file = file_index;
    lines = blank = merged = 0;
    notes.clear();
    text.clear();
    items.clear();
    calls.clear();
    reasons.clear();
  }
  TextRef put(std::string_view s) {
    const TextRef r{static_cast<std::uint32_t>(text.size()), static_cast<std::uint32_t>(s.size())};
    text.append(s);
    return r;
  }
  void add_span(std::uint64_t line, const SpanRecord& r) {
    Item& it = items.emplace_back();
    it.line = line;
    for (const auto& [text_of, ref] : kTexts) it.*ref = put(r.*text_of);
    it.start = r.start;
    it.duration = r.duration;
    it.http_code = r.http_code;
    it.calls_begin = static_cast<std::uint32_t>(calls.size());
    it.calls_count = static_cast<std::uint32_t>(r.calls.size());
    for (const CallRecord& c : r.calls) calls.push_back({put(c.span_id), put(c.host), c.start, c.duration, c.http_code});
    if (r.has_details()) {
      std::string bytes(codec::details_size(r), '\0');
      auto* b = reinterpret_cast<std::uint8_t*>(bytes.data());
      bytes.resize(static_cast<std::size_t>(codec::put_details(b, r) - b));
      it.details = put(bytes);
    }
  }
  void add_rejection(std::uint64_t line, std::string reason) {
    Item& it = items.emplace_back();
    it.line = line;
    it.reason = static_cast<std::uint32_t>(reasons.size());
    reasons.push_back(std::move(reason));
  }
  // The span of `it` as a record whose views point into this chunk.
  void record(const Item& it, SpanRecord& r) const {
    auto view = [this](TextRef t) { return std::string_view(text.data() + t.offset, t.length); };
    for (const auto& [text_of, ref] : kTexts) r.*text_of = view(it.*ref);
    r.start = it.start;
    r.duration = it.duration;
    r.http_code = it.http_code;
    r.calls.clear();
    for (std::uint32_t k = it.calls_begin; k < it.calls_begin + it.calls_count; ++k) {
      const CallItem& c = calls[k];
      r.calls.push_back({view(c.span_id), c.start, c.duration, view(c.host), c.http_code});
    }
    r.clear_details();
    if (it.details.length) read_details(view(it.details), r);
  }
  // Back from put_details's bytes: the head, then the payload.
  void read_details(std::string_view bytes, SpanRecord& r) const {
    const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
    const std::uint8_t head = *p++;
    r.kind = static_cast<SpanKind>(head & 7);
    r.status = static_cast<StatusCode>((head >> 3) & 3);
    r.shared = (head >> 5) & 1;
    r.parent_link = static_cast<LinkType>((head >> 6) & 3);
    const std::size_t n = codec::get(p);
    decode_details(std::string_view(reinterpret_cast<const char*>(p), n), r.start, details_);
    r.status_message = details_.status_message;
    r.attributes = details_.attributes;
    r.events = details_.events;
    r.event_attributes = details_.event_attributes;
    r.links = details_.links;
  }
  mutable SpanDetails details_;
};

class LiveRun {
 public:
  explicit LiveRun(const Config& config)
      : config_(config),
        parser_(config.input_format, ingest_options(config).parse),
        assembler_(LiveOptions{config.window, config.max_open_traces, config.max_trace_spans,
                               AssembleOptions{config.adjust_skew}},
                   [this](ShownTrace& t, Emit why) { write(t, why); }),
        analysis_(config, assembler_.symbols(), kExactValues),
        out_(STDOUT_FILENO) {}

  ExitCode run(std::chrono::steady_clock::time_point started) {
    std::vector<Input> inputs(config_.inputs.size());
    for (std::uint32_t i = 0; i < inputs.size(); ++i) {
      inputs[i].path = config_.inputs[i];
      inputs[i].file = i;
      stats_.files.push_back(display_name(inputs[i].path));
      std::string error;
      if (!inputs[i].open(config_.max_line_bytes, error)) {
        stats_.read_errors.push_back(fmt::format("{}: {}", stats_.files[i], error));
        print_error(stats_.read_errors.back());
        inputs[i].done = true;
      }
    }
    // One thread reads (and waits on quiet inputs), one parses, and this one
    // assembles and writes. Whenever it has nothing to do it flushes stdout,
    // so no finished trace waits in a buffer while the input is quiet.
    for (std::size_t i = 0; i < kBuffers; ++i) spare_.push({});
    for (std::size_t i = 0; i < kBuffers; ++i) parsed_spare_.push({});
    std::thread reader([&] { read_loop(inputs); });
    std::thread parser([&] { parse_loop(); });
    struct Join {  // also when writing fails (a closed pipe)
      std::thread& reader;
      std::thread& parser;
      LiveRun& run;
      ~Join() {
        if (!parser.joinable()) return;
        request_stop();
        while (auto item = run.parsed_.pop()) run.parsed_spare_.push(std::move(*item));
        parser.join();
        reader.join();
      }
    } join{reader, parser, *this};
    for (;;) {
      auto item = parsed_.try_pop();
      if (!item) {
        out_.flush();
        item = parsed_.pop();
      }
      if (!item) break;
      take(*item);
      parsed_spare_.push(std::move(*item));
    }
    parser.join();
    reader.join();
    for (std::string& e : read_errors_) stats_.read_errors.push_back(std::move(e));
    for (const Input& in : inputs)
      if (in.reader && in.reader->stopped_bytes())
        print_warning(fmt::format("{}:{}: stopped in the middle of this line; its {} bytes so far are not counted",
                                  stats_.files[in.file], in.reader->next_line(), in.reader->stopped_bytes()));
    stats_.bytes = 0;
    for (const Input& in : inputs) stats_.bytes += in.bytes();
    const auto read_end = std::chrono::steady_clock::now();
    assembler_.flush_all();
    out_.flush();
    return summarize(started, read_end);
  }

 private:
  // The reading thread: every input in turn, what is there; waits when all
  // are quiet; ends when all have ended or a stop is requested.
  void read_loop(std::vector<Input>& inputs) {
    for (;;) {
      bool progressed = false, open = false;
      for (Input& in : inputs) {
        if (in.done) continue;
        if (drain(in)) {
          progressed = true;
          open = true;  // more may be there: come back to it
          continue;
        }
        if (stop_requested()) break;
        if (in.reader->waiting()) {
          open = true;
          if (in.replaced()) reopen(in);
          continue;
        }
        finish(in);
      }
      if (stop_requested() || !open) break;
      if (!progressed) ::usleep(kIdleWait);
    }
    work_.close();
  }

  // Hands what is there to the parsing thread, chunk by chunk; true when any
  // came.
  bool drain(Input& in) {
    if (in.document) return in.document_read ? false : read_document(in);
    bool any = false;
    LineChunk chunk;
    // At most kChunksPerTurn at a time, so one busy input does not keep the
    // others waiting.
    for (std::size_t n = 0; n < kChunksPerTurn && !stop_requested() && in.reader->next(chunk); ++n) {
      any = true;
      OwnedChunk item;
      item.bytes = std::move(*spare_.pop());
      item.assign(chunk, in.file);
      work_.push(std::move(item));
    }
    return any;
  }

  // A whole document, handed to the parsing thread at once.
  bool read_document(Input& in) {
    in.document_read = true;
    OwnedChunk item;
    item.bytes = std::move(*spare_.pop());
    item.bytes.clear();
    item.file = in.file;
    item.document = true;
    constexpr std::size_t kStep = 1 << 20;
    while (!stop_requested()) {
      const std::size_t at = item.bytes.size();
      if (at > config_.max_document_bytes) {
        read_errors_.push_back(fmt::format("{}: a whole JSON document (not one record per line) of more than {} is "
                                           "not read; raise --max-document-bytes, or write one record per line",
                                           stats_.files[in.file], human_bytes(config_.max_document_bytes)));
        print_error(read_errors_.back());
        item.bytes.clear();
        break;
      }
      item.bytes.resize(at + kStep);
      const std::ptrdiff_t n = in.peeked->read(item.bytes.data() + at, kStep);
      item.bytes.resize(at + static_cast<std::size_t>(std::max<std::ptrdiff_t>(n, 0)));
      if (n < 0) {
        read_errors_.push_back(fmt::format("{}: {}", stats_.files[in.file], in.peeked->error()));
        print_error(read_errors_.back());
        break;
      }
      if (n == 0) break;
    }
    item.document_size = item.bytes.size();
    item.document_lines = static_cast<std::uint64_t>(std::count(item.bytes.begin(), item.bytes.end(), '\n')) +
                          (!item.bytes.empty() && item.bytes.back() != '\n' ? 1 : 0);
    item.bytes.resize(item.bytes.size() + simdjson::SIMDJSON_PADDING, '\0');
    work_.push(std::move(item));
    return true;
  }

  // The file was replaced or truncated: take its last partial line, then
  // start over on what the name points at now.
  void reopen(Input& in) {
    while (drain(in)) {}  // what was written to the old file before it was replaced
    in.reader->end_input();
    while (drain(in)) {}
    in.bytes_before += in.source->raw_bytes();
    std::string error;
    in.reader.reset();
    in.source.reset();
    if (!in.open(config_.max_line_bytes, error)) {
      read_errors_.push_back(fmt::format("{}: {}", stats_.files[in.file], error));
      print_error(read_errors_.back());
      in.done = true;
    }
  }

  void finish(Input& in) {
    in.done = true;
    if (!in.reader->error().empty()) {
      read_errors_.push_back(fmt::format("{}: {}", stats_.files[in.file], in.reader->error()));
      print_error(read_errors_.back());
    }
  }

  void reject(std::uint32_t file, std::uint64_t line, std::string reason) {
    ++stats_.rejected;
    warn(file, line, reason);
    if (stats_.rejections.size() < 1000) stats_.rejections.push_back({file, line, std::move(reason)});
  }

  void warn(std::uint32_t file, std::uint64_t line, std::string_view reason) {
    if (warned_++ < config_.max_warnings) print_warning(fmt::format("{}:{}: {}", stats_.files[file], line, reason));
  }

  // The parsing thread: each chunk's lines into a ParsedChunk, in order.
  void parse_loop() {
    while (auto item = work_.pop()) {
      ParsedChunk out = std::move(*parsed_spare_.pop());
      out.clear(item->file);
      struct Out {
        ParsedChunk& chunk;
        void on_span(const SpanRecord& r, std::uint64_t line) { chunk.add_span(line, r); }
        void on_reject(std::uint64_t line, std::string reason) { chunk.add_rejection(line, std::move(reason)); }
        void on_merged(std::uint64_t) { ++chunk.merged; }
        void on_note(std::string message) { chunk.notes.push_back(std::move(message)); }
      } sink{out};
      if (item->document) {
        parse_document(std::string_view(item->bytes.data(), item->document_size), parser_, sink);
        out.lines += item->document_lines;
      } else {
        parse_chunk(item->chunk, parser_, record_, config_.max_line_bytes, out.lines, out.blank, sink);
      }
      spare_.push(std::move(item->bytes));
      parsed_.push(std::move(out));
    }
    parsed_.close();
  }

  // Files a parsed chunk's spans and rejections, in input order.
  void take(ParsedChunk& chunk) {
    stats_.lines += chunk.lines;
    stats_.blank_lines += chunk.blank;
    stats_.merged += chunk.merged;
    for (std::string& note : chunk.notes)
      if (stats_.notes.size() < 100) stats_.notes.push_back(std::move(note));
    const std::uint32_t file = chunk.file;
    for (const ParsedChunk::Item& it : chunk.items) {
      if (it.reason != kNone) {
        reject(file, it.line, std::move(chunk.reasons[it.reason]));
        continue;
      }
      chunk.record(it, span_);
      const auto where = static_cast<std::uint32_t>(std::min<std::uint64_t>(it.line, 0xffffffffu));
      switch (assembler_.add(span_, file, where)) {
        case LiveAssembler::Added::kSpan: ++stats_.spans_read; break;
        case LiveAssembler::Added::kLate:
          ++stats_.late_spans;
          warn(file, it.line,
               fmt::format("span {} of trace {} came after the trace was written; counted as late, not merged",
                           span_.span_id, span_.trace_id));
          break;
        case LiveAssembler::Added::kDropped:
          reject(file, it.line, full_trace_reason(span_.trace_id, config_.max_trace_spans));
          break;
      }
    }
  }

  void write(ShownTrace& t, Emit why) {
    analysis_.add(t.trace, t.self, t.on_path);
    if (!config_.trace_ids.empty()) {
      auto it = std::find(config_.trace_ids.begin(), config_.trace_ids.end(), t.trace.trace_id);
      if (it == config_.trace_ids.end()) return;
      found_.push_back(*it);
    }
    if (config_.format == Format::kJson) {
      write_json_trace_line(stats_.files, t, why, out_);
    } else {
      write_text_trace_line(t, why, config_.color, out_);
    }
    ++lines_written_;
  }

  ExitCode summarize(std::chrono::steady_clock::time_point started, std::chrono::steady_clock::time_point read_end) {
    Analysis a = analysis_.finish();
    a.missing_trace_ids.clear();  // the summary shows no traces; these are the ones never written
    for (const std::string& id : config_.trace_ids)
      if (std::find(found_.begin(), found_.end(), id) == found_.end()) a.missing_trace_ids.push_back(id);
    if (warned_ > config_.max_warnings && config_.max_warnings > 0)
      print_warning(fmt::format("{} more warnings not shown (all lines are counted; see --max-warnings)",
                                warned_ - config_.max_warnings));
    for (const std::string& id : a.missing_trace_ids) print_warning(fmt::format("--trace {}: no such trace in the input", id));
    auto ns = [](auto d) { return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count(); };
    const auto now = std::chrono::steady_clock::now();
    ReportInput report{config_, stats_, a, ns(now - started), ns(read_end - started), ns(now - read_end)};
    report.live = &assembler_.counts();
    report.stopped = stop_requested();
    if (config_.format == Format::kJson) {
      Output err(STDERR_FILENO);
      write_json_report(report, err);
      err.flush();
    } else {
      if (lines_written_) out_.write("\n");  // a blank line between the traces and the summary
      write_text_report(report, out_);
      out_.flush();
    }
    return exit_code(stats_, a, config_);
  }

  static constexpr std::size_t kBuffers = 4;
  BlockingQueue<OwnedChunk> work_{kBuffers};
  BlockingQueue<std::vector<char>> spare_{kBuffers};
  BlockingQueue<ParsedChunk> parsed_{kBuffers};
  BlockingQueue<ParsedChunk> parsed_spare_{kBuffers};
  std::vector<std::string> read_errors_;  // the reading thread's, until it ends

  const Config& config_;
  FormatReader parser_;  // the parsing thread's
  SpanRecord record_;
  SpanRecord span_;  // the assembling thread's view of a parsed span
  LiveAssembler assembler_;
  LiveAnalysis analysis_;
  Output out_;
  InputStats stats_;
  std::size_t warned_ = 0;
  std::uint64_t lines_written_ = 0;
  std::vector<std::string> found_;
};

}  // namespace

ExitCode run_live(const Config& config, std::chrono::steady_clock::time_point started) {
  install_stop_handlers();
  LiveRun run(config);
  return run.run(started);
}

}  // namespace ta
