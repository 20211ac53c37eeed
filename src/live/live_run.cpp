#include "live/live_run.h"

#include <fmt/format.h>
#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <memory>

#include "live/live_assembler.h"
#include "read/byte_source.h"
#include "read/ingest.h"
#include "read/peeked_source.h"
#include "store/span_details.h"
#include "read/line_reader.h"
#include "report/writer.h"
#include "run/run.h"
#include "util/blocking_queue.h"
#include "util/format.h"
#include "util/memory.h"
#include "util/messages.h"
#include "util/stop.h"
#include "util/thread_group.h"

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

// A chunk's records as the parsing thread read them, in input order: spans
// encoded for the assembler (live::encode: the record codec's bytes, labels
// interned already) and rejections.
struct ParsedChunk {
  struct Item {
    std::uint64_t line = 0;
    std::uint32_t reason = kNone;  // index in reasons when the record was rejected, else kNone
    TextRef trace_id, span_id;     // in text (the span id for a warning)
    live::Encoded span;            // its body in bytes, its keys in keys
  };
  std::uint32_t file = 0;
  std::uint64_t lines = 0, blank = 0, merged = 0;
  std::vector<std::string> notes;
  std::string text;
  std::string bytes;
  std::vector<std::uint64_t> keys;
  std::vector<Item> items;
  std::vector<std::string> reasons;

  void clear(std::uint32_t file_index) {
    file = file_index;
    lines = blank = merged = 0;
    notes.clear();
    text.clear();
    bytes.clear();
    keys.clear();
    items.clear();
    reasons.clear();
  }
  template <typename Intern>
  void add_span(std::uint64_t line, const SpanRecord& r, Intern&& intern) {
    Item& it = items.emplace_back();
    it.line = line;
    it.trace_id = TextRef{static_cast<std::uint32_t>(text.size()), static_cast<std::uint32_t>(r.trace_id.size())};
    text.append(r.trace_id);
    it.span_id = TextRef{static_cast<std::uint32_t>(text.size()), static_cast<std::uint32_t>(r.span_id.size())};
    text.append(r.span_id);
    it.span = live::encode(r, intern, bytes, keys);
  }
  void add_rejection(std::uint64_t line, std::string reason) {
    Item& it = items.emplace_back();
    it.line = line;
    it.reason = static_cast<std::uint32_t>(reasons.size());
    reasons.push_back(std::move(reason));
  }
  std::string_view str(TextRef r) const { return std::string_view(text.data() + r.offset, r.length); }
  EncodedSpan span(const Item& it) const {
    EncodedSpan s = it.span.bind(reinterpret_cast<const std::uint8_t*>(bytes.data()), keys.data());
    s.trace_id = str(it.trace_id);
    return s;
  }
};

// Finished traces on their way to the writing thread, many a batch: each
// trace's records copied out of the store, which gives them back at once,
// or a large trace assembled already (its records are not copied: a copy
// would be a second store of them at the peak).
struct FinishedTraces {
  struct Item {
    std::size_t id_at = 0, records_at = 0;  // in ids; in offsets and locations
    std::uint32_t id_size = 0, record_count = 0, span_count = 0, dropped = 0, duplicates = 0;
    Nanos base = 0;
    Emit why = Emit::kComplete;
    std::uint32_t shown = kNone;  // in shown, when assembled already
  };
  std::string ids;
  std::vector<std::uint8_t> bytes;                // the records, one after another
  std::vector<std::uint64_t> offsets, locations;  // each record's, in input order by trace
  std::vector<RecordRef> refs;                    // made by the writing thread (bind)
  std::vector<Item> items;
  std::vector<ShownTrace> shown;

