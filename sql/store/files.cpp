#include "sql/store/files.hpp"

#include <openssl/evp.h>

#include <memory>
#include <stdexcept>

#include "sql_queries.hpp"

namespace chatd::sql {

std::optional<StoredFile> FileStore::store(const std::string& user_id, std::string_view media_type,
                                           const Chunks& next, long long max_bytes) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> sha(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!sha || EVP_DigestInit_ex(sha.get(), EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 is not available");
  return transaction(kNoRetry, [&](pqxx::work& tx) -> std::optional<StoredFile> {
    std::string file =
        exec1(tx, query::chat_files_begin, user_id, std::string(media_type))["id"].c_str();
    long long size = 0;
    int n = 0;
    for (std::string_view chunk = next(); !chunk.empty(); chunk = next()) {
      EVP_DigestUpdate(sha.get(), chunk.data(), chunk.size());
      size += static_cast<long long>(chunk.size());
      exec(tx, query::chat_file_chunks_insert, file, n++,
           pqxx::binarystring(chunk.data(), chunk.size()));
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_size = 0;
    EVP_DigestFinal_ex(sha.get(), digest, &digest_size);
    auto row = exec1(tx, query::chat_files_finish, user_id, file,
                     pqxx::binarystring(digest, digest_size), size, max_bytes);
    tx.commit();
    if (std::string_view(row["outcome"].c_str()) != "stored") return std::nullopt;
    return StoredFile{row["id"].c_str(), std::string(media_type), row["size"].as<long long>(),
                      row["created_at"].c_str()};
  });
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
