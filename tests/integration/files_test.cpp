// Files (API.md §10) through nginx: uploads judged by their bytes whatever Content-Type says,
// read back by their owner alone, attached to messages by URL and sent to each provider inline
// in its own format (checked by the fake provider as each provider checks it), deleted a day
// after their upload once no message uses them.
#include "sql/store/files.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <pqxx/pqxx>
#include <thread>

#include "fixture.hpp"
#include "sql/pool.hpp"
#include "tests/unit/fcgi_records.hpp"

namespace chatd::test {
namespace {

using json = nlohmann::json;
using namespace std::literals;

// Real files, small: a 1×1 PNG, a 1×1 GIF, a JPEG's and a WebP's headers with a body, a PDF.
const std::string kPng =
    "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\x0d"
    "IDATx\xda\x63\xf8\xff\xff\x3f\0\x05\xfe\x02\xfe\xa7\xd6\xa4\xf9\0\0\0\0IEND\xae\x42\x60\x82"s;
const std::string kGif =
    "GIF89a\x01\0\x01\0\x80\0\0\xff\xff\xff\0\0\0!\xf9\x04\x01\0\0\0\0,\0\0\0\0\x01\0\x01\0\0\x02"
    "\x02\x44\x01\0;"s;
const std::string kJpeg = "\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0\xff\xd9"s;
const std::string kWebp =
    "RIFF\x1a\0\0\0WEBPVP8L\x0d\0\0\0\x2f\0\0\0\x10\x07\x10\x11\x11\x88\x88\xfe\x07\0"s;
const std::string kPdf =
    "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>"
    "endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"s;

// One FastCGI request straight to chatd's socket, as a front end other than nginx may send it:
// the body in FCGI_STDIN records to its end, with no CONTENT_LENGTH unless `params` has one
// (FastCGI 1.0: 5.1 FCGI_BEGIN_REQUEST, 5.2 name-value pairs, 3.3 records). Returns the
// response's FCGI_STDOUT content once FCGI_END_REQUEST came, or "" when it did not.
std::string fastcgi_call(const std::string& socket_path,
                         const std::vector<std::pair<std::string, std::string>>& params,
                         std::string_view body) {
  auto record = [](std::string& out, uint8_t type, std::string_view content) {
    const char header[fcgi::kHeaderSize] = {1,
                                            static_cast<char>(type),
                                            0,
                                            1,
                                            static_cast<char>(content.size() >> 8),
                                            static_cast<char>(content.size() & 0xff),
                                            0,
                                            0};
    out.append(header, sizeof header).append(content);
  };
  auto length = [](std::string& out, size_t n) {
    if (n < 128) {
      out += static_cast<char>(n);
      return;
    }
    for (int shift : {24, 16, 8, 0}) out += static_cast<char>(((n | 0x80000000u) >> shift) & 0xff);
  };
  std::string request, pairs;
  record(request, 1, std::string_view("\0\1\0\0\0\0\0\0", 8));  // responder, close after
  for (const auto& [name, value] : params) {
    length(pairs, name.size());
    length(pairs, value.size());
    pairs += name + value;
  }
  record(request, 4, pairs);
  record(request, 4, "");
  for (size_t at = 0; at < body.size(); at += fcgi::kMaxContent)
    record(request, 5, body.substr(at, fcgi::kMaxContent));
  record(request, 5, "");

  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, socket_path.c_str(), sizeof address.sun_path - 1);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  const timeval deadline{.tv_sec = 60, .tv_usec = 0};  // a hung response fails, not hangs
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &deadline, sizeof deadline);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &deadline, sizeof deadline);
  // Written beside the reading: chatd may answer before it has read the whole body.
  std::thread writer([&] {
    for (size_t at = 0; at < request.size();) {
      ssize_t n = ::send(fd, request.data() + at, request.size() - at, MSG_NOSIGNAL);
      if (n <= 0) break;
      at += static_cast<size_t>(n);
    }
  });
  std::string response;
  char buffer[65536];
  for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;) response.append(buffer, n);
  writer.join();
  ::close(fd);
  std::string out;
  bool ended = false;
  for (const auto& r : fcgi::testing::decode(response)) {
    if (r.type == fcgi::kStdout) out += r.content;
    ended = ended || r.type == fcgi::kEndRequest;
  }
  return ended ? out : "";
}

