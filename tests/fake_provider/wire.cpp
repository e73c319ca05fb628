#include "wire.hpp"

#include <ctime>
#include <nlohmann/json.hpp>
#include <utility>

namespace fake {

using json = nlohmann::ordered_json;

const char* provider_name(Provider p) {
  switch (p) {
    case Provider::kOpenAI:
      return "openai";
    case Provider::kAnthropic:
      return "anthropic";
    case Provider::kGoogle:
      return "google";
  }
  return "?";
}

std::string json_quote(std::string_view s) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
  return out;
}

bool is_delta(const Op& op, Provider p) {
  switch (op.kind) {
    case OpKind::kText:
    case OpKind::kReason:
    case OpKind::kToolArgs:
      return true;
    case OpKind::kToolStart:
      return p == Provider::kGoogle;
    default:
      return false;
  }
}

namespace {

std::string openai_id(const Plan& p) { return "chatcmpl-fake" + std::to_string(p.seq); }
std::string anthropic_id(const Plan& p) { return "msg_fake" + std::to_string(p.seq); }
std::string gemini_id(const Plan& p) { return "fakeResp" + std::to_string(p.seq); }

std::string gemini_usage(const Plan& plan, int completion, bool final) {
  int prompt = plan.prompt_tokens;
  std::string p = std::to_string(prompt);
  std::string out = "{\"promptTokenCount\":" + p;
  if (final) {
    out += ",\"candidatesTokenCount\":" + std::to_string(completion) +
           ",\"totalTokenCount\":" + std::to_string(prompt + completion + plan.reasoning_tokens);
    if (plan.reasoning_tokens)
      out += ",\"thoughtsTokenCount\":" + std::to_string(plan.reasoning_tokens);
  } else {
    out += ",\"totalTokenCount\":" + p;
  }
  if (plan.cache_read_tokens)
    out += ",\"cachedContentTokenCount\":" + std::to_string(plan.cache_read_tokens);
  out += ",\"promptTokensDetails\":[{\"modality\":\"TEXT\",\"tokenCount\":" + p + "}]";
  if (final) {
    out += ",\"candidatesTokensDetails\":[{\"modality\":\"TEXT\",\"tokenCount\":" +
           std::to_string(completion) + "}]";
  }
  out += "}";
  return out;
}

std::string gemini_call_part(const ToolCall& t) {
  std::string out = "{\"functionCall\":{\"name\":" + json_quote(t.name) +
                    ",\"args\":" + t.args_json + ",\"id\":" + json_quote(t.id) + "}";
  if (!t.signature.empty()) out += ",\"thoughtSignature\":" + json_quote(t.signature);
  out += "}";
  return out;
}

}  // namespace

StreamRenderer::StreamRenderer(Plan plan) : plan_(std::move(plan)) {
  if (plan_.provider == Provider::kOpenAI) {
    openai_prefix_ = "data: {\"id\":\"" + openai_id(plan_) +
                     "\",\"object\":\"chat.completion.chunk\",\"created\":" +
                     std::to_string(static_cast<long long>(std::time(nullptr))) +
                     ",\"model\":" + json_quote(plan_.model) +
                     ",\"system_fingerprint\":\"fp_fake\",";
  } else if (plan_.provider == Provider::kGoogle) {
    last_chunk_op_ = plan_.ops.size();
    for (size_t i = 0; i < plan_.ops.size(); ++i) {
      OpKind k = plan_.ops[i].kind;
      if (k == OpKind::kText || k == OpKind::kReason || k == OpKind::kToolStart) last_chunk_op_ = i;
    }
    gemini_suffix_ = ",\"modelVersion\":" + json_quote(plan_.model) + ",\"responseId\":\"" +
                     gemini_id(plan_) + "\"}";
  }
}

int StreamRenderer::completion() const {
  return plan_.completion_tokens >= 0 ? plan_.completion_tokens : tokens_sent_;
}

void StreamRenderer::openai_chunk(std::string& out, std::string_view delta,
                                  std::string_view finish) {
  out += openai_prefix_;
  out += "\"choices\":[{\"index\":0,\"delta\":";
  out += delta;
  out += ",\"logprobs\":null,\"finish_reason\":";
  out += finish.empty() ? std::string("null") : json_quote(finish);
  out += "}]}\n\n";
}

