#include "handlers/files.hpp"

#include <set>
#include <utility>

#include "base/media_type.hpp"
#include "base/text.hpp"
#include "base/uuid.hpp"
#include "handlers/error.hpp"

namespace chatd::http {

namespace {

constexpr std::string_view kFilesPath = "/api/v2/chats/files/";

// The file id of an attachment URL of ours ("/api/v2/chats/files/<uuid>"); none for any other
// URL (data:, http(s):). A URL of ours with no valid id is refused.
std::optional<std::string> file_id_of(const nlohmann::json& attachment) {
  if (!attachment.is_object()) return std::nullopt;
  auto url = attachment.find("url");
  if (url == attachment.end() || !url->is_string()) return std::nullopt;
  std::string_view text = url->get_ref<const std::string&>();
  if (!text.starts_with(kFilesPath)) return std::nullopt;
  auto id = base::parse_uuid(text.substr(kFilesPath.size()));
  if (!id) throw ApiError(400, "Invalid attachment.", "Not a file URL: " + std::string(text));
  return id;
}

// Every uploaded file the messages attach, once each.
std::vector<std::string> file_ids(const nlohmann::json& messages) {
  std::set<std::string> ids;
  for (const auto& message : messages) {
    if (!message.is_object() || !message.contains("experimental_attachments")) continue;
    const auto& attachments = message["experimental_attachments"];
    if (!attachments.is_array()) continue;
    for (const auto& attachment : attachments)
      if (auto id = file_id_of(attachment)) ids.insert(*id);
  }
  return {ids.begin(), ids.end()};
}

}  // namespace

void upload_file(Context& context, Request& request, ResponseWriter& out) {
  // The body comes in pieces, each passed on to the database before the next is read; the
  // first one judges the type, before anything is stored.
  const uint64_t max_bytes = context.reply.max_file_bytes;
  std::string chunk(sql::FileStore::kChunkBytes, '\0');
  uint64_t total = 0;
  auto next = [&]() -> std::string_view {
    size_t got = request.read(chunk.data(), chunk.size());
    total += got;
    if (total > max_bytes) throw body_too_large();
    return {chunk.data(), got};
  };
  std::string_view pending = next();  // handed to the store first; never empty once typed
  auto media_type = base::sniff_media_type(pending);
  if (!media_type)
    throw ApiError(415, "Unsupported file type.",
                   "PNG, JPEG, GIF, WebP and PDF files can be uploaded; this file is none of "
                   "them (its type is judged from its bytes, not from Content-Type).");
  auto stored = context.store.files.store(
      request.identity->user_id, *media_type,
      [&]() { return pending.empty() ? next() : std::exchange(pending, {}); },
      static_cast<long long>(context.reply.max_file_storage_bytes));
  if (!stored)
    throw ApiError(413, "File storage limit reached.",
                   "Your files may take at most " +
                       std::to_string(context.reply.max_file_storage_bytes) +
                       " bytes; files no message uses are deleted a day after their upload.");
  respond_json(out, 201,
               {{"id", stored->id},
                {"media_type", stored->media_type},
                {"size", stored->size},
                {"created_at", stored->created_at}});
}

void get_file(Context& context, Request& request, ResponseWriter& out) {
  auto id = base::parse_uuid(request.path_param("file"));
  if (!id) throw resource_not_found();
  auto files = context.store.files.read(request.identity->user_id, {*id}, /*with_data=*/true);
  if (files.empty()) throw resource_not_found();
  const auto& file = files.front();
  Headers headers = {{"X-Content-Type-Options", "nosniff"},
                     {"Cache-Control", "private, max-age=86400"},
                     {"Content-Security-Policy", "default-src 'none'; sandbox"}};
  if (!file.media_type.starts_with("image/"))
    headers.emplace_back("Content-Disposition", "attachment");
  respond(out, 200, file.media_type, file.data, std::move(headers));
}

std::vector<std::string> attached_files(Context& context, const std::string& user_id,
                                        const nlohmann::json& message) {
  auto ids = file_ids(nlohmann::json::array({message}));
  if (ids.empty()) return ids;
  auto owned = context.store.files.read(user_id, ids, /*with_data=*/false);
  if (owned.size() != ids.size())
    throw ApiError(400, "Invalid attachment.",
                   "An attachment refers to a file that is not one of your uploads.");
  return ids;
}

void inline_attachments(Context& context, const std::string& user_id, nlohmann::json& messages) {
  auto ids = file_ids(messages);
  if (ids.empty()) return;
  std::map<std::string, sql::FileData> files;
  for (auto& file : context.store.files.read(user_id, ids, /*with_data=*/true))
    files.emplace(file.id, std::move(file));
  for (auto& message : messages) {
    if (!message.is_object() || !message.contains("experimental_attachments") ||
        !message["experimental_attachments"].is_array())
      continue;
    auto inlined = nlohmann::json::array();
    for (auto& attachment : message["experimental_attachments"]) {
      auto id = file_id_of(attachment);
      if (id) {
        auto file = files.find(*id);
        if (file == files.end()) continue;  // deleted since: the model goes without it
        attachment["contentType"] = file->second.media_type;
        attachment["url"] =
            "data:" + file->second.media_type + ";base64," + base::base64(file->second.data);
      }
      inlined.push_back(std::move(attachment));
    }
    message["experimental_attachments"] = std::move(inlined);
  }
}

}  // namespace chatd::http
