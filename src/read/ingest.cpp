#include "read/ingest.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

#include "read/line_reader.h"
#include "read/mapped_file.h"
#include "util/blocking_queue.h"
#include "util/hash.h"

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
  }
  return {};
}

bool small_input(const std::vector<std::string>& paths, std::uint64_t limit) {
  std::uint64_t total = 0;
  for (const std::string& path : paths) {
    struct stat st {};
    if (path == "-" || ::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
    // gzip (recognised by its content when read) often holds ten times its size.
    const bool gz = path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
    total += static_cast<std::uint64_t>(st.st_size) * (gz ? 10 : 1);
  }
  return total < limit;
}

std::string long_line_reason(std::uint64_t bytes, std::size_t limit) {
  return fmt::format("line of {} bytes is longer than --max-line-bytes {}", bytes, limit);
}

std::string full_trace_reason(std::string_view trace_id, std::size_t limit) {
  return fmt::format("trace {} already has --max-trace-spans {} spans; this one is not kept", trace_id, limit);
}

namespace {

// What one parsing thread saw; summed up at the end.
struct Worker {
  Worker(const ParseOptions& o, ShardedStore& store)
      : parser(o), symbols(store.symbol_cache()), staged(store.shard_count()) {}
  SpanParser parser;
  SpanRecord record;
  SymbolCache symbols;
  std::vector<StagedSpans> staged;  // per store, filed after each chunk
  std::vector<FullTrace> full;
  std::uint64_t lines = 0, blank = 0, spans = 0, rejected = 0;
  std::vector<Rejection> rejections;
};

// Parses a chunk's lines and stages their spans, then files them: one lock
// per store and chunk instead of one per span.
void process(const LineChunk& chunk, std::uint32_t file, Worker& w, ShardedStore& store,
             const IngestOptions& options) {
  auto reject = [&](std::uint64_t line, std::string reason) {
    ++w.rejected;
    if (w.rejections.size() < options.max_kept_rejections) w.rejections.push_back({file, line, std::move(reason)});
  };
  auto intern = [&](std::string_view text) { return w.symbols.intern(text); };
  parse_chunk(
      chunk, w.parser, w.record, options.max_line_bytes, w.lines, w.blank,
      [&](std::uint64_t line_no) {
        const std::uint64_t hash = hash_bytes(w.record.trace_id);
        stage_span(w.record, file, static_cast<std::uint32_t>(std::min<std::uint64_t>(line_no, 0xffffffffu)), hash,
                   intern, w.staged[store.shard_of(hash)]);
      },
      reject);
  w.spans += store.add_staged(w.staged, w.full);
  for (FullTrace& f : w.full) reject(f.line, full_trace_reason(f.trace_id, options.max_trace_spans));
  w.full.clear();
}

// Resident memory, from /proc; 0 if unknown.
std::uint64_t resident_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long size = 0, resident = 0;
  const int n = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  return n == 2 ? static_cast<std::uint64_t>(resident) * static_cast<std::uint64_t>(::sysconf(_SC_PAGE_SIZE)) : 0;
}

// Hands each chunk of one file to `sink`; false when --max-memory stopped it.
template <typename Reader, typename Sink>
bool read_file(Reader& reader, const IngestOptions& options, InputStats& stats, std::uint64_t bytes_before,
               const std::atomic<std::uint64_t>& spans, std::uint64_t& next_progress, Sink&& sink) {
  LineChunk chunk;
  std::uint64_t chunks = 0;
  while (reader.next(chunk)) {
    if (options.max_memory && ++chunks % 8 == 0 && resident_bytes() > options.max_memory) {
      stats.memory_limit_hit = true;
      return false;
    }
    sink(chunk);
    stats.bytes = bytes_before + reader.bytes();
    if (options.on_progress && stats.bytes >= next_progress) {
      options.on_progress(stats.bytes, spans.load(std::memory_order_relaxed));
      next_progress = stats.bytes + (64u << 20);
    }
  }
  return true;
}

// Reads every file and hands each chunk to sink(chunk, file, map): map is
// the mapped file the chunk lies in, or nullptr when the chunk is only
// valid until the next one is read.
template <typename Sink>
void read_all(const std::vector<std::string>& paths, const IngestOptions& options, InputStats& stats,
              const std::atomic<std::uint64_t>& spans, std::atomic<bool>* shrank, Sink&& sink) {
  std::uint64_t next_progress = 64u << 20;
  for (std::uint32_t file = 0; file < paths.size(); ++file) {
    stats.files.push_back(display_name(paths[file]));
    const std::uint64_t bytes_before = stats.bytes;
    if (auto map = MappedFile::open(paths[file], &shrank[file])) {
      MappedLineReader reader(std::move(map), options.chunk_bytes, options.max_line_bytes);
      const bool whole = read_file(reader, options, stats, bytes_before, spans, next_progress, [&](const LineChunk& c) {
        sink(c, file, &reader.file());
      });
      if (!whole) break;
      continue;
    }
    std::string error;
    auto source = open_input(paths[file], error);
    if (!source) {
      stats.read_errors.push_back(fmt::format("{}: {}", display_name(paths[file]), error));
      continue;
    }
    LineReader reader(*source, options.chunk_bytes, options.max_line_bytes);
    struct Counted {  // bytes as taken from the file (compressed for .gz)
      LineReader& r;
      ByteSource& s;
      bool next(LineChunk& c) { return r.next(c); }
      std::uint64_t bytes() const { return s.raw_bytes(); }
    } counted{reader, *source};
    const bool whole = read_file(counted, options, stats, bytes_before, spans, next_progress,
                                 [&](const LineChunk& c) { sink(c, file, nullptr); });
    stats.bytes = bytes_before + source->raw_bytes();
    if (!reader.error().empty())
      stats.read_errors.push_back(fmt::format("{}: {}", display_name(paths[file]), reader.error()));
    if (!whole) break;
  }
}

// Files cut short while mapped: their bytes past the cut were read as zeros.
void report_shrunk(const std::vector<std::string>& paths, const std::atomic<bool>* shrank, InputStats& stats) {
  for (std::size_t i = 0; i < paths.size(); ++i)
    if (shrank[i].load())
      stats.read_errors.push_back(fmt::format(
          "{}: the file was cut short while it was read (truncated?); bytes past its new end were read as zeros",
          display_name(paths[i])));
}

void add_up(InputStats& stats, std::vector<Worker>& workers, std::size_t keep) {
  for (Worker& w : workers) {
    stats.lines += w.lines;
    stats.blank_lines += w.blank;
    stats.spans_read += w.spans;
    stats.rejected += w.rejected;
    for (Rejection& r : w.rejections) stats.rejections.push_back(std::move(r));
  }
  std::sort(stats.rejections.begin(), stats.rejections.end(),
            [](const Rejection& a, const Rejection& b) { return a.file != b.file ? a.file < b.file : a.line < b.line; });
  if (stats.rejections.size() > keep) stats.rejections.resize(keep);
}

}  // namespace