  // Emptied for the next batch; one that held a large trace gives its
  // memory back, so a batch's memory follows the usual batch, not the
  // largest trace ever written.
  void clear() {
    if (bytes.capacity() > kKeepBytes) {
      *this = FinishedTraces{};
      return;
    }
    ids.clear();
    bytes.clear();
    offsets.clear();
    locations.clear();
    refs.clear();
    items.clear();
    shown.clear();
  }
  // The trace assembled here (shape_trace), not copied.
  void add_shown(const TraceData& d, Emit why, const SymbolTable& symbols, const AssembleOptions& options) {
    Item& it = items.emplace_back();
    it.why = why;
    it.shown = static_cast<std::uint32_t>(shown.size());
    shape_trace(d, symbols, options, shown.emplace_back());
  }
  void add(const TraceData& d, Emit why) {
    Item& it = items.emplace_back();
    it.id_at = ids.size();
    it.id_size = static_cast<std::uint32_t>(d.trace_id.size());
    ids.append(d.trace_id);
    it.records_at = offsets.size();
    it.record_count = static_cast<std::uint32_t>(d.record_count);
    it.span_count = d.span_count;
    it.dropped = d.dropped;
    it.duplicates = d.duplicates;
    it.base = d.base;
    it.why = why;
    for (std::size_t i = 0; i < d.record_count; ++i) {
      const std::uint8_t* record = d.records[i].record;
      offsets.push_back(bytes.size());
      locations.push_back(d.records[i].location);
      bytes.insert(bytes.end(), record, record + record_size(record));  // no zeros written first
    }
  }
  // Points the records at where the bytes now are, and pads them (the
  // decoder may read a few bytes past a record); once, before trace() is
  // asked.
  void bind() {
    bytes.resize(bytes.size() + kPadding, 0);
    refs.resize(offsets.size());
    for (std::size_t i = 0; i < offsets.size(); ++i) refs[i] = RecordRef{bytes.data() + offsets[i], locations[i]};
  }
  TraceData trace(const Item& it) const {
    TraceData d;
    d.trace_id = std::string_view(ids).substr(it.id_at, it.id_size);
    d.records = refs.data() + it.records_at;
    d.record_count = it.record_count;
    d.base = it.base;
    d.span_count = it.span_count;
    d.dropped = it.dropped;
    d.duplicates = it.duplicates;
    return d;
  }
  std::size_t held() const { return bytes.size() + ids.size(); }

  static constexpr std::size_t kPadding = 64;
  static constexpr std::size_t kKeepBytes = 4u << 20;
};

// The label table of a live run: bounded (--max-labels), new labels past
// the bound interned as "(other)".
const SymbolTable& limited(SymbolTable& symbols, std::size_t max_labels) {
  symbols.limit(max_labels, "(other)");
  return symbols;
}

// The calling thread's CPU time so far, in ns.
std::int64_t thread_cpu_ns() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

