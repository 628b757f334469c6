// OpenAI chat completions, as served here:
//   request  = JSON object {model: string, messages: [{role: "system"|"developer"|"user"|"assistant",
//              content: string | [{type: "text", text: string}]}], temperature?: 0..2, top_p?: (0, 1],
//              seed?: integer, max_tokens? | max_completion_tokens?: 1..cap, stop?: string | [string],
//              n?: 1, stream?: bool, stream_options?: {include_usage?: bool}, return_token_ids?: bool}
//              (null means absent; unknown fields are ignored)
//   response = chat.completion JSON, or text/event-stream: "data: <chunk>\n\n" for the role chunk,
//              each content chunk, the finish chunk, the usage chunk (include_usage), then
//              "data: [DONE]\n\n". An error after the stream started is sent as a data event
//              {"error": {...}} and the stream ends without [DONE].
#include "engine/openai_server.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "common/http_listen.h"

namespace cmln::engine {

namespace {

using nlohmann::json;

constexpr size_t kMaxJsonDepth = 64;
constexpr size_t kServerThreadsBeyondCompletions = 2;  // /health and /v1/models stay responsive
constexpr int kReadTimeoutSeconds = 30;
constexpr int kWriteTimeoutSeconds = 600;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

// Deepest nesting of arrays/objects, counted outside strings, so a hostile body cannot drive the
// JSON library into deep recursion. Stops counting once `cap` is exceeded.
size_t JsonDepth(std::string_view s, size_t cap) {
  size_t depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (char c : s) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max_depth = std::max(max_depth, ++depth);
      if (max_depth > cap) return max_depth;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return max_depth;
}

struct Fail {
  std::string* param;
  Error operator()(ErrorCode code, const std::string& field, const std::string& message) const {
    if (param != nullptr) *param = field;
    return Error(code, field.empty() ? message : field + ": " + message);
  }
};

// A field that is absent or null counts as not given.
const json* Field(const json& obj, const char* name) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

Result<std::string> MessageContent(const json& content, const std::string& field, const Fail& fail) {
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array()) return fail(ErrorCode::kMalformed, field, "must be a string or an array of text parts");
  std::string text;
  for (size_t i = 0; i < content.size(); ++i) {
    const json& part = content[i];
    const std::string pf = field + "[" + std::to_string(i) + "]";
    if (!part.is_object()) return fail(ErrorCode::kMalformed, pf, "must be an object");
    const json* type = Field(part, "type");
    if (type == nullptr || !type->is_string()) return fail(ErrorCode::kMalformed, pf + ".type", "must be a string");
    if (*type != "text") return fail(ErrorCode::kUnsupported, pf + ".type", "only text parts are supported");
    const json* t = Field(part, "text");
    if (t == nullptr || !t->is_string()) return fail(ErrorCode::kMalformed, pf + ".text", "must be a string");
    text += t->get<std::string>();
  }
  return text;
}

Result<std::optional<double>> OptionalNumber(const json& obj, const char* name, const Fail& fail) {
  const json* v = Field(obj, name);
  if (v == nullptr) return std::optional<double>();
  if (!v->is_number()) return fail(ErrorCode::kMalformed, name, "must be a number");
  return std::optional<double>(v->get<double>());
}

Result<std::optional<bool>> OptionalBool(const json& obj, const char* name, const std::string& field, const Fail& fail) {
  const json* v = Field(obj, name);
  if (v == nullptr) return std::optional<bool>();
  if (!v->is_boolean()) return fail(ErrorCode::kMalformed, field, "must be a boolean");
  return std::optional<bool>(v->get<bool>());
}

json UsageJson(const Usage& u) {
  return {{"prompt_tokens", u.prompt_tokens},
          {"completion_tokens", u.completion_tokens},
          {"total_tokens", static_cast<uint64_t>(u.prompt_tokens) + u.completion_tokens}};
}

json ChunkBase(const ResponseMeta& meta, bool usage_null) {
  json j = {{"id", meta.id}, {"object", "chat.completion.chunk"}, {"created", meta.created}, {"model", meta.model}};
  if (usage_null) j["usage"] = nullptr;
  return j;
}

void Reply(httplib::Response& res, const HttpError& e) { res.set_content(e.body, "application/json"); res.status = e.status; }

}  // namespace

