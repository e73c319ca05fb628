// Files (API.md §10): uploads, their download by their owner, and their use as attachments of
// user messages, which each provider then receives inline in its own format.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "handlers/context.hpp"
#include "handlers/http.hpp"

namespace chatd::http {

// POST /api/v2/chats/files: the raw file as the body; its type judged from its bytes.
void upload_file(Context& context, Request& request, ResponseWriter& out);
// GET /api/v2/chats/files/{file}: the owner's file, else 404.
void get_file(Context& context, Request& request, ResponseWriter& out);

// The ids of the uploaded files a user message attaches (experimental_attachments whose url
// is /api/v2/chats/files/<id>), checked to be the user's own: a 400 otherwise.
std::vector<std::string> attached_files(Context& context, const std::string& user_id,
                                        const nlohmann::json& message);

// The messages a model is sent, their uploaded attachments made inline (data: URLs) from the
// user's files; an attachment whose file is gone is left out.
void inline_attachments(Context& context, const std::string& user_id, nlohmann::json& messages);

}  // namespace chatd::http