class LiveRun {
 public:
  explicit LiveRun(const Config& config)
      : config_(config),
        parser_(config.input_format, ingest_options(config).parse),
        assembler_(LiveOptions{config.window, config.max_open_traces, config.max_trace_spans,
                               AssembleOptions{config.adjust_skew}, true},
                   [this](const TraceData& t, Emit why) { hand_over(t, why); }),
        analysis_(config, limited(assembler_.symbols(), config.max_labels), kExactValues),
        out_(STDOUT_FILENO),
        err_(STDERR_FILENO, Output::OnError::kDrop, Output::Controls::kAllEscaped),
        warnings_(config),
        writer_(make_writer(config, Delivery::kStreamed, stats_.files, out_, err_)) {}

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
    // One thread reads (and waits on quiet inputs), one parses, this one
    // files the spans and finds the finished traces, and one assembles,
    // analyses and writes them. This one hands over what it has whenever it
    // would wait for input, and the writing thread flushes stdout whenever it
    // has nothing to do, so no finished trace waits while the input is quiet.
    for (std::size_t i = 0; i < kBuffers; ++i) spare_.push({});
    for (std::size_t i = 0; i < kBuffers; ++i) parsed_spare_.push({});
    for (std::size_t i = 0; i < kBuffers; ++i) finished_spare_.push({});
    batch_ = std::move(*finished_spare_.pop());
    // When a thread fails (out of memory), or this one does (a closed
    // pipe), no thread may be left waiting on a queue for it.
    ThreadGroup threads([this] {
      request_stop();
      work_.abandon();
      spare_.abandon();
      parsed_.abandon();
      parsed_spare_.abandon();
      finished_.abandon();
      finished_spare_.abandon();
    });
    threads.spawn("ta-live-read", [&] {
      read_loop(inputs, threads);
      read_cpu_ = thread_cpu_ns();
    });
    threads.spawn("ta-live-parse", [&] {
      parse_loop(threads);
      parse_cpu_ = thread_cpu_ns();
    });
    threads.spawn("ta-live-write", [&] {
      write_loop(threads);
      write_cpu_ = thread_cpu_ns();
    });
    for (;;) {
      auto item = parsed_.try_pop();
      if (!item) {
        hand_over_batch();
        item = parsed_.pop();
      }
      if (!item) break;
      take(*item);
      parsed_spare_.push(std::move(*item));
    }
    const auto read_end = std::chrono::steady_clock::now();
    if (!threads.stopping()) assembler_.flush_all();
    hand_over_batch();
    finished_.close();
    threads.join();
    for (std::string& e : read_errors_) stats_.read_errors.push_back(std::move(e));
    for (const Input& in : inputs)
      if (in.reader && in.reader->stopped_bytes())
        print_warning(fmt::format("{}:{}: stopped in the middle of this line; its {} bytes so far are not counted",
                                  stats_.files[in.file], in.reader->next_line(), in.reader->stopped_bytes()));
    stats_.bytes = 0;
    for (const Input& in : inputs) stats_.bytes += in.bytes();
    if (unfiled_)
      print_warning(fmt::format("--max-memory: {} read after reading stopped {} not filed, counted as rejected",
                                plural(unfiled_, "span"), unfiled_ == 1 ? "was" : "were"));
    out_.flush();
    return summarize(started, read_end);
  }

 private:
  // The reading thread: every input in turn, what is there; waits when all
  // are quiet; ends when all have ended or a stop is requested.
  void read_loop(std::vector<Input>& inputs, const ThreadGroup& threads) {
    for (;;) {
      if (threads.stopping()) return;
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
    // A followed file may have been waited on in the middle of a line.
    if (stop_requested())
      for (Input& in : inputs)
        if (!in.done && in.reader) in.reader->stop();
    work_.close();
  }

  // Hands what is there to the parsing thread, chunk by chunk; true when any
  // came.
  bool drain(Input& in) {
    if (in.document) return in.document_read ? false : read_document(in);
    bool any = false;
    // At most kChunksPerTurn at a time, so one busy input does not keep the
    // others waiting. Each goes in the buffer it was read into (the spare's
    // buffer is read into next).
    for (std::size_t n = 0; n < kChunksPerTurn && !stop_requested(); ++n) {
      auto item = spare_.pop();
      if (!item) return false;  // abandoned: the run is ending
      if (!in.reader->next_owned(*item)) {
        spare_.push(std::move(*item));
        break;
      }
      any = true;
      item->file = in.file;
      work_.push(std::move(*item));
    }
    return any;
  }

  // A whole document, handed to the parsing thread at once.
  bool read_document(Input& in) {
    in.document_read = true;
    auto spare = spare_.pop();
    if (!spare) return false;  // abandoned: the run is ending
    OwnedChunk item = std::move(*spare);
    item.bytes.clear();
    item.file = in.file;
    item.document = true;
    constexpr std::size_t kStep = 1 << 20;
    // A compressed document can expand a thousandfold: the memory is looked
    // at as it grows, and before it is copied to grow more (as in batch).
    MemoryWatch memory(ingest_options(config_).read_memory(), 8);
    while (!stop_requested()) {
      const std::size_t at = item.bytes.size();
      if (at > config_.max_document_bytes) {
        read_errors_.push_back(large_document_reason(stats_.files[in.file], config_.max_document_bytes));
        print_error(read_errors_.back());
        item.bytes.clear();
        break;
      }
      if (memory.over(1) || (item.bytes.capacity() < at + kStep && memory.no_room_for(at))) {
        read_errors_.push_back(document_memory_reason(stats_.files[in.file], config_.max_memory));
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
    ta::reject(stats_, warnings_, {file, line, std::move(reason)});
  }

  // The parsing thread: each chunk's lines into a ParsedChunk, in order.
  void parse_loop(const ThreadGroup& threads) {
    while (!threads.stopping()) {
      auto item = work_.pop();
      auto spare = item ? parsed_spare_.pop() : std::nullopt;
      if (!spare) break;
      ParsedChunk out = std::move(*spare);
      out.clear(item->file);
      // Labels are interned here, into the table the assembling thread reads
      // (store/symbols.h: safe while only this thread adds).
      SymbolTable& symbols = assembler_.symbols();
      struct Out {
        ParsedChunk& chunk;
        SymbolTable& symbols;
        void on_span(const SpanRecord& r, std::uint64_t line) {
          chunk.add_span(line, r, [this](std::string_view s) { return symbols.intern(s); });
        }
        void on_reject(std::uint64_t line, std::string reason) { chunk.add_rejection(line, std::move(reason)); }
        void on_merged(std::uint64_t) { ++chunk.merged; }
        void on_note(std::string message) { chunk.notes.push_back(std::move(message)); }
      } sink{out, symbols};
      if (item->document) {
        parse_document(std::string_view(item->bytes.data(), item->document_size), parser_, sink);
        out.lines += item->document_lines;
      } else {
        parse_chunk(item->chunk, parser_, record_, config_.max_line_bytes, config_.line_limit_memory, out.lines, out.blank,
                    sink);
      }
      spare_.push(std::move(*item));
      parsed_.push(std::move(out));
    }
    parsed_.close();
  }

  // Files a parsed chunk's spans and rejections, in input order.
  void take(ParsedChunk& chunk) {
    stats_.lines += chunk.lines;
    stats_.blank_lines += chunk.blank;
    stats_.merged += chunk.merged;
    for (std::string& note : chunk.notes) stats_.note(std::move(note));
    const std::uint32_t file = chunk.file;
    for (const ParsedChunk::Item& it : chunk.items) {
      if (it.reason != kNone) {
        reject(file, it.line, std::move(chunk.reasons[it.reason]));
        continue;
      }
      if (!stats_.memory_limit_hit && memory_.over(1)) {
        // --max-memory: reading stops here, as in batch mode, and every open
        // trace is written. Spans of chunks read already are not filed (they
        // would take memory past the limit): counted as rejected.
        stats_.memory_limit_hit = true;
        request_stop();
      }
      if (stats_.memory_limit_hit) {
        ++stats_.rejected;
        ++unfiled_;
        continue;
      }
      const EncodedSpan span = chunk.span(it);
      const auto where = static_cast<std::uint32_t>(std::min<std::uint64_t>(it.line, 0xffffffffu));
      switch (assembler_.add(span, file, where)) {
        case LiveAssembler::Added::kSpan: ++stats_.spans_read; break;
        case LiveAssembler::Added::kLate:
          ++stats_.late_spans;
          warnings_.line(stats_, file, it.line,
               fmt::format("span {} of trace {} came after the trace was written; counted as late, not merged",
                           chunk.str(it.span_id), span.trace_id));
          break;
        case LiveAssembler::Added::kDropped:
          reject(file, it.line, full_trace_reason(span.trace_id, config_.max_trace_spans));
          break;
      }
      for (std::string& note : assembler_.notes()) stats_.note(std::move(note));
      assembler_.notes().clear();
    }
    // The traces the chunk's spans completed, now that all of them are filed.
    assembler_.settle();
  }

  // A finished trace, handed to the writing thread with others; a large one
  // assembled here, and handed over at once.
  void hand_over(const TraceData& t, Emit why) {
    if (t.record_count > kAssembleHere) {
      if (no_room_to_assemble(t, why)) return;
      batch_.add_shown(t, why, assembler_.symbols(), assembler_.assemble_options());
      hand_over_batch();
      return;
    }
    batch_.add(t, why);
    if (batch_.held() >= kBatchBytes || batch_.items.size() >= kBatchTraces) hand_over_batch();
  }
  // --max-memory: a large trace is assembled only where there is room for
  // it (kAssembleBytesPerSpan a span, as in batch mode); else it
  // is passed over, its spans counted as not analysed (an error names the
  // largest; exit 2). Filing had only kept the stream under 3/4 of the
  // limit: a chain of 300,000 spans, its root last, then took 132 MB
  // under --max-memory 64M to assemble, with exit 0.
  bool no_room_to_assemble(const TraceData& t, Emit why) {
    const std::uint64_t need = std::uint64_t{t.record_count} * kAssembleBytesPerSpan;
    if (!MemoryWatch(config_.max_memory, 1).no_room_for(need)) return false;
    ++passed_over_[static_cast<int>(why)];  // finished, but not written
    ++shortfall_.traces;
    shortfall_.spans += t.record_count;
    if (t.record_count > shortfall_.largest_spans) {
      shortfall_.largest_id = std::string(t.trace_id);
      shortfall_.largest_spans = t.record_count;
      shortfall_.largest_need = need;
    }
    return true;
  }

  void hand_over_batch() {
    if (batch_.items.empty()) return;
    finished_.push(std::move(batch_));  // dropped when the run is failing: nothing is written then
    auto spare = finished_spare_.pop();  // emptied by the writing thread
    batch_ = spare ? std::move(*spare) : FinishedTraces{};
  }

  // The writing thread: each finished trace assembled, analysed and
  // written, in the order they were finished; stdout flushed whenever no
  // more are there.
  void write_loop(const ThreadGroup& threads) {
    const AssembleOptions& options = assembler_.assemble_options();
    const SymbolTable& symbols = assembler_.symbols();
    for (;;) {
      auto batch = finished_.try_pop();
      if (!batch) {
        out_.flush();
        batch = finished_.pop();
      }
      if (!batch) break;
      batch->bind();
      for (const FinishedTraces::Item& it : batch->items) {
        if (threads.stopping()) return;
        ShownTrace* t = &shown_;
        if (it.shown == kNone) {
          shape_trace(batch->trace(it), symbols, options, shown_);
        } else {
          t = &batch->shown[it.shown];
        }
        if (analysis_.add(t->trace, t->self, t->on_path)) writer_->trace(*t, it.why);
      }
      batch->clear();
      finished_spare_.push(std::move(*batch));
    }
  }

  ExitCode summarize(std::chrono::steady_clock::time_point started, std::chrono::steady_clock::time_point read_end) {
    Analysis a = analysis_.finish();
    a.memory = shortfall_;
    warnings_.finish();
    report_end(stats_, a, config_);
    count_unanalysed(stats_, a.memory);  // after the error that names them
    auto ns = [](auto d) { return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count(); };
    const auto now = std::chrono::steady_clock::now();
    ReportInput report{config_, stats_, a, ns(now - started), ns(read_end - started), ns(now - read_end), nullptr, false, {}};
    LiveCounts counts = assembler_.counts();
    for (int k = 0; k < kEmitKinds; ++k) counts.emitted[k] -= passed_over_[k];
    counts.labels_over = assembler_.symbols().over_limit();
    counts.pairs_over = analysis_.pairs_over();
    counts.read_cpu = read_cpu_;
    counts.parse_cpu = parse_cpu_;
    counts.assemble_cpu = thread_cpu_ns();
    counts.write_cpu = write_cpu_;
    report.live = &counts;
    report.stopped = stop_requested();
    writer_->summary(report);
    return exit_code(stats_, a, config_);
  }

  std::int64_t read_cpu_ = 0, parse_cpu_ = 0, write_cpu_ = 0;  // set by each thread as it ends
  static constexpr std::size_t kBuffers = 4;
  // A batch of finished traces is handed over at this many bytes or traces.
  static constexpr std::size_t kBatchBytes = 256 << 10, kBatchTraces = 1024;
  // A trace of more records is assembled by this thread (as the batch run's
  // traces are, in place) rather than copied for the writing thread.
  static constexpr std::size_t kAssembleHere = 1u << 16;
  MemoryShortfall shortfall_;  // large traces passed over for --max-memory (this thread's)
  std::uint64_t passed_over_[kEmitKinds] = {};  // of them, by why they were finished
  BlockingQueue<FinishedTraces> finished_{kBuffers};
  BlockingQueue<FinishedTraces> finished_spare_{kBuffers};
  FinishedTraces batch_;  // being filled, by this thread
  ShownTrace shown_;      // the writing thread's
  BlockingQueue<OwnedChunk> work_{kBuffers};
  BlockingQueue<OwnedChunk> spare_{kBuffers};
  BlockingQueue<ParsedChunk> parsed_{kBuffers};
  BlockingQueue<ParsedChunk> parsed_spare_{kBuffers};
  std::vector<std::string> read_errors_;  // the reading thread's, until it ends

  const Config& config_;
  FormatReader parser_;  // the parsing thread's
  SpanRecord record_;
  LiveAssembler assembler_;
  LiveAnalysis analysis_;
  Output out_;
  Output err_;
  InputStats stats_;
  Warnings warnings_;
  // Made once the inputs are named (a JSON trace names its file).
  std::unique_ptr<Writer> writer_;
  // --max-memory, read every kMemoryCheckSpans spans filed; at 3/4 of it
  // reading stops (the rest is for writing the open traces).
  static constexpr std::uint64_t kMemoryCheckSpans = 4096;
  std::uint64_t unfiled_ = 0;  // spans read after that, not filed
  MemoryWatch memory_{ingest_options(config_).read_memory(), kMemoryCheckSpans};
};

}  // namespace

ExitCode run_live(const Config& config, std::chrono::steady_clock::time_point started) {
  install_stop_handlers();
  // A stream frees traces as fast as it files them: free memory at the top
  // of the heap past 4 MiB goes back to the system rather than wait for a
  // trim that malloc's own threshold, raised as large blocks come and go,
  // puts off for good (resident memory had crept up with the stream's
  // length: 90 MiB after 1 GB, 113 after 3, 123 after 6).
  mallopt(M_TRIM_THRESHOLD, 4 << 20);
  LiveRun run(config);
  return run.run(started);
}

}  // namespace ta