Result<OpenAiChatRequest> ParseChatRequest(std::string_view body, const OpenAiLimits& limits, std::string* param) {
  const Fail fail{param};
  if (body.size() > limits.max_body_bytes) {
    return fail(ErrorCode::kLengthTooLarge, "", "request body of " + std::to_string(body.size()) +
                                                    " bytes exceeds the cap of " + std::to_string(limits.max_body_bytes));
  }
  if (JsonDepth(body, kMaxJsonDepth) > kMaxJsonDepth) {
    return fail(ErrorCode::kLengthTooLarge, "", "request body nested deeper than " + std::to_string(kMaxJsonDepth));
  }
  const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return fail(ErrorCode::kBadEncoding, "", "request body is not valid JSON");
  if (!j.is_object()) return fail(ErrorCode::kMalformed, "", "request body must be a JSON object");

  OpenAiChatRequest out;
  const json* model = Field(j, "model");
  if (model == nullptr) return fail(ErrorCode::kMalformed, "model", "required");
  if (!model->is_string() || model->get_ref<const std::string&>().empty()) {
    return fail(ErrorCode::kMalformed, "model", "must be a non-empty string");
  }
  out.model = model->get<std::string>();
  if (out.model.size() > limits.max_model_bytes) return fail(ErrorCode::kLengthTooLarge, "model", "too long");

  const json* messages = Field(j, "messages");
  if (messages == nullptr) return fail(ErrorCode::kMalformed, "messages", "required");
  if (!messages->is_array()) return fail(ErrorCode::kMalformed, "messages", "must be an array");
  if (messages->empty()) return fail(ErrorCode::kMalformed, "messages", "must not be empty");
  if (messages->size() > limits.max_messages) {
    return fail(ErrorCode::kLengthTooLarge, "messages", std::to_string(messages->size()) + " messages exceed the cap of " +
                                                            std::to_string(limits.max_messages));
  }
  for (size_t i = 0; i < messages->size(); ++i) {
    const json& m = (*messages)[i];
    const std::string mf = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) return fail(ErrorCode::kMalformed, mf, "must be an object");
    const json* role = Field(m, "role");
    if (role == nullptr || !role->is_string()) return fail(ErrorCode::kMalformed, mf + ".role", "must be a string");
    std::string r = role->get<std::string>();
    if (r == "developer") r = "system";  // OpenAI's newer name for the system role
    if (r == "tool" || r == "function") return fail(ErrorCode::kUnsupported, mf + ".role", "tool messages are not supported");
    if (r != "system" && r != "user" && r != "assistant") {
      return fail(ErrorCode::kMalformed, mf + ".role", "must be system, developer, user or assistant");
    }
    if (Field(m, "tool_calls") != nullptr || Field(m, "function_call") != nullptr) {
      return fail(ErrorCode::kUnsupported, mf + ".tool_calls", "tool calls are not supported");
    }
    const json* content = Field(m, "content");
    if (content == nullptr) return fail(ErrorCode::kMalformed, mf + ".content", "required");
    CMLN_ASSIGN_OR_RETURN(std::string text, MessageContent(*content, mf + ".content", fail));
    out.completion.messages.push_back({std::move(r), std::move(text)});
  }

  CMLN_ASSIGN_OR_RETURN(std::optional<double> temperature, OptionalNumber(j, "temperature", fail));
  if (temperature.has_value()) {
    if (!(*temperature >= 0.0 && *temperature <= 2.0)) return fail(ErrorCode::kMalformed, "temperature", "must be in [0, 2]");
    out.completion.temperature = *temperature;
  }
  CMLN_ASSIGN_OR_RETURN(std::optional<double> top_p, OptionalNumber(j, "top_p", fail));
  if (top_p.has_value()) {
    if (!(*top_p > 0.0 && *top_p <= 1.0)) return fail(ErrorCode::kMalformed, "top_p", "must be in (0, 1]");
    out.completion.top_p = *top_p;
  }
  if (const json* seed = Field(j, "seed"); seed != nullptr) {
    if (seed->is_number_unsigned()) {
      out.completion.seed = seed->get<uint64_t>();
    } else if (seed->is_number_integer()) {
      out.completion.seed = static_cast<uint64_t>(seed->get<int64_t>());  // two's complement, as an id
    } else {
      return fail(ErrorCode::kMalformed, "seed", "must be an integer");
    }
  }
  out.completion.max_tokens = limits.default_max_tokens;
  for (const char* name : {"max_tokens", "max_completion_tokens"}) {  // the newer name wins
    const json* v = Field(j, name);
    if (v == nullptr) continue;
    if (!v->is_number_integer()) return fail(ErrorCode::kMalformed, name, "must be an integer");
    if (v->is_number_unsigned() ? v->get<uint64_t>() == 0 : true) return fail(ErrorCode::kMalformed, name, "must be at least 1");
    if (v->get<uint64_t>() > limits.max_tokens) {
      return fail(ErrorCode::kLengthTooLarge, name, "exceeds the cap of " + std::to_string(limits.max_tokens));
    }
    out.completion.max_tokens = static_cast<uint32_t>(v->get<uint64_t>());
  }
  if (const json* stop = Field(j, "stop"); stop != nullptr) {
    std::vector<std::string> stops;
    if (stop->is_string()) {
      stops.push_back(stop->get<std::string>());
    } else if (stop->is_array()) {
      if (stop->size() > limits.max_stop) {
        return fail(ErrorCode::kLengthTooLarge, "stop", "more than " + std::to_string(limits.max_stop) + " sequences");
      }
      for (size_t i = 0; i < stop->size(); ++i) {
        if (!(*stop)[i].is_string()) return fail(ErrorCode::kMalformed, "stop[" + std::to_string(i) + "]", "must be a string");
        stops.push_back((*stop)[i].get<std::string>());
      }
    } else {
      return fail(ErrorCode::kMalformed, "stop", "must be a string or an array of strings");
    }
    for (size_t i = 0; i < stops.size(); ++i) {
      const std::string sf = stop->is_string() ? "stop" : "stop[" + std::to_string(i) + "]";
      if (stops[i].empty()) return fail(ErrorCode::kMalformed, sf, "must not be empty");
      if (stops[i].size() > limits.max_stop_bytes) return fail(ErrorCode::kLengthTooLarge, sf, "too long");
    }
    out.completion.stop = std::move(stops);
  }
  if (const json* n = Field(j, "n"); n != nullptr) {
    if (!n->is_number_integer()) return fail(ErrorCode::kMalformed, "n", "must be an integer");
    if (!n->is_number_unsigned() || n->get<uint64_t>() != 1) return fail(ErrorCode::kUnsupported, "n", "only n = 1 is supported");
  }
  CMLN_ASSIGN_OR_RETURN(std::optional<bool> stream, OptionalBool(j, "stream", "stream", fail));
  out.stream = stream.value_or(false);
  if (const json* so = Field(j, "stream_options"); so != nullptr) {
    if (!so->is_object()) return fail(ErrorCode::kMalformed, "stream_options", "must be an object");
    if (!out.stream) return fail(ErrorCode::kMalformed, "stream_options", "only allowed when stream is true");
    CMLN_ASSIGN_OR_RETURN(std::optional<bool> iu, OptionalBool(*so, "include_usage", "stream_options.include_usage", fail));
    out.include_usage = iu.value_or(false);
  }
  CMLN_ASSIGN_OR_RETURN(std::optional<bool> rti, OptionalBool(j, "return_token_ids", "return_token_ids", fail));
  out.return_token_ids = rti.value_or(false);

  // Features that would change the result if silently ignored.
  CMLN_ASSIGN_OR_RETURN(std::optional<bool> logprobs, OptionalBool(j, "logprobs", "logprobs", fail));
  if (logprobs.value_or(false)) return fail(ErrorCode::kUnsupported, "logprobs", "not supported");
  for (const char* name : {"tools", "functions"}) {
    const json* v = Field(j, name);
    if (v != nullptr && !(v->is_array() && v->empty())) return fail(ErrorCode::kUnsupported, name, "tools are not supported");
  }
  for (const char* name : {"frequency_penalty", "presence_penalty"}) {
    CMLN_ASSIGN_OR_RETURN(std::optional<double> p, OptionalNumber(j, name, fail));
    if (p.value_or(0.0) != 0.0) return fail(ErrorCode::kUnsupported, name, "penalties are not supported");
  }
  if (const json* lb = Field(j, "logit_bias"); lb != nullptr && !(lb->is_object() && lb->empty())) {
    return fail(ErrorCode::kUnsupported, "logit_bias", "not supported");
  }
  if (const json* rf = Field(j, "response_format"); rf != nullptr) {
    const json* type = rf->is_object() ? Field(*rf, "type") : nullptr;
    if (type == nullptr || !type->is_string()) return fail(ErrorCode::kMalformed, "response_format.type", "must be a string");
    if (*type != "text") return fail(ErrorCode::kUnsupported, "response_format.type", "only text is supported");
  }
  return out;
}