InputStats ingest(const std::vector<std::string>& paths, const IngestOptions& options, ShardedStore& store) {
  InputStats stats;
  std::vector<Worker> workers;
  // With several threads, N parse while one more reads: reading takes little
  // CPU (a copy and a newline count per chunk), parsing nearly all of it.
  const std::size_t threads = std::max<std::size_t>(options.threads, 1);
  const bool inline_parse = threads == 1 || small_input(paths, options.small_input_bytes);
  const std::size_t parsers = inline_parse ? 1 : threads;
  workers.reserve(parsers);
  for (std::size_t i = 0; i < parsers; ++i) workers.emplace_back(options.parse, store);

  std::atomic<std::uint64_t> spans{0};  // for the progress line only
  const auto shrank = std::make_unique<std::atomic<bool>[]>(paths.size());
  if (inline_parse) {
    read_all(paths, options, stats, spans, shrank.get(),
             [&](const LineChunk& chunk, std::uint32_t file, const std::shared_ptr<MappedFile>* map) {
               process(chunk, file, workers[0], store, options);
               spans.store(workers[0].spans, std::memory_order_relaxed);
               if (map) (*map)->release(chunk.data, chunk.size);
             });
    report_shrunk(paths, shrank.get(), stats);
    add_up(stats, workers, options.max_kept_rejections);
    return stats;
  }

  // Buffers circulate between the reader and the workers, so memory stays at
  // a few chunks whatever the input size.
  BlockingQueue<OwnedChunk> work(threads * 2);
  BlockingQueue<std::vector<char>> spare(threads * 3 + 2);
  for (std::size_t i = 0; i < threads * 3 + 2; ++i) spare.push({});
  std::vector<std::thread> pool;
  for (std::size_t i = 0; i < threads; ++i) {
    pool.emplace_back([&, i] {
      while (auto item = work.pop()) {
        const std::uint64_t before = workers[i].spans;
        process(item->chunk, item->file, workers[i], store, options);
        spans.fetch_add(workers[i].spans - before, std::memory_order_relaxed);
        if (item->map) {
          item->map->release(item->chunk.data, item->chunk.size);
        } else {
          spare.push(std::move(item->bytes));
        }
      }
    });
  }
  read_all(paths, options, stats, spans, shrank.get(),
           [&](const LineChunk& chunk, std::uint32_t file, const std::shared_ptr<MappedFile>* map) {
             OwnedChunk item;
             if (map) {  // parsed where it lies
               item.chunk = chunk;
               item.file = file;
               item.map = *map;
             } else {
               item.bytes = std::move(*spare.pop());
               item.assign(chunk, file);
             }
             work.push(std::move(item));
           });
  work.close();
  for (std::thread& t : pool) t.join();
  report_shrunk(paths, shrank.get(), stats);
  add_up(stats, workers, options.max_kept_rejections);
  return stats;
}

}  // namespace ta
