#include "read/ingest.h"

#include <fmt/format.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>

#include "read/byte_source.h"
#include "read/file_chunks.h"
#include "read/line_reader.h"
#include "read/peeked_source.h"
#include "util/blocking_queue.h"
#include "util/format.h"
#include "util/memory.h"
#include "util/thread_group.h"

namespace ta {

std::string check_inputs(const std::vector<std::string>& paths) {
  for (const std::string& path : paths) {
    if (path == "-") continue;
    if (path.empty()) return "\"\": empty file name";
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return fmt::format("{}: {}", path, std::strerror(errno));
    if (S_ISDIR(st.st_mode)) {
      std::string dir = path;
      while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
      return fmt::format("{}: is a directory (give the files in it, e.g. {}/*.jsonl)", path, dir);
    }
    if (::access(path.c_str(), R_OK) != 0) return fmt::format("{}: {}", path, std::strerror(errno));
    if (const std::string why = refused_compression(path); !why.empty()) return fmt::format("{}: {}", path, why);
  }
  return {};
}

InputSize input_size(const std::vector<std::string>& paths) {
  InputSize size;
  for (const std::string& path : paths) {
    struct stat st {};
    if (path == "-" || ::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      size.all_regular = false;
      continue;
    }
    auto ends = [&](std::string_view s) {
      return path.size() > s.size() && path.compare(path.size() - s.size(), s.size(), s) == 0;
    };
    const bool packed = ends(".gz") || ends(".zst");
    size.bytes += static_cast<std::uint64_t>(st.st_size) * (packed ? 10 : 1);
  }
  return size;
}

std::string long_line_reason(std::uint64_t bytes, std::size_t limit, std::uint64_t limit_memory) {
  if (limit_memory)
    return fmt::format("line of {} bytes is longer than {} bytes ({}), the most a line may take under --max-memory {}",
                       bytes, limit, human_bytes(limit), human_bytes(limit_memory));
  return fmt::format("line of {} bytes is longer than --max-line-bytes {}", bytes, limit);
}

std::string large_document_reason(std::string_view file, std::size_t max_document_bytes) {
  return fmt::format("{}: a whole JSON document (not one record per line) of more than {} is not read; raise "
                     "--max-document-bytes, or write one record per line",
                     file, human_bytes(max_document_bytes));
}

std::string document_memory_reason(std::string_view file, std::uint64_t max_memory) {
  return fmt::format("{}: a whole JSON document (not one record per line) is not read: holding it would pass "
                     "--max-memory {}; raise --max-memory, or write one record per line",
                     file, human_bytes(max_memory));
}

std::string full_trace_reason(std::string_view trace_id, std::size_t limit) {
  return fmt::format("trace {} already has --max-trace-spans {} spans; this one is not kept", trace_id, limit);
}

namespace {

constexpr std::size_t kSmallInputChunk = 128u << 10;
constexpr std::size_t kMinChunk = 1u << 20;

// One chunk of work: a file chunk that the thread reads itself, or a chunk
// of a stream already read (stdin, pipes, gzip).
struct Job {
  std::uint32_t chunk = 0;  // its number in the run (LineMap)
  const FileChunks* file = nullptr;
  std::uint32_t file_index = 0;
  std::size_t k = 0;  // chunk of `file`
  OwnedChunk owned;   // when file is null; first_line 1
  // A whole document instead (file null, owned empty), padded; lines from 1.
  std::shared_ptr<const std::string> document;
};

// What one parsing thread saw; summed up at the end. Lines are located by
// chunk and line in chunk (Rejection::file is the chunk) until every
// chunk's lines are counted.
struct Worker {
  Worker(const IngestOptions& o, SpanLog& log) : reader(o.input_format, o.parse), out(log.writer()) {}
  FormatReader reader;
  SpanRecord record;
  SpanLog::Writer& out;
  std::uint32_t chunk = 0;  // of the records at hand
  std::size_t keep = 0;     // rejections listed
  std::uint64_t merged = 0;
  std::vector<std::string> notes;
  FileChunks::Buffer buffer;
  FileChunks::Chunk read;
  std::uint64_t lines = 0, blank = 0, rejected = 0;
  std::vector<Rejection> rejections;
  std::vector<std::pair<std::uint32_t, std::uint64_t>> chunk_lines;  // file chunks: (chunk, lines)
  std::vector<std::pair<std::uint32_t, std::string>> errors;         // (file, reason)
  std::vector<std::uint32_t> shrank;                                 // files cut short while read
};

// What a worker's records become (parse_chunk's Out).
struct WorkerOut {
  Worker& w;
  void on_span(const SpanRecord& r, std::uint64_t line) { w.out.add(r, w.chunk, line); }
  void on_reject(std::uint64_t line, std::string reason) {
    ++w.rejected;
    if (w.rejections.size() < w.keep) w.rejections.push_back({w.chunk, line, std::move(reason)});
  }
  void on_merged(std::uint64_t) { ++w.merged; }
  void on_note(std::string message) {
    if (w.notes.size() < 100) w.notes.push_back(std::move(message));
  }
};

// Parses a chunk's lines into the log; returns how many lines it had.
std::uint64_t process(const LineChunk& chunk, std::uint32_t id, Worker& w, const IngestOptions& options) {
  const std::uint64_t before = w.lines + w.blank;
  w.chunk = id;
  w.keep = options.max_kept_rejections;
  WorkerOut out{w};
  parse_chunk(chunk, w.reader, w.record, options.max_line_bytes, options.line_limit_memory, w.lines, w.blank, out);
  if (chunk.oversized_line) return 1;
  return w.lines + w.blank - before;
}

void run(Job& job, Worker& w, const IngestOptions& options) {
  if (job.document) {
    w.chunk = job.chunk;
    w.keep = options.max_kept_rejections;
    WorkerOut out{w};
    const std::string& doc = *job.document;
    const std::string_view text(doc.data(), doc.size() - simdjson::SIMDJSON_PADDING);
    parse_document(text, w.reader, out);
    w.lines += static_cast<std::uint64_t>(std::count(text.begin(), text.end(), '\n')) +
               (!text.empty() && text.back() != '\n' ? 1 : 0);
    return;
  }
  if (!job.file) {
    process(job.owned.chunk, job.chunk, w, options);
    return;
  }
  job.file->read(job.k, w.buffer, w.read);
  std::uint64_t lines = process(w.read.lines, job.chunk, w, options);
  job.file->done(w.read);
  if (w.read.oversized_bytes) {
    ++w.lines;
    ++w.rejected;
    ++lines;
    if (w.rejections.size() < options.max_kept_rejections)
      w.rejections.push_back(
          {job.chunk, lines, long_line_reason(w.read.oversized_bytes, options.max_line_bytes, options.line_limit_memory)});
  }
  w.chunk_lines.push_back({job.chunk, lines});
  if (!w.read.error.empty()) w.errors.push_back({job.file_index, w.read.error});
  if (w.read.shrank) w.shrank.push_back(job.file_index);
}

// A stream's read buffers, handed back by the threads that parsed their
// chunks for the reader to read into again: a chunk goes to its parsing
// thread in the buffer it was read into (LineReader::next_owned), not
// copied, and no buffer is made anew for each chunk.
class BufferPool {
 public:
  void give(ReadBuffer b) {
    if (!b.data) return;
    std::lock_guard<std::mutex> hold(mu_);
    free_.push_back(std::move(b));
  }
  ReadBuffer take() {
    std::lock_guard<std::mutex> hold(mu_);
    if (free_.empty()) return {};
    ReadBuffer b = std::move(free_.back());
    free_.pop_back();
    return b;
  }