std::string RenderChatCompletion(const ResponseMeta& meta, const Completion& c, bool with_token_ids) {
  json choice = {{"index", 0},
                 {"message", {{"role", "assistant"}, {"content", c.text}}},
                 {"finish_reason", std::string(FinishReasonName(c.finish_reason))},
                 {"logprobs", nullptr}};
  if (with_token_ids) choice["token_ids"] = c.token_ids;
  json j = {{"id", meta.id},
            {"object", "chat.completion"},
            {"created", meta.created},
            {"model", meta.model},
            {"choices", json::array({choice})},
            {"usage", UsageJson(c.usage)}};
  return Dump(j);
}

std::string RenderRoleChunk(const ResponseMeta& meta, bool usage_null) {
  json j = ChunkBase(meta, usage_null);
  j["choices"] = json::array({{{"index", 0}, {"delta", {{"role", "assistant"}, {"content", ""}}}, {"finish_reason", nullptr}}});
  return Dump(j);
}

std::string RenderContentChunk(const ResponseMeta& meta, std::string_view text, bool usage_null) {
  json j = ChunkBase(meta, usage_null);
  j["choices"] = json::array({{{"index", 0}, {"delta", {{"content", std::string(text)}}}, {"finish_reason", nullptr}}});
  return Dump(j);
}