class Files : public ReplyTest {
 protected:
  HttpResponse upload(const std::string& token, const std::string& bytes,
                      const std::string& content_type = "application/octet-stream",
                      const std::string& base = "") {
    return http("POST", (base.empty() ? stack_->url("") : base) + "/api/v2/chats/files",
                {"Coder-Session-Token: " + token, "Content-Type: " + content_type}, bytes);
  }
  std::string upload_id(const std::string& token, const std::string& bytes) {
    auto r = upload(token, bytes);
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body)["id"];
  }
  // How many files and pieces the user has in the database.
  std::string stored_of(const std::string& username) {
    auto row = stack_->sql(
        "SELECT count(DISTINCT f.id), count(c.n) FROM chat_files f JOIN users u ON u.id = "
        "f.user_id LEFT JOIN chat_file_chunks c ON c.file_id = f.id WHERE u.username = '" +
        username + "'")[0];
    return row[0] + " files, " + row[1] + " pieces";
  }
  // A user message attaching uploaded files by URL.
  static json with_files(json message,
                         const std::vector<std::pair<std::string, std::string>>& files) {
    auto attachments = json::array();
    for (const auto& [id, type] : files)
      attachments.push_back({{"name", "file-" + id.substr(0, 8)},
                             {"contentType", type},
                             {"url", "/api/v2/chats/files/" + id}});
    message["experimental_attachments"] = attachments;
    return message;
  }
};

TEST_F(Files, TheTypeIsJudgedFromTheBytesNotFromContentType) {
  auto token = stack_->new_user_token(unique("upload"));
  const std::vector<std::tuple<std::string, std::string, std::string>> files = {
      {kPng, "image/png", "text/html"},
      {kJpeg, "image/jpeg", "image/png"},
      {kGif, "image/gif", "application/pdf"},
      {kWebp, "image/webp", ""},
      {kPdf, "application/pdf", "image/jpeg"}};
  for (const auto& [bytes, judged, claimed] : files) {
    SCOPED_TRACE(judged);
    auto r = upload(token, bytes, claimed);
    ASSERT_EQ(r.status, 201) << r.body;
    auto body = json::parse(r.body);
    EXPECT_EQ(body["media_type"], judged);
    EXPECT_EQ(body["size"], bytes.size());
    EXPECT_TRUE(body["created_at"].is_string());
    // The same bytes again are the same file.
    auto again = upload(token, bytes, claimed);
    ASSERT_EQ(again.status, 201) << again.body;
    EXPECT_EQ(json::parse(again.body)["id"], body["id"]);
  }
  // Anything else: a text claiming to be an image, nothing at all, a PNG cut inside its
  // header, a PDF header further in (a polyglot's trick).
  for (const std::string& bytes :
       {"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"s, ""s,
        kPng.substr(0, 12), "<html>\n" + kPdf}) {
    auto r = upload(token, bytes, "image/png");
    EXPECT_EQ(r.status, 415) << r.body;
    EXPECT_EQ(json::parse(r.body)["message"], "Unsupported file type.");
  }
  // A GIF that is also a script is a GIF, served as one with nosniff.
  auto polyglot =
      upload(token, "GIF89a/*\x01\0\x80\0\0*/=alert(document.domain);"s, "text/javascript");
  ASSERT_EQ(polyglot.status, 201);
  EXPECT_EQ(json::parse(polyglot.body)["media_type"], "image/gif");
  EXPECT_EQ(upload("", kPng).status, 401);
}