 private:
  std::mutex mu_;
  std::vector<ReadBuffer> free_;
};

// Cuts every input into jobs, in input order, and hands them to `dispatch`;
// numbers the chunks in `lines`. Stops early at --max-memory.
class Reader {
 public:
  Reader(const std::vector<std::string>& paths, const IngestOptions& options, InputStats& stats, LineMap& lines,
         const std::atomic<std::uint64_t>& spans, BufferPool& buffers)
      : paths_(paths), options_(options), stats_(stats), lines_(lines), spans_(spans), buffers_(buffers) {}

  template <typename Dispatch>
  void read_all(Dispatch&& dispatch) {
    for (std::uint32_t f = 0; f < paths_.size() && !stats_.memory_limit_hit; ++f) {
      stats_.files.push_back(display_name(paths_[f]));
      auto file = FileChunks::open(paths_[f], options_.chunk_bytes, options_.max_line_bytes);
      if (file && file_framing(paths_[f]) == Framing::kDocument) file.reset();  // read whole, as a stream
      if (file) {
        const auto first = static_cast<std::uint32_t>(lines_.size());
        for (std::size_t k = 0; k < file->count() && !over_memory(); ++k) {
          Job job;
          job.chunk = lines_.add({f, 1});
          job.file = file.get();
          job.file_index = f;
          job.k = k;
          dispatch(std::move(job));
          advance(file->bytes_of(k));
        }
        chunked_.push_back({first, static_cast<std::uint32_t>(lines_.size())});
        files_.push_back(std::move(file));  // its jobs may still be running
        continue;
      }
      stream(f, dispatch);
    }
  }

