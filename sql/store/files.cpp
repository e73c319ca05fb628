#include "sql/store/files.hpp"

#include "sql_queries.hpp"

namespace chatd::sql {

std::optional<StoredFile> FileStore::store(const std::string& user_id, std::string_view media_type,
                                           std::string data, long long max_bytes) {
  pqxx::binarystring bytes(data.data(), data.size());
  std::string().swap(data);
  auto row =
      exec1(kNoRetry, query::chat_files_insert, user_id, std::string(media_type), bytes, max_bytes);
  if (std::string_view(row["outcome"].c_str()) != "stored") return std::nullopt;
  return StoredFile{row["id"].c_str(), std::string(media_type), row["size"].as<long long>(),
                    row["created_at"].c_str()};
}

std::vector<FileData> FileStore::read(const std::string& user_id,
                                      const std::vector<std::string>& ids, bool with_data) {
  std::vector<FileData> files;
  if (ids.empty()) return files;
  for (const auto& row : exec(query::chat_files_get, user_id, uuid_array(ids), with_data)) {
    pqxx::binarystring data(row["data"]);
    files.push_back({row["id"].c_str(), row["media_type"].c_str(), data.str()});
  }
  return files;
}

size_t FileStore::prune(int batch) {
  return exec1(kNoRetry, query::chat_files_prune, batch)["deleted"].as<size_t>();
}

}  // namespace chatd::sql