// max-file-size (10 MiB): exactly that goes through nginx and chatd; one byte more is refused.
TEST_F(Files, AnUploadMayHaveExactlyTheSizeLimit) {
  auto token = stack_->new_user_token(unique("bigfile"));
  std::string exact = kPng + std::string((10u << 20) - kPng.size(), '\0');
  auto r = upload(token, exact);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(json::parse(r.body)["size"], 10u << 20);
  auto over = upload(token, exact + "x");
  EXPECT_EQ(over.status, 413) << over.body;
}

// An upload goes to the database in pieces as it comes (migration 0017): a file of several
// pieces comes back whole and in order; the same bytes again are the same file, and neither
// that upload nor a refused one leaves a row or a piece behind.
TEST_F(Files, ALargeFileIsStoredInPiecesAndComesBackWhole) {
  auto name = unique("pieces");
  auto token = stack_->new_user_token(name);
  std::string bytes = kPdf;
  for (size_t i = 0; bytes.size() < 1'100'000; ++i) bytes += std::to_string(i * 7919) + ",";
  auto id = upload_id(token, bytes);
  auto got = call("GET", "/api/v2/chats/files/" + id, token);
  ASSERT_EQ(got.status, 200);
  EXPECT_TRUE(got.body == bytes) << "the bytes differ (" << got.body.size() << " of "
                                 << bytes.size() << ")";
  auto pieces = [&] {
    return stack_->sql("SELECT count(*) FROM chat_file_chunks WHERE file_id = '" + id + "'")[0][0];
  };
  size_t expected = (bytes.size() + sql::FileStore::kChunkBytes - 1) / sql::FileStore::kChunkBytes;
  EXPECT_EQ(pieces(), std::to_string(expected));
  EXPECT_EQ(upload_id(token, bytes), id);
  EXPECT_EQ(stored_of(name), "1 files, " + std::to_string(expected) + " pieces");
}

// A file stored whole (before migration 0017, or by a host not yet upgraded) is read as it was.
TEST_F(Files, AFileStoredWholeIsReadAsBefore) {
  auto name = unique("whole");
  auto token = stack_->new_user_token(name);
  auto id = stack_->sql(
      "INSERT INTO chat_files (user_id, sha256, media_type, size, data) SELECT id, "
      "sha256('\\x0102'::bytea), 'application/pdf', 2, '\\x0102'::bytea FROM users WHERE "
      "username = '" +
      name + "' RETURNING id")[0][0];
  auto got = call("GET", "/api/v2/chats/files/" + id, token);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.body, "\x01\x02"s);
}

