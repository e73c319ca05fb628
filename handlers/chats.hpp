// /api/v2/chats and /api/v2/chats/{chat}[/messages]: list, create, read, change, delete.
#pragma once

#include "handlers/context.hpp"
#include "handlers/http.hpp"
#include "sql/store.hpp"

namespace chatd::http {

void list_chats(Context& context, Request& request, ResponseWriter& out);
void create_chat(Context& context, Request& request, ResponseWriter& out);
void get_chat(Context& context, Request& request, ResponseWriter& out);
void update_chat(Context& context, Request& request, ResponseWriter& out);
void delete_chat(Context& context, Request& request, ResponseWriter& out);
void list_chat_messages(Context& context, Request& request, ResponseWriter& out);

// The API's Chat object (API.md §3, §8).
nlohmann::ordered_json chat_json(const sql::ChatRecord& chat);

enum class ChatAccess { kRead, kWrite };

// The {chat} of the path, read in the statement that authenticates the caller (the first thing
// the handler of an Access::kUserInRead route of one chat does), if the caller may read (owner
// or site admin) or write (owner only) it. Throws the 401 or 429 of handlers/auth.hpp, 400
// "Invalid chat ID." or the 404 that hides whether the chat exists.
sql::ChatRecord load_chat(Context& context, Request& request, ChatAccess access);

}  // namespace chatd::http