std::string RenderFinishChunk(const ResponseMeta& meta, FinishReason reason, const std::vector<int32_t>* token_ids,
                              bool usage_null) {
  json j = ChunkBase(meta, usage_null);
  json choice = {{"index", 0}, {"delta", json::object()}, {"finish_reason", std::string(FinishReasonName(reason))}};
  if (token_ids != nullptr) choice["token_ids"] = *token_ids;
  j["choices"] = json::array({choice});
  return Dump(j);
}

std::string RenderUsageChunk(const ResponseMeta& meta, const Usage& usage) {
  json j = ChunkBase(meta, false);
  j["choices"] = json::array();
  j["usage"] = UsageJson(usage);
  return Dump(j);
}

HttpError RenderError(int status, std::string_view type, std::string_view message, std::string_view param,
                      std::string_view code) {
  json e = {{"message", std::string(message)},
            {"type", std::string(type)},
            {"param", param.empty() ? json(nullptr) : json(std::string(param))},
            {"code", code.empty() ? json(nullptr) : json(std::string(code))}};
  return {status, Dump(json{{"error", e}})};
}

HttpError RenderError(const Error& error, std::string_view param) {
  switch (error.code()) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kMalformed:
    case ErrorCode::kBadEncoding:
    case ErrorCode::kTruncated:
    case ErrorCode::kTrailingData:
      return RenderError(400, "invalid_request_error", error.message(), param, "");
    case ErrorCode::kLengthTooLarge:
      return RenderError(400, "invalid_request_error", error.message(), param, "too_large");
    case ErrorCode::kUnsupported:
      return RenderError(400, "invalid_request_error", error.message(), param, "unsupported");
    case ErrorCode::kNotFound:
      return RenderError(404, "invalid_request_error", error.message(), param, "not_found");
    default:
      // Internal failures are not described to the client beyond their code name.
      return RenderError(500, "server_error", "the engine failed (" + std::string(ErrorCodeName(error.code())) + ")",
                         param, "");
  }
}

OpenAiServer::OpenAiServer(Engine& engine, OpenAiServerOptions options)
    : engine_(engine), options_(std::move(options)) {}

OpenAiServer::~OpenAiServer() { Stop(); }

Result<std::unique_ptr<OpenAiServer>> OpenAiServer::Start(Engine& engine, const OpenAiServerOptions& options) {
  if (!IsLoopback(options.host)) {
    return Error(ErrorCode::kInvalidArgument, "listen host " + options.host + " is not a loopback address");
  }
  if (options.max_concurrent == 0) return Error(ErrorCode::kInvalidArgument, "max_concurrent must be at least 1");
  if (options.port < 0 || options.port > 65535) return Error(ErrorCode::kInvalidArgument, "port out of range");
  std::unique_ptr<OpenAiServer> s(new OpenAiServer(engine, options));
  s->model_name_ = options.model_name.empty() ? engine.model_name() : options.model_name;
  s->http_ = std::make_unique<httplib::Server>();
  const size_t threads = options.max_concurrent + kServerThreadsBeyondCompletions;
  s->http_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  s->http_->set_payload_max_length(options.limits.max_body_bytes);
  s->http_->set_read_timeout(kReadTimeoutSeconds, 0);
  s->http_->set_write_timeout(kWriteTimeoutSeconds, 0);
  s->Route();
  CMLN_ASSIGN_OR_RETURN(s->port_, BindServer(*s->http_, options.host, options.port));
  httplib::Server* http = s->http_.get();
  s->thread_ = ListenInBackground(*http);
  return s;
}

