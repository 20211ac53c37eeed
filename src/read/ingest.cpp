#include "read/ingest.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "read/line_reader.h"

namespace ta {

std::string check_inputs(const std::vector<std::string>& paths) {
  for (const std::string& path : paths) {
    if (path == "-") continue;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return fmt::format("{}: {}", path, std::strerror(errno));
    if (S_ISDIR(st.st_mode)) return fmt::format("{}: is a directory (give the files in it, e.g. {}/*.jsonl)", path, path);
    if (::access(path.c_str(), R_OK) != 0) return fmt::format("{}: {}", path, std::strerror(errno));
  }
  return {};
}

InputStats ingest(const std::vector<std::string>& paths, const IngestOptions& options, SpanStore& store) {
  InputStats stats;
  SpanParser parser(options.parse);
  SpanRecord record;
  auto reject = [&](std::uint32_t file, std::uint64_t line, std::string reason) {
    ++stats.rejected;
    if (stats.rejections.size() < options.max_kept_rejections)
      stats.rejections.push_back({file, line, std::move(reason)});
  };
  std::uint64_t next_progress = 64u << 20;
  for (std::uint32_t file = 0; file < paths.size(); ++file) {
    stats.files.push_back(display_name(paths[file]));
    std::string error;
    auto source = open_input(paths[file], error);
    if (!source) {
      stats.read_errors.push_back(fmt::format("{}: {}", display_name(paths[file]), error));
      continue;
    }
    LineReader reader(*source, options.chunk_bytes, options.max_line_bytes);
    LineChunk chunk;
    const std::uint64_t bytes_before = stats.bytes;
    while (reader.next(chunk)) {
      if (chunk.oversized_line) {
        ++stats.lines;
        reject(file, chunk.oversized_line,
               fmt::format("line of {} bytes is longer than --max-line-bytes {}", chunk.oversized_bytes,
                           options.max_line_bytes));
        continue;
      }
      stats.blank_lines += for_each_line(chunk, [&](std::string_view line, std::uint64_t line_no, std::size_t cap) {
        ++stats.lines;
        if (parser.parse(line, cap, record)) {
          ++stats.spans_read;
          store.add(record, file, static_cast<std::uint32_t>(std::min<std::uint64_t>(line_no, 0xffffffffu)));
        } else {
          reject(file, line_no, parser.error());
        }
      });
      stats.bytes = bytes_before + source->raw_bytes();
      if (options.on_progress && stats.bytes >= next_progress) {
        options.on_progress(stats.bytes, stats.spans_read);
        next_progress = stats.bytes + (64u << 20);
      }
    }
    stats.bytes = bytes_before + source->raw_bytes();
    if (!reader.error().empty())
      stats.read_errors.push_back(fmt::format("{}: {}", display_name(paths[file]), reader.error()));
  }
  return stats;
}

}  // namespace ta