  // Numbers each file chunk's lines, from the counts the workers found.
  void place_lines(const std::vector<std::unique_ptr<Worker>>& workers) {
    std::vector<std::uint64_t> count(lines_.size(), 0);
    for (const auto& w : workers)
      for (const auto& [chunk, n] : w->chunk_lines) count[chunk] = n;
    for (const auto& [first, end] : chunked_) {
      std::uint64_t line = 1;
      for (std::uint32_t c = first; c < end; ++c) {
        lines_[c].first_line = line;
        line += count[c];
      }
    }
  }

 private:
  // Looked at every 8 chunks (up to 32 MiB of text: /proc is read a few
  // times a second at most).
  bool over_memory() {
    if (memory_.over(1)) stats_.memory_limit_hit = true;
    return stats_.memory_limit_hit;
  }

  void advance(std::uint64_t bytes) {
    stats_.bytes += bytes;
    if (options_.on_progress && stats_.bytes >= next_progress_) {
      options_.on_progress(stats_.bytes, spans_.load(std::memory_order_relaxed));
      next_progress_ = stats_.bytes + (64u << 20);
    }
  }

  // Stdin, a pipe, gzip: read here and cut into chunks of whole lines,
  // each handed to a parsing thread in the buffer it was read into.
  template <typename Dispatch>
  void stream(std::uint32_t f, Dispatch&& dispatch) {
    std::string error;
    auto source = open_input(paths_[f], error);
    if (!source) {
      stats_.read_errors.push_back(fmt::format("{}: {}", display_name(paths_[f]), error));
      return;
    }
    const std::uint64_t bytes_before = stats_.bytes;
    PeekedSource peeked(*source);
    if (!peeked.peek()) {
      stats_.read_errors.push_back(fmt::format("{}: {}", display_name(paths_[f]), source->error()));
      return;
    }
    if (detect_framing(peeked.head(), peeked.at_end()) == Framing::kDocument) {
      document(f, peeked, dispatch);
      stats_.bytes = bytes_before + source->raw_bytes();
      return;
    }
    LineReader reader(peeked, options_.chunk_bytes, options_.max_line_bytes);
    while (!over_memory()) {
      Job job;
      job.owned.buffer = buffers_.take();
      if (!reader.next_owned(job.owned)) {
        buffers_.give(std::move(job.owned.buffer));
        break;
      }
      const LineChunk& chunk = job.owned.chunk;
      job.chunk = lines_.add({f, chunk.oversized_line ? chunk.oversized_line : chunk.first_line});
      job.owned.chunk.first_line = 1;
      if (chunk.oversized_line) job.owned.chunk.oversized_line = 1;
      job.owned.file = f;
      dispatch(std::move(job));
      advance(bytes_before + source->raw_bytes() - stats_.bytes);
    }
    stats_.bytes = bytes_before + source->raw_bytes();
    if (!reader.error().empty())
      stats_.read_errors.push_back(fmt::format("{}: {}", display_name(paths_[f]), reader.error()));
  }