void OpenAiServer::Stop() {
  stopping_ = true;
  if (http_) http_->stop();
  if (thread_.joinable()) thread_.join();
}

void OpenAiServer::Route() {
  http_->set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;  // a handler already wrote an OpenAI error
    if (res.status == 413) {
      Reply(res, RenderError(413, "invalid_request_error", "request body too large", "", "too_large"));
    } else if (res.status == 404) {
      Reply(res, RenderError(404, "invalid_request_error", "no such endpoint", "", "not_found"));
    } else {
      Reply(res, RenderError(res.status, "invalid_request_error", "bad request", "", ""));
    }
  });
  http_->Get("/health", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"status":"ok"})", "application/json");
  });
  http_->Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    json m = {{"id", model_name_}, {"object", "model"}, {"created", 0}, {"owned_by", "cmln"}};
    res.set_content(Dump(json{{"object", "list"}, {"data", json::array({m})}}), "application/json");
  });
  http_->Post("/tokenize", [this](const httplib::Request& req, httplib::Response& res) {
    const json j = json::parse(req.body, nullptr, false);
    const json* text = nullptr;
    if (j.is_object()) text = Field(j, "prompt") != nullptr ? Field(j, "prompt") : Field(j, "content");
    if (text == nullptr || !text->is_string()) {
      return Reply(res, RenderError(400, "invalid_request_error", "prompt: must be a string", "prompt", ""));
    }
    auto n = engine_.CountTokens(text->get<std::string>());
    if (!n.ok()) return Reply(res, RenderError(n.error()));
    res.set_content(Dump(json{{"count", *n}}), "application/json");
  });
  http_->Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
    std::string param;
    auto parsed = ParseChatRequest(req.body, options_.limits, &param);
    if (!parsed.ok()) return Reply(res, RenderError(parsed.error(), param));
    if (parsed->model != model_name_) {
      return Reply(res, RenderError(404, "invalid_request_error", "model " + parsed->model + " is not served here",
                                    "model", "model_not_found"));
    }
    if (in_flight_.fetch_add(1) >= options_.max_concurrent) {
      in_flight_.fetch_sub(1);
      return Reply(res, RenderError(429, "rate_limit_error", "too many completions in flight", "", "busy"));
    }
    const uint64_t serial = next_id_.fetch_add(1);
    ResponseMeta meta{"chatcmpl-" + std::to_string(port_) + "-" + std::to_string(serial), model_name_,
                      std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count()};
    if (!parsed->stream) {
      CompletionRequest creq = parsed->completion;
      creq.cancel = &stopping_;
      auto out = engine_.Complete(creq);
      in_flight_.fetch_sub(1);
      if (!out.ok()) return Reply(res, RenderError(out.error()));
      res.set_content(RenderChatCompletion(meta, *out, parsed->return_token_ids), "application/json");
      return;
    }
    auto request = std::make_shared<OpenAiChatRequest>(std::move(*parsed));
    res.set_chunked_content_provider(
        "text/event-stream",
        [this, request, meta](size_t, httplib::DataSink& sink) {
          const bool usage_null = request->include_usage;
          auto send = [&sink](const std::string& payload) {
            const std::string event = "data: " + payload + "\n\n";
            return sink.write(event.data(), event.size());
          };
          if (!send(RenderRoleChunk(meta, usage_null))) return false;
          CompletionRequest creq = request->completion;
          creq.cancel = &stopping_;
          creq.on_text = [&](std::string_view delta) { return send(RenderContentChunk(meta, delta, usage_null)); };
          auto out = engine_.Complete(creq);
          if (!out.ok()) {
            send(RenderError(out.error()).body);
            sink.done();
            return true;
          }
          if (out->finish_reason == FinishReason::kCancelled) return false;  // the client went away
          if (!send(RenderFinishChunk(meta, out->finish_reason, request->return_token_ids ? &out->token_ids : nullptr,
                                      usage_null))) {
            return false;
          }
          if (request->include_usage && !send(RenderUsageChunk(meta, out->usage))) return false;
          if (!send("[DONE]")) return false;
          sink.done();
          return true;
        },
        [this](bool) { in_flight_.fetch_sub(1); });
  });
}

}  // namespace cmln::engine
