// Hostile requests through nginx, one table row each: malformed JSON, wrong types, deep
// nesting, huge bodies, bad bytes, odd methods, bad chat ids and bad tokens. Every one is
// refused with a 4xx (by chatd with its JSON error body, or by nginx itself before chatd sees
// it; a body on a GET is only ignored), never a 5xx; none writes to the database, kills a
// worker, or keeps the next normal request from succeeding.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <optional>
#include <ostream>

#include "fixture.hpp"

namespace chatd::test {
namespace {

using nlohmann::json;
using namespace std::string_literals;

// One hostile request and what it must get. Path, headers and raw bytes may hold placeholders,
// filled in at run time: @TOKEN@ (a good token), @CHAT@ (a chat of that token's user),
// @OTHER_CHAT@ (another user's chat), @ADMIN@ (a site admin's token), @EXPIRED@, @REVOKED@,
// @SUSPENDED@ (tokens in those states), @HOST@ (nginx's host:port).
struct Case {
  std::string name;
  std::string method;
  std::string path;
  std::vector<std::string> headers;
  std::string body;
  long status;
  // A substring of the JSON error's "message". Empty: only the status is checked (nginx's own
  // answer to what it cannot parse as HTTP at all, with no error page).
  std::string message;
  // A substring of the JSON error's "detail", when given.
  std::string detail = {};
  // When set, these bytes are written to nginx's port as they are (for what curl would not
  // send); method, path, headers and body are then unused.
  std::string raw = {};
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

constexpr const char* kMessages = "/api/v2/chats/@CHAT@/messages";
constexpr const char* kDecode = "Failed to decode chat message";
constexpr const char* kInvalidChat = "Invalid chat ID.";
constexpr const char* kNotFound = "Resource not found or you do not have access to this resource";
constexpr const char* kNoAccess = "You are signed out";
constexpr const char* kTooLarge = "Request body too large.";
constexpr const char* kNotAllowed = "Method not allowed.";
constexpr const char* kNoToken = "Cookie \"coder_session_token\" or query parameter";
constexpr const char* kFormat = "Invalid API key format: ";
constexpr const char* kNested = "nested more than";
constexpr size_t kWorkerLimit = 64 * 1024;  // the stack's --max-body-size

const std::vector<std::string> kJsonAuth = {"Coder-Session-Token: @TOKEN@",
                                            "Content-Type: application/json"};
const std::string kValidBody =
    R"({"model":"fake-openai","message":{"role":"user","content":"hello"}})";

// A POST of `body` to the user's own chat that must fail decoding with `detail`.
Case undecodable(std::string name, std::string body, std::string detail) {
  return {std::move(name), "POST", kMessages, kJsonAuth,
          std::move(body), 400,    kDecode,   std::move(detail)};
}

// A POST of {"model": "fake-openai", "message": <message>} that must fail decoding.
Case bad_message(std::string name, const std::string& message, std::string detail) {
  return undecodable(std::move(name), R"({"model":"fake-openai","message":)" + message + "}",
                     std::move(detail));
}

// A POST whose body decodes but names a model that does not exist.
Case unknown_model(std::string name, std::string body,
                   std::vector<std::string> headers = kJsonAuth) {
  return {std::move(name), "POST", kMessages,        std::move(headers),
          std::move(body), 400,    "Model not found"};
}

// GET /api/v2/chats with these headers must be a 401 with `message` and `detail`.
Case unauthorized(std::string name, std::vector<std::string> headers, std::string detail,
                  std::string message = kNoAccess) {
  return {std::move(name),  "GET", "/api/v2/chats", std::move(headers), "", 401, std::move(message),
          std::move(detail)};
}

Case malformed_token(std::string name, const std::string& token, std::string reason) {
  return unauthorized(std::move(name), {"Coder-Session-Token: " + token},
                      kFormat + std::move(reason));
}

// A GET of the chat `id` that must be 400 Invalid chat ID.
Case invalid_chat(std::string name, const std::string& id) {
  return {std::move(name), "GET", "/api/v2/chats/" + id, {"Coder-Session-Token: @TOKEN@"}, "", 400,
          kInvalidChat};
}

// Bytes written to nginx's port as they are; no `message`: nginx answers itself.
Case raw(std::string name, std::string bytes, long status, std::string message = {}) {
  return {std::move(name), "", "", {}, "", status, std::move(message), {}, std::move(bytes)};
}

std::string repeat(const std::string& piece, size_t times) {
  std::string out;
  out.reserve(piece.size() * times);
  for (size_t i = 0; i < times; ++i) out += piece;
  return out;
}

// A body that decodes but names an unknown model, padded with spaces to `size` bytes.
std::string padded_body(size_t size) {
  std::string body = R"({"model":"no-such-model","message":{"role":"user","content":"x"}})";
  body.insert(1, std::string(size - body.size(), ' '));
  return body;
}

std::vector<Case> hostile_cases() {
  const std::string valid_token = "Coder-Session-Token: @TOKEN@";
  const std::string token_x = "aaaaaaaaaa-aaaaaaaaaaaaaaaaaaaaaa";
  std::vector<Case> cases = {
      // --- Malformed and truncated JSON.
      undecodable("json_empty_body", "", "invalid JSON: "),
      undecodable("json_whitespace_only", " \n\t ", "invalid JSON: "),
      undecodable("json_open_brace_only", "{", "invalid JSON: "),
      undecodable("json_missing_closing_brace", kValidBody.substr(0, kValidBody.size() - 1),
                  "invalid JSON: "),
      undecodable("json_truncated_in_string", kValidBody.substr(0, 50), "invalid JSON: "),
      undecodable("json_truncated_in_key", R"({"mod)", "invalid JSON: "),
      undecodable("json_missing_value", R"({"model": })", "invalid JSON: "),
      undecodable("json_single_quotes", R"({'model':'fake-openai'})", "invalid JSON: "),
      undecodable("json_trailing_comma",
                  R"({"model":"fake-openai","message":{"role":"user","content":"hi"},})",
                  "invalid JSON: "),
      undecodable("json_trailing_garbage", kValidBody + "garbage", "invalid JSON: "),
      undecodable("json_two_documents", kValidBody + kValidBody, "invalid JSON: "),
      undecodable("json_comment", "/* hi */" + kValidBody, "invalid JSON: "),
      undecodable("json_nan", R"({"model":NaN})", "invalid JSON: "),
      undecodable("json_unquoted_key", R"({model:"fake-openai"})", "invalid JSON: "),
      undecodable("json_lone_surrogate_escape",
                  R"({"model":"fake-openai","message":{"role":"user","content":"\ud800"}})",
                  "invalid JSON: "),
      undecodable("json_bad_escape",
                  R"({"model":"fake-openai","message":{"role":"user","content":"\x"}})",
                  "invalid JSON: "),
      undecodable("json_number_overflow", R"({"model":1e999})", "invalid JSON: "),
      undecodable("json_negative_number_overflow",
                  R"({"model":"fake-openai","thinking":-1e400,"message":{"role":"user"}})",
                  "invalid JSON: "),
      undecodable("json_null_document", "null", "the body must be a JSON object"),
      undecodable("json_array_document", "[]", "the body must be a JSON object"),
      undecodable("json_string_document", R"("hello")", "the body must be a JSON object"),
      undecodable("json_number_document", "42", "the body must be a JSON object"),
      undecodable("json_bom_then_no_message", "\xEF\xBB\xBF{\"model\":\"fake-openai\"}",
                  "\"message\" is required"),
      undecodable("json_form_encoded_body", "model=fake-openai&message=hello", "invalid JSON: "),

      // --- Wrong types for every field of POST .../messages.
      undecodable("model_missing", R"({"message":{"role":"user","content":"hi"}})",
                  "\"model\" is required"),
      undecodable("model_null", R"({"model":null,"message":{"role":"user","content":"hi"}})",
                  "\"model\" must be a string"),
      undecodable("model_number", R"({"model":42,"message":{"role":"user","content":"hi"}})",
                  "\"model\" must be a string"),
      undecodable("model_bool", R"({"model":true,"message":{"role":"user","content":"hi"}})",
                  "\"model\" must be a string"),
      undecodable("model_array",
                  R"({"model":["fake-openai"],"message":{"role":"user","content":"hi"}})",
                  "\"model\" must be a string"),
      undecodable("model_object",
                  R"({"model":{"id":"fake-openai"},"message":{"role":"user","content":"hi"}})",
                  "\"model\" must be a string"),
      undecodable("model_empty", R"({"model":"","message":{"role":"user","content":"hi"}})",
                  "\"model\" must not be empty"),
      unknown_model("model_unknown",
                    R"({"model":"no-such-model","message":{"role":"user","content":"hi"}})"),
      unknown_model("model_with_nul_escape",
                    R"({"model":"fake-openai\u0000","message":{"role":"user","content":"hi"}})"),
      undecodable("message_missing", R"({"model":"fake-openai"})", "\"message\" is required"),
      bad_message("message_null", "null", "\"message\" must be an object"),
      bad_message("message_string", R"("hello")", "\"message\" must be an object"),
      bad_message("message_array", R"([{"role":"user","content":"hi"}])",
                  "\"message\" must be an object"),
      bad_message("message_number", "1", "\"message\" must be an object"),
      bad_message("message_empty_object", "{}", "\"message.role\" must be \"user\""),
      bad_message("role_missing", R"({"content":"hi"})", "\"message.role\" must be \"user\""),
      bad_message("role_assistant", R"({"role":"assistant","content":"hi"})",
                  "\"message.role\" must be \"user\""),
      bad_message("role_system", R"({"role":"system","content":"hi"})",
                  "\"message.role\" must be \"user\""),
      bad_message("role_upper_case", R"({"role":"USER","content":"hi"})",
                  "\"message.role\" must be \"user\""),
      bad_message("role_number", R"({"role":1,"content":"hi"})",
                  "\"message.role\" must be \"user\""),
      bad_message("role_null", R"({"role":null,"content":"hi"})",
                  "\"message.role\" must be \"user\""),
      bad_message("role_array", R"({"role":["user"],"content":"hi"})",
                  "\"message.role\" must be \"user\""),
      bad_message("message_id_number", R"({"id":7,"role":"user","content":"hi"})",
                  "\"message.id\" must be a string"),
      bad_message("content_number", R"({"role":"user","content":42})",
                  "\"message.content\" must be a string"),
      bad_message("content_null", R"({"role":"user","content":null})",
                  "\"message.content\" must be a string"),
      bad_message("content_object", R"({"role":"user","content":{"text":"hi"}})",
                  "\"message.content\" must be a string"),
      bad_message("content_array", R"({"role":"user","content":[{"type":"text","text":"hi"}]})",
                  "\"message.content\" must be a string"),
      bad_message("content_empty_and_no_parts", R"({"role":"user","content":""})",
                  "the message is empty"),
      bad_message("parts_object", R"({"role":"user","parts":{"type":"text","text":"hi"}})",
                  "\"message.parts\" must be an array"),
      bad_message("parts_string", R"({"role":"user","parts":"hi"})",
                  "\"message.parts\" must be an array"),
      bad_message("parts_null", R"({"role":"user","content":"hi","parts":null})",
                  "\"message.parts\" must be an array"),
      bad_message("parts_empty_and_no_content", R"({"role":"user","parts":[]})",
                  "the message is empty"),
      bad_message("parts_item_number", R"({"role":"user","content":"hi","parts":[1]})",
                  "every item of \"message.parts\""),
      bad_message("parts_item_string", R"({"role":"user","content":"hi","parts":["text"]})",
                  "every item of \"message.parts\""),
      bad_message("parts_item_null", R"({"role":"user","content":"hi","parts":[null]})",
                  "every item of \"message.parts\""),
      bad_message("parts_item_without_type", R"({"role":"user","parts":[{"text":"hi"}]})",
                  "every item of \"message.parts\""),
      bad_message("parts_item_type_number", R"({"role":"user","parts":[{"type":1,"text":"hi"}]})",
                  "every item of \"message.parts\""),
      bad_message("parts_second_item_bad",
                  R"({"role":"user","parts":[{"type":"text","text":"hi"},{"type":null}]})",
                  "every item of \"message.parts\""),
      undecodable(
          "thinking_string",
          R"({"model":"fake-openai","thinking":"yes","message":{"role":"user","content":"hi"}})",
          "\"thinking\" must be a boolean"),
      undecodable(
          "thinking_number",
          R"({"model":"fake-openai","thinking":1,"message":{"role":"user","content":"hi"}})",
          "\"thinking\" must be a boolean"),
      undecodable(
          "thinking_object",
          R"({"model":"fake-openai","thinking":{},"message":{"role":"user","content":"hi"}})",
          "\"thinking\" must be a boolean"),
      bad_message("attachments_object",
                  R"({"role":"user","content":"hi","experimental_attachments":{"url":"x"}})",
                  "\"message.experimental_attachments\" must be an array"),
      bad_message("attachments_string",
                  R"({"role":"user","content":"hi","experimental_attachments":"x"})",
                  "\"message.experimental_attachments\" must be an array"),
      bad_message("attachments_null",
                  R"({"role":"user","content":"hi","experimental_attachments":null})",
                  "\"message.experimental_attachments\" must be an array"),
      bad_message("annotations_object", R"({"role":"user","content":"hi","annotations":{}})",
                  "\"message.annotations\" must be an array"),
      bad_message("annotations_number", R"({"role":"user","content":"hi","annotations":3})",
                  "\"message.annotations\" must be an array"),

      // --- Duplicated keys: the last one counts (as in nlohmann::json), so these fail.
      unknown_model(
          "duplicate_model_key_last_unknown",
          R"({"model":"fake-openai","model":"no-such-model","message":{"role":"user","content":"hi"}})"),
      bad_message("duplicate_role_key_last_assistant",
                  R"({"role":"user","role":"assistant","content":"hi"})",
                  "\"message.role\" must be \"user\""),
      undecodable("duplicate_message_key_last_number",
                  R"({"model":"fake-openai","message":{"role":"user","content":"hi"},"message":5})",
                  "\"message\" must be an object"),

      // --- Invalid UTF-8 and NUL bytes in the body.
      undecodable(
          "utf8_invalid_byte_in_string",
          "{\"model\":\"fake-openai\",\"message\":{\"role\":\"user\",\"content\":\"\xFF\xFE\"}}",
          "invalid JSON: "),
      undecodable(
          "utf8_overlong_encoding",
          "{\"model\":\"fake-openai\",\"message\":{\"role\":\"user\",\"content\":\"\xC0\xAF\"}}",
          "invalid JSON: "),
      undecodable(
          "utf8_truncated_sequence",
          "{\"model\":\"fake-openai\",\"message\":{\"role\":\"user\",\"content\":\"\xE2\x82\"}}",
          "invalid JSON: "),
      undecodable("utf8_encoded_surrogate",
                  "{\"model\":\"fake-openai\",\"message\":{\"role\":\"user\",\"content\":"
                  "\"\xED\xA0\x80\"}}",
                  "invalid JSON: "),
      undecodable("utf8_invalid_byte_outside_string", "{\xFF\"model\":\"fake-openai\"}",
                  "invalid JSON: "),
      undecodable(
          "nul_byte_raw_in_string",
          "{\"model\":\"fake-openai\",\"message\":{\"role\":\"user\",\"content\":\"a\0b\"}}"s,
          "invalid JSON: "),
      undecodable("nul_byte_outside_string", "\0{\"model\":\"fake-openai\"}"s, "invalid JSON: "),
      // Valid JSON, then a NUL and more: not JSON, whatever stops reading at the NUL.
      undecodable("nul_byte_after_document", kValidBody + "\0garbage"s, "invalid JSON: "),
      // PostgreSQL's jsonb cannot hold U+0000: such a message cannot be stored.
      bad_message("nul_escape_in_content", R"({"role":"user","content":"a\u0000b"})", "\\u0000"),
      bad_message("nul_escape_in_part_text",
                  R"({"role":"user","parts":[{"type":"text","text":"\u0000"}]})", "\\u0000"),

      // --- Missing or odd Content-Type: the body is JSON whatever the header says.
      unknown_model("content_type_missing",
                    R"({"model":"no-such-model","message":{"role":"user","content":"hi"}})",
                    {valid_token}),
      unknown_model("content_type_text_plain",
                    R"({"model":"no-such-model","message":{"role":"user","content":"hi"}})",
                    {valid_token, "Content-Type: text/plain"}),
      {"content_type_form_with_form_body",
       "POST",
       kMessages,
       {valid_token, "Content-Type: application/x-www-form-urlencoded"},
       "model=fake-openai&message[role]=user",
       400,
       kDecode,
       "invalid JSON: "},
      {"content_type_multipart",
       "POST",
       kMessages,
       {valid_token, "Content-Type: multipart/form-data; boundary=x"},
       "--x\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nfake-openai\r\n--x--\r\n",
       400,
       kDecode,
       "invalid JSON: "},

      // --- Bodies on GET are ignored; too large ones are refused before routing.
      {"get_with_json_body",
       "GET",
       "/api/v2/chats",
       {valid_token, "Content-Type: application/json"},
       kValidBody,
       200,
       ""},
      {"get_with_garbage_body", "GET", kMessages, {valid_token}, "\xFF\0\x01garbage"s, 200, ""},
      {"get_with_body_over_worker_limit",
       "GET",
       "/api/v2/chats",
       {valid_token},
       std::string(kWorkerLimit + 1, 'x'),
       413,
       kTooLarge},
      {"get_with_body_without_token",
       "GET",
       "/api/v2/chats",
       {},
       kValidBody,
       401,
       kNoAccess,
       kNoToken},

      // --- Deep nesting. 100k levels are over the worker's 64 KiB, so the deepest documents the
      // parser can see are the ones just under it.
      {"nesting_100k_arrays_over_limit", "POST", kMessages, kJsonAuth, repeat("[", 100000), 413,
       kTooLarge},
      {"nesting_100k_objects_over_limit", "POST", kMessages, kJsonAuth, repeat("{\"a\":", 100000),
       413, kTooLarge},
      undecodable("nesting_30k_arrays_balanced", repeat("[", 30000) + repeat("]", 30000), kNested),
      undecodable("nesting_60k_arrays_unclosed", repeat("[", 60000), kNested),
      undecodable("nesting_10k_objects_balanced",
                  repeat("{\"a\":", 10000) + "1" + repeat("}", 10000), kNested),
      undecodable("nesting_12k_objects_unclosed", repeat("{\"a\":", 12000), kNested),
      bad_message("nesting_30k_in_content",
                  R"({"role":"user","content":)" + repeat("[", 30000) + repeat("]", 30000) + "}",
                  kNested),
      // Nesting the decoder accepts as it is would be copied, walked and dumped later.
      bad_message("nesting_30k_in_annotations",
                  R"({"role":"user","content":"x","annotations":)" + repeat("[", 30000) +
                      repeat("]", 30000) + "}",
                  kNested),
      bad_message("nesting_10k_in_part",
                  R"({"role":"user","parts":[{"type":"text","text":"x","deep":)" +
                      repeat("{\"a\":", 10000) + "1" + repeat("}", 10000) + "}]}",
                  kNested),

      // --- Huge strings and arrays, around the worker's 64 KiB and nginx's 4 MiB.
      unknown_model("body_exactly_at_worker_limit", padded_body(kWorkerLimit)),
      {"body_one_byte_over_worker_limit", "POST", kMessages, kJsonAuth,
       padded_body(kWorkerLimit + 1), 413, kTooLarge},
      unknown_model("model_string_60k", R"({"model":")" + std::string(60000, 'm') +
                                            R"(","message":{"role":"user","content":"hi"}})"),
      undecodable("content_string_60k_unterminated",
                  R"({"model":"fake-openai","message":{"role":"user","content":")" +
                      std::string(60000, 'c'),
                  "invalid JSON: "),
      {"content_string_100k", "POST", kMessages, kJsonAuth,
       R"({"model":"fake-openai","message":{"role":"user","content":")" +
           std::string(100 * 1024, 'c') + R"("}})",
       413, kTooLarge},
      {"body_1mib_over_worker_limit", "POST", kMessages, kJsonAuth,
       std::string(1024 * 1024, ' ') + kValidBody, 413, kTooLarge},
      // nginx refuses this one itself, with the API's JSON body (its error_page).
      {"body_5mib_over_nginx_limit", "POST", kMessages, kJsonAuth,
       std::string(5 * 1024 * 1024, ' ') + kValidBody, 413, kTooLarge},
      {"create_chat_over_worker_limit", "POST", "/api/v2/chats", kJsonAuth,
       std::string(kWorkerLimit + 1, '{'), 413, kTooLarge},
      bad_message("parts_20k_numbers", R"({"role":"user","parts":[)" + repeat("1,", 20000) + "1]}",
                  "\"message.parts\" may hold at most 200 parts"),
      unknown_model(
          "annotations_30k_items",
          R"({"model":"no-such-model","message":{"role":"user","content":"x","annotations":[)" +
              repeat("0,", 30000) + "0]}}"),
      undecodable("array_document_30k_items", "[" + repeat("0,", 30000) + "0]",
                  "the body must be a JSON object"),
      unknown_model("keys_5k_in_message",
                    [] {
                      std::string keys;
                      for (int i = 0; i < 5000; ++i) keys += "\"k" + std::to_string(i) + "\":0,";
                      return R"({"model":"no-such-model","message":{)" + keys +
                             R"("role":"user","content":"x"}})";
                    }()),

      // --- Odd methods. chatd answers 405 with Allow; nginx refuses TRACE and lower-case
      // methods itself.
      {"method_patch", "PATCH", "/api/v2/chats", {valid_token}, "{}", 405, kNotAllowed},
      {"method_put_chat", "PUT", "/api/v2/chats/@CHAT@", {valid_token}, "", 405, kNotAllowed},
      {"method_put_messages", "PUT", kMessages, kJsonAuth, kValidBody, 405, kNotAllowed},
      {"method_options", "OPTIONS", "/api/v2/chats", {}, "", 405, kNotAllowed},
      {"method_propfind", "PROPFIND", "/api/v2/chats", {valid_token}, "", 405, kNotAllowed},
      {"method_unknown_word", "XYZZY", kMessages, kJsonAuth, kValidBody, 405, kNotAllowed},
      // No body to check on a HEAD.
      {"method_head", "HEAD", "/api/v2/chats/@CHAT@/messages", {valid_token}, "", 405, ""},
      {"method_post_healthz", "POST", "/healthz", {}, kValidBody, 405, kNotAllowed},
      {"nginx_method_trace", "TRACE", "/api/v2/chats", {valid_token}, "", 405, ""},
      {"nginx_method_lower_case_get",
       "get",
       "/api/v2/chats",
       {valid_token},
       "",
       400,
       "Bad request."},

      // --- Chat ids that are not UUIDs, or not the caller's.
      invalid_chat("chat_id_too_short", "1234"),
      invalid_chat("chat_id_too_long", "5b4ba7e5-9f5d-4a6e-8f3c-2d7f1c9b0a110"),
      invalid_chat("chat_id_non_hex", "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz"),
      invalid_chat("chat_id_misplaced_dashes", "5b4ba7e59-f5d-4a6e-8f3c-2d7f1c9b0a11"),
      invalid_chat("chat_id_bad_braces", "{5b4ba7e5-9f5d-4a6e-8f3c-2d7f1c9b0a11]"),
      invalid_chat("chat_id_percent_encoded_garbage", "%41%42%43"),
      invalid_chat("chat_id_percent_encoded_nul_hex", "%2500"),
      invalid_chat("chat_id_unicode", "%C3%A9%C3%A9"),
      invalid_chat("chat_id_sql_injection", "x'%20OR%20'1'='1"),
      invalid_chat("chat_id_dot_dot", "%2e%2e"),
      invalid_chat("chat_id_path_traversal", "..%2Fchats"),
      invalid_chat("chat_id_7k", std::string(7000, 'a')),
      {"chat_id_path_traversal_post", "POST", "/api/v2/chats/..%2F@OTHER_CHAT@/messages", kJsonAuth,
       kValidBody, 400, kInvalidChat},
      // nginx resolves this one out of /api/v2/ and answers its own JSON 404 (location /).
      {"path_traversal_out_of_api",
       "GET",
       "/api/v2/chats/..%2F..%2F..%2Fetc%2Fpasswd",
       {valid_token},
       "",
       404,
       "Route not found."},
      // nginx picks `location = /healthz` for this one, but passes the URI as it came, which
      // chatd routes as POST /api/v2/chats/{chat}: 405.
      {"path_traversal_to_healthz", "POST", "/api/v2/chats/..%2F..%2F..%2Fhealthz", kJsonAuth,
       kValidBody, 405, kNotAllowed},
      {"chat_id_percent_encoded_uuid_unknown",
       "GET",
       "/api/v2/chats/%35b4ba7e5-9f5d-4a6e-8f3c-2d7f1c9b0a11",
       {valid_token},
       "",
       404,
       kNotFound},
      {"chat_id_unknown_post", "POST",
       "/api/v2/chats/5b4ba7e5-9f5d-4a6e-8f3c-2d7f1c9b0a11/messages", kJsonAuth, kValidBody, 404,
       kNotFound},
      {"chat_id_empty_segment",
       "GET",
       "/api/v2/chats//messages",
       {valid_token},
       "",
       404,
       "Route not found."},
      {"other_users_chat_get",
       "GET",
       "/api/v2/chats/@OTHER_CHAT@",
       {valid_token},
       "",
       404,
       kNotFound},
      {"other_users_chat_messages",
       "GET",
       "/api/v2/chats/@OTHER_CHAT@/messages",
       {valid_token},
       "",
       404,
       kNotFound},
      {"other_users_chat_post", "POST", "/api/v2/chats/@OTHER_CHAT@/messages", kJsonAuth,
       kValidBody, 404, kNotFound},
      {"other_users_chat_post_as_admin",
       "POST",
       "/api/v2/chats/@OTHER_CHAT@/messages",
       {"Coder-Session-Token: @ADMIN@", "Content-Type: application/json"},
       kValidBody,
       404,
       kNotFound},
      {"bad_chat_id_before_bad_body", "POST", "/api/v2/chats/nope/messages", kJsonAuth, "{", 400,
       kInvalidChat},
      {"not_found_before_bad_body", "POST", "/api/v2/chats/@OTHER_CHAT@/messages", kJsonAuth, "{",
       404, kNotFound},

      // --- Tokens in every malformed shape, and good tokens that no longer work.
      malformed_token("token_no_dash", std::string(32, 'a'),
                      "incorrect amount of API key parts, expected 2 got 1"),
      malformed_token("token_two_dashes", "aaaaaaaaaa-aaaaaaaaaa-aaaaaaaaaa",
                      "incorrect amount of API key parts, expected 2 got 3"),
      malformed_token("token_only_dash", "-", "invalid API key ID length, expected 10 got 0"),
      malformed_token("token_id_short", "aaaaaaaaa-aaaaaaaaaaaaaaaaaaaaaa",
                      "invalid API key ID length, expected 10 got 9"),
      malformed_token("token_id_long", "aaaaaaaaaaa-aaaaaaaaaaaaaaaaaaaaaa",
                      "invalid API key ID length, expected 10 got 11"),
      malformed_token("token_secret_short", "aaaaaaaaaa-aaaaaaaaaaaaaaaaaaaaa",
                      "invalid API key secret length, expected 22 got 21"),
      malformed_token("token_secret_long", "aaaaaaaaaa-aaaaaaaaaaaaaaaaaaaaaaa",
                      "invalid API key secret length, expected 22 got 23"),
      malformed_token("token_non_alphanumeric", "aaaaaaaa_a-aaaaaaaaaaaaaaaaaaaa!a",
                      "API key must contain only the characters A-Z, a-z and 0-9"),
      malformed_token("token_space_inside", "aaaa aaaaa-aaaaaaaaaaaaaaaaaaaaaa",
                      "API key must contain only the characters A-Z, a-z and 0-9"),
      malformed_token("token_unicode", "aaaaaaaa\xC3\xA9-aaaaaaaaaaaaaaaaaaaaaa",
                      "API key must contain only the characters A-Z, a-z and 0-9"),
      malformed_token("token_latin1_byte", "aaaaaaaaa\xE9-aaaaaaaaaaaaaaaaaaaaaa",
                      "API key must contain only the characters A-Z, a-z and 0-9"),
      malformed_token("token_7k", std::string(7000, 'a'),
                      "incorrect amount of API key parts, expected 2 got 1"),
      // Over nginx's 8 KiB header buffer: nginx's own 400 ("Request Header Or Cookie Too Large").
      {"nginx_token_10k_header",
       "GET",
       "/api/v2/chats",
       {"Coder-Session-Token: " + std::string(10240, 'a')},
       "",
       400,
       "Request headers too large."},
      // ... and as a query parameter: the URL is over nginx's limit.
      {"nginx_token_10k_query",
       "GET",
       "/api/v2/chats?coder_session_token=" + std::string(10240, 'a'),
       {},
       "",
       414,
       "Request URI too long."},
      unauthorized("token_empty_header", {"Coder-Session-Token;"}, kNoToken),
      unauthorized("token_bearer_without_token", {"Authorization: Bearer"}, kNoToken),
      unauthorized("token_bearer_only_spaces", {"Authorization: Bearer    "}, kNoToken),
      unauthorized("token_basic_scheme", {"Authorization: Basic @TOKEN@"}, kNoToken),
      unauthorized("token_bearer_malformed", {"Authorization: Bearer abc"},
                   kFormat + "incorrect amount of API key parts"s),
      unauthorized("token_underscore_header_name_ignored", {"Coder_Session_Token: @TOKEN@"},
                   kNoToken),
      unauthorized("token_cookie_malformed", {"Cookie: coder_session_token=\"abc"},
                   kFormat + "incorrect amount of API key parts"s),
      {"token_query_nul",
       "GET",
       "/api/v2/chats?coder_session_token=%00",
       {},
       "",
       401,
       kNoAccess,
       kFormat + "incorrect amount of API key parts"s},
      // Duplicated headers: Coder (Go's Header.Get) reads the first one.
      unauthorized("token_duplicated_bad_first",
                   {"Coder-Session-Token: " + token_x, "Coder-Session-Token: @TOKEN@"},
                   "API key is invalid."),
      unauthorized("token_unknown_id", {"Coder-Session-Token: " + token_x}, "API key is invalid."),
      unauthorized("token_expired", {"Coder-Session-Token: @EXPIRED@"}, "API key expired at"),
      unauthorized("token_revoked", {"Coder-Session-Token: @REVOKED@"}, "API key is invalid."),
      unauthorized("token_suspended_user", {"Coder-Session-Token: @SUSPENDED@"}, "",
                   "User is not active (status = \"suspended\")"),
      {"token_expired_post_message",
       "POST",
       kMessages,
       {"Coder-Session-Token: @EXPIRED@", "Content-Type: application/json"},
       kValidBody,
       401,
       kNoAccess,
       "API key expired at"},
      {"token_missing_post_message",
       "POST",
       kMessages,
       {"Content-Type: application/json"},
       kValidBody,
       401,
       kNoAccess,
       kNoToken},
      {"token_suspended_create_chat",
       "POST",
       "/api/v2/chats",
       {"Coder-Session-Token: @SUSPENDED@"},
       "",
       401,
       "User is not active"},
      {"token_revoked_create_chat",
       "POST",
       "/api/v2/chats",
       {"Coder-Session-Token: @REVOKED@"},
       "",
       401,
       kNoAccess,
       "API key is invalid."},

      // --- GET …/stream?after=: digits only.
      {"stream_after_plus",
       "GET",
       "/api/v2/chats/@CHAT@/stream?after=%2B5",
       {valid_token},
       "",
       400,
       "Invalid \"after\""},
      {"stream_after_space",
       "GET",
       "/api/v2/chats/@CHAT@/stream?after=%205",
       {valid_token},
       "",
       400,
       "Invalid \"after\""},
      {"stream_after_negative",
       "GET",
       "/api/v2/chats/@CHAT@/stream?after=-1",
       {valid_token},
       "",
       400,
       "Invalid \"after\""},
      {"stream_after_hex",
       "GET",
       "/api/v2/chats/@CHAT@/stream?after=0x10",
       {valid_token},
       "",
       400,
       "Invalid \"after\""},
      {"stream_after_huge",
       "GET",
       "/api/v2/chats/@CHAT@/stream?after=18446744073709551616",
       {valid_token},
       "",
       400,
       "Invalid \"after\""},
      {"stream_after_empty",
       "GET",
       "/api/v2/chats/@CHAT@/stream?after=",
       {valid_token},
       "",
       400,
       "Invalid \"after\""},

      // --- NUL in the URL, overlong URLs and headers: nginx's own answers.
      {"nginx_nul_in_path",
       "GET",
       "/api/v2/chats/%00/messages",
       {valid_token},
       "",
       400,
       "Bad request."},
      {"nginx_nul_after_chat_id",
       "GET",
       "/api/v2/chats/@CHAT@%00",
       {valid_token},
       "",
       400,
       "Bad request."},
      {"nginx_url_9k",
       "GET",
       "/api/v2/chats/" + std::string(9000, 'a'),
       {valid_token},
       "",
       414,
       "Request URI too long."},
      {"nginx_header_9k",
       "GET",
       "/api/v2/chats",
       {valid_token, "X-Big: " + std::string(9000, 'h')},
       "",
       400,
       "Request headers too large."},
      {"nginx_cookie_9k",
       "GET",
       "/api/v2/chats",
       {valid_token, "Cookie: a=" + std::string(9000, 'c')},
       "",
       400,
       "Request headers too large."},
      {"nginx_headers_40k_total", "GET", "/api/v2/chats",
       [] {
         std::vector<std::string> many = {"Coder-Session-Token: @TOKEN@"};
         for (int i = 0; i < 8; ++i)
           many.push_back("X-H" + std::to_string(i) + ": " + std::string(5000, 'v'));
         return many;
       }(),
       "", 400, "Request headers too large."},

      // --- Bytes curl would not send, written to nginx's port as they are.
      raw("raw_request_line_9k",
          "GET /api/v2/chats?" + std::string(9000, 'q') +
              " HTTP/1.1\r\nHost: @HOST@\r\nConnection: close\r\n\r\n",
          414),
      raw("raw_nul_in_header_value",
          "GET /api/v2/chats HTTP/1.1\r\nHost: @HOST@\r\nCoder-Session-Token: @TOKEN@\0x\r\n"
          "Connection: close\r\n\r\n"s,
          400),
      raw("raw_nul_in_request_line",
          "GET /api/v2/chats\0 HTTP/1.1\r\nHost: @HOST@\r\nConnection: close\r\n\r\n"s, 400),
      raw("raw_header_without_colon",
          "GET /api/v2/chats HTTP/1.1\r\nHost: @HOST@\r\nthis is not a header\r\n"
          "Connection: close\r\n\r\n",
          400),
      raw("raw_control_byte_in_header_name",
          "GET /api/v2/chats HTTP/1.1\r\nHost: @HOST@\r\nCoder-Session\x01Token: @TOKEN@\r\n"
          "Connection: close\r\n\r\n",
          400),
      raw("raw_high_bytes_in_header_value",
          "GET /api/v2/chats HTTP/1.1\r\nHost: @HOST@\r\nCoder-Session-Token: \xFF\xFE\xFD\r\n"
          "Connection: close\r\n\r\n",
          401, kNoAccess),
      raw("raw_http11_without_host", "GET /api/v2/chats HTTP/1.1\r\nConnection: close\r\n\r\n",
          400),
      raw("raw_lower_case_method",
          "post /api/v2/chats HTTP/1.1\r\nHost: @HOST@\r\nConnection: close\r\n\r\n", 400),
      raw("raw_method_with_symbol",
          "G@T /api/v2/chats HTTP/1.1\r\nHost: @HOST@\r\nConnection: close\r\n\r\n", 400),
      raw("raw_connect_method",
          "CONNECT @HOST@ HTTP/1.1\r\nHost: @HOST@\r\nConnection: close\r\n\r\n", 400),
      raw("raw_space_in_path",
          "GET /api/v2/chats/a b HTTP/1.1\r\nHost: @HOST@\r\nConnection: close\r\n\r\n", 400),
      raw("raw_asterisk_target", "GET * HTTP/1.1\r\nHost: @HOST@\r\nConnection: close\r\n\r\n",
          400),
      raw("raw_relative_target",
          "GET api/v2/chats HTTP/1.1\r\nHost: @HOST@\r\nConnection: close\r\n\r\n", 400),
      raw("raw_content_length_not_a_number",
          "POST /api/v2/chats/@CHAT@/messages HTTP/1.1\r\nHost: @HOST@\r\nContent-Length: abc\r\n"
          "Connection: close\r\n\r\n{}",
          400),
      raw("raw_content_length_negative",
          "POST /api/v2/chats/@CHAT@/messages HTTP/1.1\r\nHost: @HOST@\r\nContent-Length: -2\r\n"
          "Connection: close\r\n\r\n{}",
          400),
      raw("raw_content_length_and_chunked",
          "POST /api/v2/chats/@CHAT@/messages HTTP/1.1\r\nHost: @HOST@\r\nContent-Length: 2\r\n"
          "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
          400),
      raw("raw_chunked_bad_size",
          "POST /api/v2/chats/@CHAT@/messages HTTP/1.1\r\nHost: @HOST@\r\n"
          "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
          400),
      raw("raw_chunked_truncated_json",
          "POST /api/v2/chats/@CHAT@/messages HTTP/1.1\r\nHost: @HOST@\r\n"
          "Coder-Session-Token: @TOKEN@\r\nContent-Type: application/json\r\n"
          "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
          "5\r\n{\"mod\r\n0\r\n\r\n",
          400, kDecode),
      raw("raw_chunked_over_worker_limit",
          "POST /api/v2/chats/@CHAT@/messages HTTP/1.1\r\nHost: @HOST@\r\n"
          "Coder-Session-Token: @TOKEN@\r\nContent-Type: application/json\r\n"
          "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
              repeat("8000\r\n" + std::string(0x8000, ' ') + "\r\n", 3) + "0\r\n\r\n",
          413, kTooLarge),
  };
  return cases;
}

