// Uploaded files (API.md §10): stored in PostgreSQL, one per user and content, read by their
// owner alone, deleted 24 hours after their upload once no message references them.
#pragma once

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

  // Stores `data` (of the type judged from it) for the user, or finds the same bytes they
  // uploaded before; none when it would take their files past `max_bytes`. The bytes go to
  // PostgreSQL as a binary parameter, no escaping; `data` is let go once libpqxx has its copy,
  // so that an upload never holds more than two copies (that one, and libpq's message).
  std::optional<StoredFile> store(const std::string& user_id, std::string_view media_type,
                                  std::string data, long long max_bytes);
  // The user's files among `ids` (canonical UUIDs), with their bytes or without; another
  // user's are not there.
  std::vector<FileData> read(const std::string& user_id, const std::vector<std::string>& ids,
                             bool with_data);
  // Deletes at most `batch` files no message references, 24 hours after their upload (one
  // worker at a time); returns how many went.
  size_t prune(int batch);
};

}  // namespace chatd::sql