void StreamRenderer::anthropic_event(std::string& out, std::string_view type,
                                     std::string_view data) {
  out += "event: ";
  out += type;
  out += "\ndata: ";
  out += data;
  out += "\n\n";
}

void StreamRenderer::gemini_frame(std::string& out, std::string_view data) {
  if (plan_.gemini_sse) {
    out += "data: ";
    out += data;
    out += "\r\n\r\n";
  } else {
    out += gemini_first_frame_ ? "[" : ",\r\n";
    out += data;
  }
  gemini_first_frame_ = false;
}

void StreamRenderer::gemini_chunk(std::string& out, std::string_view parts, bool final) {
  std::string j = "{\"candidates\":[{\"content\":{\"parts\":[";
  j += parts;
  j += "],\"role\":\"model\"}";
  if (final) j += ",\"finishReason\":\"STOP\"";
  j += ",\"index\":0}],\"usageMetadata\":";
  j += gemini_usage(plan_, completion(), final);
  j += gemini_suffix_;
  gemini_frame(out, j);
}

void StreamRenderer::preamble(std::string& out) {
  switch (plan_.provider) {
    case Provider::kOpenAI: {
      for (const Op& op : plan_.ops) {
        if (op.kind == OpKind::kToolStart) {
          role_pending_ = true;
          break;
        }
        if (op.kind == OpKind::kText || op.kind == OpKind::kTextStart) break;
      }
      if (!role_pending_) {
        openai_chunk(out, R"({"role":"assistant","content":"","refusal":null})", "");
      }
      break;
    }
    case Provider::kAnthropic:
      anthropic_event(
          out, "message_start",
          "{\"type\":\"message_start\",\"message\":{\"id\":\"" + anthropic_id(plan_) +
              "\",\"type\":\"message\",\"role\":\"assistant\",\"model\":" +
              json_quote(plan_.model) +
              ",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,"
              "\"usage\":{\"input_tokens\":" +
              std::to_string(plan_.prompt_tokens) +
              ",\"cache_creation_input_tokens\":" + std::to_string(plan_.cache_write_tokens) +
              ",\"cache_read_input_tokens\":" + std::to_string(plan_.cache_read_tokens) +
              ",\"output_tokens\":1}}}");
      break;
    case Provider::kGoogle:
      break;
  }
}