  // A regular file's framing, from its first bytes.
  static Framing file_framing(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Framing::kLines;  // the chunks' reading says why
    std::string head(64u << 10, '\0');
    const ssize_t n = ::pread(fd, head.data(), head.size(), 0);
    ::close(fd);
    if (n < 0) return Framing::kLines;
    head.resize(static_cast<std::size_t>(n));
    return detect_framing(head, head.size() < (64u << 10));
  }

  // A whole document: read into memory (once, up to max_document_bytes)
  // and handed to a parsing thread as one job.
  template <typename Dispatch>
  void document(std::uint32_t f, ByteSource& source, Dispatch&& dispatch) {
    auto text = std::make_shared<std::string>();
    constexpr std::size_t kStep = 1 << 20;
    while (true) {
      const std::size_t at = text->size();
      if (at > options_.max_document_bytes) {
        stats_.read_errors.push_back(large_document_reason(display_name(paths_[f]), options_.max_document_bytes));
        return;
      }
      // A compressed document can expand a thousandfold: the memory is
      // looked at as it grows, and before it is copied to grow more.
      if (memory_.over(1) || (text->capacity() < at + kStep && memory_.no_room_for(at))) {
        stats_.read_errors.push_back(document_memory_reason(display_name(paths_[f]), options_.max_memory));
        return;
      }
      text->resize(at + kStep);
      const std::ptrdiff_t n = source.read(text->data() + at, kStep);
      if (n < 0) {
        text->resize(at);
        stats_.read_errors.push_back(fmt::format("{}: {}", display_name(paths_[f]), source.error()));
        break;
      }
      text->resize(at + static_cast<std::size_t>(n));
      if (n == 0) break;
    }
    text->append(simdjson::SIMDJSON_PADDING, '\0');
    ++stats_.documents;
    Job job;
    job.chunk = lines_.add({f, 1});
    job.file_index = f;
    job.document = std::move(text);
    dispatch(std::move(job));
  }