// A FastCGI front end may send an upload without CONTENT_LENGTH (nginx never does): one past
// max-file-size is then found too large only as it is read, after pieces of it went to the
// database; it is refused with 413 and leaves nothing (its transaction rolled back). A body
// refused by its first piece (415) is read to its end, and the worker goes on answering.
TEST_F(Files, AnUploadWithoutALengthIsLimitedAsItComesAndLeavesNothing) {
  Instance small(*stack_, "nolength", {{"--max-file-size", "600000"}});
  auto name = unique("nolength");
  auto token = stack_->new_user_token(name);
  const std::vector<std::pair<std::string, std::string>> params = {
      {"REQUEST_METHOD", "POST"},
      {"REQUEST_URI", "/api/v2/chats/files"},
      {"CONTENT_TYPE", "image/png"},
      {"HTTP_CODER_SESSION_TOKEN", token},
      {"REMOTE_ADDR", "127.0.0.1"}};
  auto status_of = [](const std::string& response) { return response.substr(0, 11); };
  const std::string socket = small.chatd->socket_path();

  auto over = fastcgi_call(socket, params, kPng + std::string(700'000, 'x'));
  EXPECT_EQ(status_of(over), "Status: 413") << over.substr(0, 300);
  EXPECT_EQ(stored_of(name), "0 files, 0 pieces");

  auto refused = fastcgi_call(socket, params, std::string(2'000'000, 'x'));
  EXPECT_EQ(status_of(refused), "Status: 415") << refused.substr(0, 300);

  auto fits = fastcgi_call(socket, params, kPng + std::string(500'000, 'y'));
  EXPECT_EQ(status_of(fits), "Status: 201") << fits.substr(0, 300);
  EXPECT_EQ(stored_of(name), "1 files, 2 pieces");
}

// max-file-storage-per-user: an upload past it is refused; the same bytes again cost nothing.
TEST_F(Files, AUsersFilesStayWithinTheirStorageLimit) {
  Instance small(*stack_, "filestorage", {{"--max-file-storage-per-user", "100"}});
  auto name = unique("storage");
  auto token = stack_->new_user_token(name);
  ASSERT_EQ(upload(token, kPng, "image/png", small.url("")).status, 201);  // 67 bytes
  auto full = upload(token, kGif, "image/gif", small.url(""));             // 43 more
  EXPECT_EQ(full.status, 413) << full.body;
  EXPECT_EQ(json::parse(full.body)["message"], "File storage limit reached.");
  EXPECT_EQ(upload(token, kPng, "image/png", small.url("")).status, 201);
  EXPECT_EQ(stored_of(name), "1 files, 1 pieces");  // nothing of the refused upload
}

TEST_F(Files, OnlyTheOwnerReadsAFileAndAttachesIt) {
  auto owner = stack_->new_user_token(unique("owner"));
  auto other = stack_->new_user_token(unique("other"));
  std::string png = upload_id(owner, kPng), pdf = upload_id(owner, kPdf);
  auto got = call("GET", "/api/v2/chats/files/" + png, owner);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.body, kPng);
  EXPECT_EQ(got.header("content-type"), "image/png");
  EXPECT_EQ(got.header("x-content-type-options"), "nosniff");
  EXPECT_EQ(got.header("content-disposition"), "");
  auto document = call("GET", "/api/v2/chats/files/" + pdf, owner);
  ASSERT_EQ(document.status, 200);
  EXPECT_EQ(document.header("content-type"), "application/pdf");
  EXPECT_EQ(document.header("content-disposition"), "attachment");

  EXPECT_EQ(call("GET", "/api/v2/chats/files/" + png, other).status, 404);
  EXPECT_EQ(call("GET", "/api/v2/chats/files/not-a-uuid", owner).status, 404);
  EXPECT_EQ(call("GET", "/api/v2/chats/files/00000000-0000-4000-8000-000000000000", owner).status,
            404);

  // Another user's file in a message: 400, and nothing is stored.
  std::string chat = create_chat(other)["id"];
  auto r =
      send(other, chat, "fake-openai",
           with_files(script_message({{"steps", {{{"text", "never"}}}}}), {{png, "image/png"}}));
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(json::parse(r.body)["message"], "Invalid attachment.");
  EXPECT_EQ(messages(other, chat).size(), 0u);
  EXPECT_EQ(
      send(other, chat, "fake-openai", script_message({{"steps", {{{"text", "fine"}}}}})).status,
      200)
      << "the refused send left the chat free";
}

// Each provider receives the bytes in its own format: OpenAI image_url and file parts,
// Anthropic image and document blocks, Gemini inlineData — the fake checks them as the
// provider does and says what it got. The stored message keeps the URLs, and the next turn
// sends the files again from them.
TEST_F(Files, EveryProviderGetsTheBytesInItsOwnFormat) {
  auto token = stack_->new_user_token(unique("attach"));
  std::string png = upload_id(token, kPng), pdf = upload_id(token, kPdf);
  const std::string expected = "files: image/png " + std::to_string(kPng.size()) +
                               ", application/pdf " + std::to_string(kPdf.size());
  for (const auto& model : kModels) {
    SCOPED_TRACE(model);
    std::string chat = create_chat(token)["id"];
    auto message = with_files(
        script_message({{"steps", {{{"text", "x"}}}}, {"describe_files", true}}, "What are these?"),
        {{png, "image/png"}, {pdf, "application/pdf"}});
    auto r = send(token, chat, model, message);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(count_prefix(r.lines(), "d:"), 1u) << r.body;
    auto stored = messages(token, chat);
    ASSERT_EQ(stored.size(), 2u);
    EXPECT_EQ(stored[1]["content"], expected) << r.body;
    EXPECT_EQ(stored[0]["experimental_attachments"][0]["url"], "/api/v2/chats/files/" + png);
    // The next turn: the history's files go again.
    auto next =
        send(token, chat, model,
             script_message({{"steps", {{{"text", "y"}}}}, {"describe_files", true}}, "More"));
    ASSERT_EQ(count_prefix(next.lines(), "d:"), 1u) << next.body;
    EXPECT_EQ(messages(token, chat).back()["content"], expected) << next.body;
  }
}

// A type a provider has no place for (Gemini takes no GIF) ends the reply with a `3:` that says
// so, before any call; the others take it.
TEST_F(Files, AProviderThatCannotTakeATypeSaysSo) {
  auto token = stack_->new_user_token(unique("gif"));
  std::string gif = upload_id(token, kGif);
  auto message =
      with_files(script_message({{"steps", {{{"text", "x"}}}}, {"describe_files", true}}),
                 {{gif, "image/gif"}});
  std::string chat = create_chat(token)["id"];
  auto r = send(token, chat, "fake-google", message);
  ASSERT_EQ(r.status, 200);
  auto lines = r.lines();
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back().rfind("3:\"The model cannot take the attachment \\\"file-", 0), 0u)
      << r.body;
  EXPECT_NE(lines.back().find("(image/gif)"), std::string::npos) << r.body;
  std::string other = create_chat(token)["id"];
  auto taken = send(token, other, "fake-anthropic", message);
  EXPECT_EQ(count_prefix(taken.lines(), "d:"), 1u) << taken.body;
}

// Unused files go a day after their upload, by one worker at a time: a file some message uses
// stays however old, and a chat's deletion leaves its files to that rule.
TEST_F(Files, UnusedFilesGoADayAfterTheirUpload) {
  auto token = stack_->new_user_token(unique("prune"));
  std::string used = upload_id(token, kPng), unused = upload_id(token, kGif),
              fresh = upload_id(token, kJpeg), orphaned = upload_id(token, kWebp);
  std::string chat = create_chat(token)["id"], doomed = create_chat(token)["id"];
  ASSERT_EQ(send(token, chat, "fake-openai",
                 with_files(script_message({{"steps", {{{"text", "ok"}}}}}), {{used, "image/png"}}))
                .status,
            200);
  ASSERT_EQ(
      send(token, doomed, "fake-openai",
           with_files(script_message({{"steps", {{{"text", "ok"}}}}}), {{orphaned, "image/webp"}}))
          .status,
      200);
  ASSERT_EQ(call("DELETE", "/api/v2/chats/" + doomed, token).status, 204);
  EXPECT_EQ(call("GET", "/api/v2/chats/files/" + orphaned, token).status, 200)
      << "a deleted chat's files wait for the 24 h rule";
  stack_->sql("UPDATE chat_files SET created_at = now() - interval '25 hours' WHERE id IN ('" +
              used + "', '" + unused + "', '" + orphaned + "')");
  sql::Pool pool(stack_->postgres->url(), 1, 5s);
  sql::FileStore files(pool);
  size_t deleted = 0;
  for (size_t n = 500; n == 500;) deleted += n = files.prune(500);
  EXPECT_GE(deleted, 2u);
  EXPECT_EQ(call("GET", "/api/v2/chats/files/" + used, token).status, 200);
  EXPECT_EQ(call("GET", "/api/v2/chats/files/" + unused, token).status, 404);
  EXPECT_EQ(call("GET", "/api/v2/chats/files/" + orphaned, token).status, 404);
  EXPECT_EQ(call("GET", "/api/v2/chats/files/" + fresh, token).status, 200);
}

}  // namespace
}  // namespace chatd::test