void StreamRenderer::render(const Op& op, bool last, std::string& out) {
  if (is_delta(op, plan_.provider)) ++tokens_sent_;
  switch (plan_.provider) {
    case Provider::kOpenAI:
      if (op.kind == OpKind::kText) {
        openai_chunk(out, "{\"content\":" + json_quote(op.text) + "}", "");
      } else if (op.kind == OpKind::kToolStart) {
        const ToolCall& t = plan_.tools[op.tool];
        std::string d = "{";
        if (role_pending_) d += "\"role\":\"assistant\",\"content\":null,";
        d += "\"tool_calls\":[{\"index\":" + std::to_string(op.tool) +
             ",\"id\":" + json_quote(t.id) +
             ",\"type\":\"function\",\"function\":{\"name\":" + json_quote(t.name) +
             ",\"arguments\":\"\"}}]";
        if (role_pending_) d += ",\"refusal\":null";
        d += "}";
        role_pending_ = false;
        openai_chunk(out, d, "");
      } else if (op.kind == OpKind::kToolArgs) {
        openai_chunk(out,
                     "{\"tool_calls\":[{\"index\":" + std::to_string(op.tool) +
                         ",\"function\":{\"arguments\":" + json_quote(op.text) + "}}]}",
                     "");
      }
      break;

    case Provider::kAnthropic: {
      auto block_start = [&](const std::string& block) {
        ++block_;
        anthropic_event(out, "content_block_start",
                        "{\"type\":\"content_block_start\",\"index\":" + std::to_string(block_) +
                            ",\"content_block\":" + block + "}");
        if (!ping_sent_) {
          ping_sent_ = true;
          anthropic_event(out, "ping", "{\"type\": \"ping\"}");
        }
      };
      auto delta = [&](const std::string& d) {
        anthropic_event(out, "content_block_delta",
                        "{\"type\":\"content_block_delta\",\"index\":" + std::to_string(block_) +
                            ",\"delta\":" + d + "}");
      };
      auto block_stop = [&] {
        anthropic_event(
            out, "content_block_stop",
            "{\"type\":\"content_block_stop\",\"index\":" + std::to_string(block_) + "}");
      };
      switch (op.kind) {
        case OpKind::kTextStart:
          block_start(R"({"type":"text","text":""})");
          break;
        case OpKind::kText:
          delta("{\"type\":\"text_delta\",\"text\":" + json_quote(op.text) + "}");
          break;
        case OpKind::kReasonStart:
          block_start(R"({"type":"thinking","thinking":""})");
          break;
        case OpKind::kReason:
          delta("{\"type\":\"thinking_delta\",\"thinking\":" + json_quote(op.text) + "}");
          break;
        case OpKind::kReasonEnd:
          delta(R"({"type":"signature_delta","signature":"fake-sig"})");
          block_stop();
          break;
        case OpKind::kToolStart: {
          const ToolCall& t = plan_.tools[op.tool];
          block_start("{\"type\":\"tool_use\",\"id\":" + json_quote(t.id) +
                      ",\"name\":" + json_quote(t.name) + ",\"input\":{}}");
          delta(R"({"type":"input_json_delta","partial_json":""})");
          break;
        }
        case OpKind::kToolArgs:
          delta("{\"type\":\"input_json_delta\",\"partial_json\":" + json_quote(op.text) + "}");
          break;
        case OpKind::kTextEnd:
        case OpKind::kToolEnd:
          block_stop();
          break;
      }
      break;
    }

    case Provider::kGoogle: {
      bool final = last && plan_.ending == Ending::kFinish;
      if (op.kind == OpKind::kText) {
        gemini_chunk(out, "{\"text\":" + json_quote(op.text) + "}", final);
        final_sent_ = final_sent_ || final;
      } else if (op.kind == OpKind::kReason) {
        gemini_chunk(out, "{\"text\":" + json_quote(op.text) + ",\"thought\":true}", false);
      } else if (op.kind == OpKind::kToolStart) {
        std::string parts;
        for (size_t i = 0; i < plan_.tools.size(); ++i) {
          if (op.tool >= 0 && static_cast<int>(i) != op.tool) continue;
          if (!parts.empty()) parts += ",";
          parts += gemini_call_part(plan_.tools[i]);
        }
        gemini_chunk(out, parts, false);
      }
      break;
    }
  }
}

void StreamRenderer::ending(std::string& out) {
  bool error = plan_.ending == Ending::kMidstreamError;
  bool tools = !plan_.tools.empty();
  switch (plan_.provider) {
    case Provider::kOpenAI:
      if (error) {
        out +=
            "data: {\"error\":{\"message\":\"The server had an error while processing your "
            "request. Sorry about that!\",\"type\":\"server_error\",\"param\":null,\"code\":null}}"
            "\n\n";
        return;
      }
      if (role_pending_) {
        openai_chunk(out, R"({"role":"assistant","content":"","refusal":null})", "");
      }
      openai_chunk(out, "{}", tools ? "tool_calls" : "stop");
      if (plan_.include_usage) {
        int c = completion();
        out += openai_prefix_;
        out +=
            "\"choices\":[],\"usage\":{\"prompt_tokens\":" + std::to_string(plan_.prompt_tokens) +
            ",\"completion_tokens\":" + std::to_string(c) +
            ",\"total_tokens\":" + std::to_string(plan_.prompt_tokens + c) +
            ",\"prompt_tokens_details\":{\"cached_tokens\":" +
            std::to_string(plan_.cache_read_tokens) +
            "},\"completion_tokens_details\":{\"reasoning_tokens\":" +
            std::to_string(plan_.reasoning_tokens) + "}}}\n\n";
      }
      out += "data: [DONE]\n\n";
      return;

    case Provider::kAnthropic:
      if (error) {
        anthropic_event(
            out, "error",
            R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})");
        return;
      }
      anthropic_event(out, "message_delta",
                      std::string("{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"") +
                          (tools ? "tool_use" : "end_turn") +
                          "\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":" +
                          std::to_string(completion()) + "}}");
      anthropic_event(out, "message_stop", R"({"type":"message_stop"})");
      return;

    case Provider::kGoogle:
      if (error) {
        gemini_frame(
            out,
            R"({"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}})");
      } else if (!final_sent_) {
        gemini_chunk(out, R"({"text":""})", true);
      }
      if (!plan_.gemini_sse) out += gemini_first_frame_ ? "[]" : "]";
      return;
  }
}