// What came back from bytes written to a socket.
struct RawResponse {
  long status = 0;
  std::string head;
  std::string body;
  std::string error;
};

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string dechunk(const std::string& body) {
  std::string out;
  size_t at = 0;
  while (at < body.size()) {
    size_t eol = body.find("\r\n", at);
    if (eol == std::string::npos) break;
    size_t size = std::stoul(body.substr(at, eol - at), nullptr, 16);
    if (size == 0) break;
    out += body.substr(eol + 2, size);
    at = eol + 2 + size + 2;
  }
  return out;
}

// Writes `bytes` to 127.0.0.1:`port` and reads the answer until the server closes.
RawResponse raw_exchange(int port, const std::string& bytes,
                         std::chrono::milliseconds timeout = 20s) {
  RawResponse r;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    r.error = "connect failed";
    return r;
  }
  // nginx may answer (and close) before it read everything: a failed send is not an error.
  for (size_t sent = 0; sent < bytes.size();) {
    ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string in;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      r.error = "timeout";
      break;
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[65536];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;  // closed (or reset after the answer)
    in.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  size_t end = in.find("\r\n\r\n");
  if (in.rfind("HTTP/1.", 0) != 0 || end == std::string::npos || in.size() < 12) {
    if (r.error.empty()) r.error = "no HTTP answer: " + in;
    return r;
  }
  r.status = std::stol(in.substr(9, 3));
  r.head = in.substr(0, end);
  r.body = in.substr(end + 4);
  if (lower(r.head).find("transfer-encoding: chunked") != std::string::npos)
    r.body = dechunk(r.body);
  return r;
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

size_t count_of(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// chatd's error body: {"message": ..., "detail": ...} with the expected substrings.
void expect_error_body(const Case& c, const std::string& content_type, const std::string& body) {
  EXPECT_EQ(lower(content_type), "application/json; charset=utf-8");
  auto doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(doc.is_object() && doc.contains("message") && doc["message"].is_string())
      << body.substr(0, 2000);
  EXPECT_NE(doc["message"].get<std::string>().find(c.message), std::string::npos) << doc["message"];
  if (c.detail.empty()) return;
  ASSERT_TRUE(doc.contains("detail") && doc["detail"].is_string()) << body.substr(0, 2000);
  EXPECT_NE(doc["detail"].get<std::string>().find(c.detail), std::string::npos)
      << doc["detail"].get<std::string>().substr(0, 2000);
}

// The users, tokens and chats the placeholders stand for, made once for the whole table.
struct Actors {
  std::map<std::string, std::string> values;
  std::string token;
};

class HostileRequest : public StackTest, public ::testing::WithParamInterface<Case> {
 protected:
  void SetUp() override {
    StackTest::SetUp();
    if (IsSkipped()) return;
    if (!actors_) actors_ = make_actors();
  }

  Actors make_actors() {
    Actors a;
    a.token = stack_->new_user_token(unique("hostile"));
    auto admin = stack_->new_user_token(unique("hostileadmin"), /*admin=*/true);
    auto other = stack_->new_user_token(unique("hostileother"));
    auto expired = stack_->new_user_token(unique("hostileexpired"));
    stack_->sql("UPDATE api_keys SET expires_at = now() - interval '1 hour' WHERE id = '" +
                expired.substr(0, 10) + "'");
    auto revoked = stack_->new_user_token(unique("hostilerevoked"));
    EXPECT_EQ(stack_->chatd->cli({"tokens", "revoke", revoked.substr(0, 10)}).exit_code, 0);
    auto suspended_name = unique("hostilesuspended");
    auto suspended = stack_->new_user_token(suspended_name);
    EXPECT_EQ(stack_->chatd->cli({"users", "suspend", suspended_name}).exit_code, 0);
    std::string base = stack_->nginx->base_url();
    a.values = {{"@TOKEN@", a.token},
                {"@CHAT@", create_chat(a.token)["id"]},
                {"@OTHER_CHAT@", create_chat(other)["id"]},
                {"@ADMIN@", admin},
                {"@EXPIRED@", expired},
                {"@REVOKED@", revoked},
                {"@SUSPENDED@", suspended},
                {"@HOST@", base.substr(base.rfind('/') + 1)}};
    // Replies of earlier tests may still be finishing: wait until nothing writes any more.
    EXPECT_TRUE(wait_until(
        [&] {
          return stack_->sql("SELECT count(*) FROM chat_replies WHERE finished_at IS NULL")
                     .at(0)
                     .at(0) == "0";
        },
        30s, 100ms))
        << "a reply of an earlier test is still running";
    since_ = stack_->sql("SELECT now()").at(0).at(0);
    return a;
  }

  std::string fill(std::string text) const {
    for (const auto& [key, value] : actors_->values) replace_all(text, key, value);
    return text;
  }

  // Row counts of every table a request could write to. chat_replies keeps finished rows a
  // while, prunes them in the background and reuses a chat's row for its next reply, so what
  // is compared there is the claims made since the table started (a claim, new or reused,
  // sets started_at): their number and the latest.
  std::vector<std::string> row_counts() const {
    return stack_->sql(
        "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM api_keys), "
        "(SELECT count(*) FROM chats), (SELECT count(*) FROM chat_messages), "
        "(SELECT count(*) || ' ' || coalesce(max(started_at)::text, '-') FROM chat_replies "
        "WHERE started_at >= '" +
        since_ + "')")[0];
  }

  static std::optional<Actors> actors_;
  static std::string since_;
};

std::optional<Actors> HostileRequest::actors_;
std::string HostileRequest::since_;

TEST_P(HostileRequest, IsHandledCleanly) {
  const Case& c = GetParam();
  auto counts_before = row_counts();
  auto workers_before = stack_->chatd->worker_pids();
  auto died_before = count_of(read_file(stack_->chatd->log_path()), "worker died");

  long status;
  std::string body, content_type, error;
  if (!c.raw.empty()) {
    auto r = raw_exchange(stack_->nginx->port(), fill(c.raw));
    status = r.status;
    body = r.body;
    error = r.error;
    auto head = lower(r.head);
    auto at = head.find("\r\ncontent-type: ");
    if (at != std::string::npos) {
      at += 16;
      content_type = head.substr(at, head.find("\r\n", at) - at);
    }
  } else {
    std::vector<std::string> headers;
    for (const auto& h : c.headers) headers.push_back(fill(h));
    auto r = http(c.method, stack_->url(fill(c.path)), headers, c.body);
    status = r.status;
    body = r.body;
    error = r.error;
    content_type = r.header("content-type");
  }

  EXPECT_EQ(status, c.status) << error << "\n" << body.substr(0, 2000);
  EXPECT_TRUE(status >= 200 && status < 500) << "status " << status << " " << error;
  if (!c.message.empty()) expect_error_body(c, content_type, body);

  EXPECT_EQ(row_counts(), counts_before)
      << "users, api_keys, chats, chat_messages, chat_replies changed";
  EXPECT_EQ(stack_->chatd->worker_pids(), workers_before) << "a worker was replaced";
  EXPECT_EQ(count_of(read_file(stack_->chatd->log_path()), "worker died"), died_before);
  auto after = call("GET", "/api/v2/chats", actors_->token);
  EXPECT_EQ(after.status, 200) << after.error << after.body;
}

INSTANTIATE_TEST_SUITE_P(Hostile, HostileRequest, ::testing::ValuesIn(hostile_cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace chatd::test