  const std::vector<std::string>& paths_;
  const IngestOptions& options_;
  InputStats& stats_;
  LineMap& lines_;
  const std::atomic<std::uint64_t>& spans_;
  BufferPool& buffers_;
  std::vector<std::unique_ptr<FileChunks>> files_;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> chunked_;  // chunks of each chunked file: [first, end)
  MemoryWatch memory_{options_.read_memory(), 8};
  std::uint64_t next_progress_ = 64u << 20;
};

// Sums up the workers and puts every rejection at its file and line.
void add_up(InputStats& stats, std::vector<std::unique_ptr<Worker>>& workers, const LineMap& lines, std::size_t keep) {
  std::vector<bool> shrank(stats.files.size(), false);
  std::vector<std::vector<std::string>> errors(stats.files.size());
  for (auto& w : workers) {
    stats.lines += w->lines;
    stats.blank_lines += w->blank;
    stats.spans_read += w->out.spans();
    stats.rejected += w->rejected;
    stats.merged += w->merged;
    for (std::string& note : w->notes) stats.note(std::move(note));
    for (Rejection& r : w->rejections) {
      const LineMap::Chunk& c = lines[r.file];
      stats.rejections.push_back({c.file, c.first_line + r.line - 1, std::move(r.reason)});
    }
    for (std::uint32_t f : w->shrank) shrank[f] = true;
    for (auto& [f, reason] : w->errors) errors[f].push_back(std::move(reason));
  }
  std::sort(stats.rejections.begin(), stats.rejections.end(),
            [](const Rejection& a, const Rejection& b) { return a.file != b.file ? a.file < b.file : a.line < b.line; });
  if (stats.rejections.size() > keep) stats.rejections.resize(keep);
  for (std::size_t f = 0; f < stats.files.size(); ++f) {
    if (!errors[f].empty()) stats.read_errors.push_back(fmt::format("{}: {}", stats.files[f], errors[f].front()));
    if (shrank[f])
      stats.read_errors.push_back(
          fmt::format("{}: the file was cut short while it was read (truncated?); the lines past its new end were not read",
                      stats.files[f]));
  }
}

}  // namespace

InputStats ingest(const std::vector<std::string>& paths, const IngestOptions& given, SpanLog& log) {
  InputStats stats;
  LineMap lines;
  std::atomic<std::uint64_t> spans{0};  // for the progress line only
  // One thread for --threads 1 or a small input; else N parse while this
  // one cuts jobs (for regular files, only their numbers) and waits.
  const std::size_t threads = std::max<std::size_t>(given.threads, 1);
  const InputSize size = input_size(paths);
  const bool small = size.small(given.small_input_bytes);
  const bool inline_parse = threads == 1 || small;
  // A small input's one buffer in smaller chunks touches fewer new pages (a
  // page fault costs microseconds on a VM: most of a small run). A large
  // one reads faster in larger chunks (4 MiB: 5-10% faster reading than
  // 1 MiB on the bench input), but each thread gets 8 or more, so that the
  // threads finish together.
  IngestOptions options = given;
  if (small) {
    options.chunk_bytes = std::min(options.chunk_bytes, kSmallInputChunk);
  } else if (!inline_parse) {
    const std::uint64_t share = size.bytes / (threads * 8);
    options.chunk_bytes = std::min<std::uint64_t>(options.chunk_bytes, std::max<std::uint64_t>(share, kMinChunk));
  }
  BufferPool buffers;
  Reader reader(paths, options, stats, lines, spans, buffers);
  std::vector<std::unique_ptr<Worker>> workers;
  for (std::size_t i = 0; i < (inline_parse ? 1 : threads); ++i)
    workers.push_back(std::make_unique<Worker>(options, log));

  if (inline_parse) {
    stats.one_thread = small;
    reader.read_all([&](Job&& job) {
      run(job, *workers[0], options);
      spans.store(workers[0]->out.spans(), std::memory_order_relaxed);
      buffers.give(std::move(job.owned.buffer));
    });
  } else {
    BlockingQueue<Job> work(threads * 2);
    ThreadGroup pool([&] { work.abandon(); });
    auto start = [&] {
      for (std::size_t i = 0; i < threads; ++i) {
        pool.spawn("ta-ingest", [&, i] {
          Worker& w = *workers[i];
          while (!pool.stopping()) {
            auto job = work.pop();
            if (!job) break;
            const std::uint64_t before = w.out.spans();
            run(*job, w, options);
            spans.fetch_add(w.out.spans() - before, std::memory_order_relaxed);
            buffers.give(std::move(job->owned.buffer));
          }
        });
      }
    };
    // A stream (stdin, a pipe) is parsed on this thread until
    // small_input_bytes of it have come: one that ends before is read on one
    // thread, as a small file is. Which thread parses a chunk does not
    // change the result.
    std::uint64_t streamed = 0;
    reader.read_all([&](Job&& job) {
      if (pool.empty() && !job.file && streamed < options.small_input_bytes) {
        streamed += job.document ? job.document->size() : job.owned.chunk.size;
        run(job, *workers[0], options);
        spans.store(workers[0]->out.spans(), std::memory_order_relaxed);
        buffers.give(std::move(job.owned.buffer));
        return;
      }
      if (pool.empty()) start();
      if (pool.stopping()) pool.join();  // a parsing thread failed: its exception, now
      work.push(std::move(job));
    });
    if (pool.empty()) {
      stats.one_thread = true;
    } else {
      work.close();
      pool.join();
    }
  }
  reader.place_lines(workers);
  add_up(stats, workers, lines, options.max_kept_rejections);
  log.set_lines(std::move(lines));
  return stats;
}

void add_refused(InputStats& stats, const SpanLog::RefusedSpans& refused, std::size_t max_trace_spans,
                 std::size_t keep) {
  if (refused.count == 0) return;
  stats.rejected += refused.count;
  stats.spans_read -= refused.count;
  for (const SpanLog::Refused& r : refused.first)
    stats.rejections.push_back({r.file, r.line, full_trace_reason(r.trace_id, max_trace_spans)});
  std::sort(stats.rejections.begin(), stats.rejections.end(), [](const Rejection& a, const Rejection& b) {
    return a.file != b.file ? a.file < b.file : a.line < b.line;
  });
  if (stats.rejections.size() > keep) stats.rejections.resize(keep);
}

}  // namespace ta