StreamRenderer::Result StreamRenderer::advance(std::string& out, int& delay_ms) {
  const auto& ops = plan_.ops;
  if (!started_) {
    started_ = true;
    preamble(out);
  } else if (pos_ < ops.size()) {
    render(ops[pos_], pos_ == last_chunk_op_, out);
    ++pos_;
  }
  while (pos_ < ops.size()) {
    if (ops[pos_].delay_ms > 0) {
      delay_ms = ops[pos_].delay_ms;
      return kWait;
    }
    render(ops[pos_], pos_ == last_chunk_op_, out);
    ++pos_;
  }
  switch (plan_.ending) {
    case Ending::kStall:
      return kStall;
    case Ending::kCut:
      return kCut;
    case Ending::kFinish:
    case Ending::kMidstreamError:
      ending(out);
      return kDone;
  }
  return kDone;
}

std::string render_full(const Plan& p) {
  std::string text, reasoning;
  int tokens = 0;
  for (const Op& op : p.ops) {
    if (is_delta(op, p.provider)) ++tokens;
    if (op.kind == OpKind::kText) text += op.text;
    if (op.kind == OpKind::kReason) reasoning += op.text;
  }
  int completion = p.completion_tokens >= 0 ? p.completion_tokens : tokens;
  bool tools = !p.tools.empty();
  json j;
  switch (p.provider) {
    case Provider::kOpenAI: {
      json msg = {{"role", "assistant"},
                  {"content", text.empty() && tools ? json(nullptr) : json(text)},
                  {"refusal", nullptr}};
      if (tools) {
        json calls = json::array();
        for (const ToolCall& t : p.tools) {
          calls.push_back({{"id", t.id},
                           {"type", "function"},
                           {"function", {{"name", t.name}, {"arguments", t.args_json}}}});
        }
        msg["tool_calls"] = calls;
      }
      j = {{"id", openai_id(p)},
           {"object", "chat.completion"},
           {"created", static_cast<long long>(std::time(nullptr))},
           {"model", p.model},
           {"choices", json::array({{{"index", 0},
                                     {"message", msg},
                                     {"logprobs", nullptr},
                                     {"finish_reason", tools ? "tool_calls" : "stop"}}})},
           {"usage",
            {{"prompt_tokens", p.prompt_tokens},
             {"completion_tokens", completion},
             {"total_tokens", p.prompt_tokens + completion}}},
           {"system_fingerprint", "fp_fake"}};
      break;
    }
    case Provider::kAnthropic: {
      json content = json::array();
      if (!reasoning.empty()) {
        content.push_back(
            {{"type", "thinking"}, {"thinking", reasoning}, {"signature", "fake-sig"}});
      }
      if (!text.empty()) content.push_back({{"type", "text"}, {"text", text}});
      for (const ToolCall& t : p.tools) {
        content.push_back({{"type", "tool_use"},
                           {"id", t.id},
                           {"name", t.name},
                           {"input", json::parse(t.args_json)}});
      }
      j = {{"id", anthropic_id(p)},
           {"type", "message"},
           {"role", "assistant"},
           {"model", p.model},
           {"content", content},
           {"stop_reason", tools ? "tool_use" : "end_turn"},
           {"stop_sequence", nullptr},
           {"usage", {{"input_tokens", p.prompt_tokens}, {"output_tokens", completion}}}};
      break;
    }
    case Provider::kGoogle: {
      json parts = json::array();
      if (!reasoning.empty()) parts.push_back({{"text", reasoning}, {"thought", true}});
      if (!text.empty()) parts.push_back({{"text", text}});
      for (const ToolCall& t : p.tools) {
        json part = {
            {"functionCall", {{"name", t.name}, {"args", json::parse(t.args_json)}, {"id", t.id}}}};
        if (!t.signature.empty()) part["thoughtSignature"] = t.signature;
        parts.push_back(part);
      }
      if (parts.empty()) parts.push_back({{"text", ""}});
      j = {{"candidates", json::array({{{"content", {{"parts", parts}, {"role", "model"}}},
                                        {"finishReason", "STOP"},
                                        {"index", 0}}})},
           {"usageMetadata",
            {{"promptTokenCount", p.prompt_tokens},
             {"candidatesTokenCount", completion},
             {"totalTokenCount", p.prompt_tokens + completion}}},
           {"modelVersion", p.model},
           {"responseId", gemini_id(p)}};
      break;
    }
  }
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace fake
