// Uploaded files (API.md §10): stored in PostgreSQL, one per user and content, read by their
// owner alone, deleted 24 hours after their upload once no message references them.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sql/statement.hpp"

namespace chatd::sql {

struct StoredFile {
  std::string id;
  std::string media_type;
  long long size = 0;
  std::string created_at;  // RFC 3339: its (last) upload
};

// A file with its bytes.
struct FileData {
  std::string id;
  std::string media_type;
  std::string data;
};

class FileStore : Executor {
 public:
  using Executor::Executor;

  // The next piece of an upload's bytes (any size up to kChunkBytes); empty at their end.
  using Chunks = std::function<std::string_view()>;
  static constexpr size_t kChunkBytes = 256 * 1024;

  // Stores the bytes `next` gives (of the type judged from their start) for the user, or finds
  // the same bytes they uploaded before; none when it would take their files past `max_bytes`.
  // Each piece goes to PostgreSQL as it comes, a binary parameter of its own, and the digest
  // is taken on the way: no copy of the whole file is made.
  std::optional<StoredFile> store(const std::string& user_id, std::string_view media_type,
                                  const Chunks& next, long long max_bytes);
  // The user's files among `ids` (canonical UUIDs), with their bytes or without; another
  // user's are not there.
  std::vector<FileData> read(const std::string& user_id, const std::vector<std::string>& ids,
                             bool with_data);
  // Deletes at most `batch` files no message references, 24 hours after their upload (one
  // worker at a time); returns how many went.
  size_t prune(int batch);
};

}  // namespace chatd::sql
