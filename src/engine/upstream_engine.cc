// OpenAI chat-completions streaming, as consumed here:
//   request  = JSON {model, messages:[{role, content}], temperature, top_p, max_tokens, stop?, seed?,
//                    stream:true, stream_options:{include_usage:true}}
//   response = text/event-stream; events separated by a blank line; each "data: " line carries
//              either "[DONE]" or a JSON chunk {choices:[{delta:{content?}, finish_reason?}], usage?}
//              (the usage chunk has empty choices and comes last, before [DONE]); a choice may carry
//              "token_ids": [int] (vLLM's return_token_ids: per chunk; cmln's server: all in the last).
#include "engine/upstream_engine.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

namespace cmln::engine {

namespace {

constexpr size_t kMaxEventBytes = 1 << 20;  // one SSE event; a delta is a few bytes
constexpr size_t kMaxErrorBody = 4096;

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

struct StreamState {
  std::string buffer;
  std::string text;
  std::string finish_reason;
  std::optional<Usage> usage;
  std::vector<int32_t> token_ids;
  uint32_t deltas = 0;
  bool done = false;
  bool cancelled = false;
  std::optional<Error> error;
};

// Handles one "data: ..." payload. Returns false to stop reading.
bool HandleEvent(std::string_view data, const CompletionRequest& req, StreamState& st) {
  if (data == "[DONE]") {
    st.done = true;
    return true;
  }
  auto j = nlohmann::json::parse(data, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    st.error = Error(ErrorCode::kBadEncoding, "upstream stream: event is not a JSON object");
    return false;
  }
  if (j.contains("error")) {
    st.error = Error(ErrorCode::kIoError, "upstream stream: server reported an error");
    return false;
  }
  if (j.contains("usage") && j["usage"].is_object()) {
    const auto& u = j["usage"];
    if (!u.contains("prompt_tokens") || !u["prompt_tokens"].is_number_unsigned() ||
        !u.contains("completion_tokens") || !u["completion_tokens"].is_number_unsigned()) {
      st.error = Error(ErrorCode::kMalformed, "upstream stream: usage without prompt_tokens/completion_tokens");
      return false;
    }
    st.usage = Usage{u["prompt_tokens"].get<uint32_t>(), u["completion_tokens"].get<uint32_t>()};
  }
  if (j.contains("choices") && j["choices"].is_array() && !j["choices"].empty()) {
    const auto& c = j["choices"][0];
    if (c.contains("delta") && c["delta"].is_object() && c["delta"].contains("content") &&
        c["delta"]["content"].is_string()) {
      const std::string piece = c["delta"]["content"].get<std::string>();
      if (!piece.empty()) {
        ++st.deltas;
        st.text += piece;
        if (req.on_text && !req.on_text(piece)) {
          st.cancelled = true;
          return false;
        }
      }
    }
    if (c.contains("finish_reason") && c["finish_reason"].is_string()) st.finish_reason = c["finish_reason"];
    if (c.contains("token_ids") && c["token_ids"].is_array()) {
      for (const auto& t : c["token_ids"]) {
        if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() > INT32_MAX) {
          st.error = Error(ErrorCode::kMalformed, "upstream stream: token_ids holds a non-id");
          return false;
        }
        st.token_ids.push_back(static_cast<int32_t>(t.get<int64_t>()));
      }
    }
  }
  if (req.cancel != nullptr && req.cancel->load()) {
    st.cancelled = true;
    return false;
  }
  return true;
}

// Splits the byte stream into SSE events and feeds their data lines to HandleEvent.
bool Receive(const char* data, size_t len, const CompletionRequest& req, StreamState& st) {
  st.buffer.append(data, len);
  for (;;) {
    size_t end = st.buffer.find("\n\n");
    size_t sep = 2;
    const size_t crlf = st.buffer.find("\r\n\r\n");
    if (crlf != std::string::npos && (end == std::string::npos || crlf < end)) {
      end = crlf;
      sep = 4;
    }
    if (end == std::string::npos) break;
    const std::string event = st.buffer.substr(0, end);
    st.buffer.erase(0, end + sep);
    std::string payload;
    size_t pos = 0;
    while (pos <= event.size()) {
      size_t nl = event.find('\n', pos);
      if (nl == std::string::npos) nl = event.size();
      std::string line = event.substr(pos, nl - pos);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.rfind("data:", 0) == 0) {
        std::string_view v(line);
        v.remove_prefix(5);
        if (!v.empty() && v.front() == ' ') v.remove_prefix(1);
        if (!payload.empty()) payload.push_back('\n');
        payload.append(v);
      }
      pos = nl + 1;
    }
    if (!payload.empty() && !HandleEvent(payload, req, st)) return false;
  }
  if (st.buffer.size() > kMaxEventBytes) {
    st.error = Error(ErrorCode::kLengthTooLarge, "upstream stream: event larger than 1 MiB");
    return false;
  }
  return true;
}

httplib::Headers AuthHeaders(const UpstreamOptions& o) {
  httplib::Headers h;
  if (!o.api_key.empty()) h.emplace("Authorization", "Bearer " + o.api_key);
  return h;
}

std::unique_ptr<httplib::Client> MakeClient(const UpstreamOptions& o) {
  auto c = std::make_unique<httplib::Client>(o.host, o.port);
  c->set_read_timeout(o.timeout_seconds, 0);
  c->set_write_timeout(o.timeout_seconds, 0);
  c->set_connection_timeout(10, 0);
  return c;
}

}  // namespace

Result<std::unique_ptr<UpstreamEngine>> UpstreamEngine::Create(const UpstreamOptions& options) {
  if (!IsLoopback(options.host)) {
    return Error(ErrorCode::kInvalidArgument, "upstream host " + options.host + " is not a loopback address");
  }
  if (options.model.empty()) return Error(ErrorCode::kInvalidArgument, "upstream: no model name");
  if (options.port <= 0 || options.port > 65535) return Error(ErrorCode::kInvalidArgument, "upstream: bad port");
  std::unique_ptr<UpstreamEngine> e(new UpstreamEngine(options));
  if (!options.weights_path.empty()) {
    CMLN_ASSIGN_OR_RETURN(e->digest_, Sha256File(options.weights_path));
    e->has_digest_ = true;
  }
  return e;
}

Result<seal::Digest32> UpstreamEngine::ModelDigest() const {
  if (!has_digest_) return Error(ErrorCode::kUnsupported, "upstream engine configured without a weights file");
  return digest_;
}

Result<uint32_t> UpstreamEngine::CountTokens(std::string_view text) {
  auto client = MakeClient(options_);
  const std::string t(text);
  nlohmann::json body = {{"model", options_.model}, {"content", t},          {"prompt", t},
                         {"add_special", false},    {"add_special_tokens", false}, {"parse_special", false}};
  auto res = client->Post("/tokenize", AuthHeaders(options_), body.dump(), "application/json");
  if (res && res->status == 200) {
    auto j = nlohmann::json::parse(res->body, nullptr, false);
    if (j.is_object() && j.contains("tokens") && j["tokens"].is_array()) return static_cast<uint32_t>(j["tokens"].size());
    if (j.is_object() && j.contains("count") && j["count"].is_number_unsigned()) return j["count"].get<uint32_t>();
    return Error(ErrorCode::kMalformed, "upstream /tokenize: no tokens in the response");
  }
  // llama-cpp-python's server.
  nlohmann::json alt = {{"input", t}};
  res = client->Post("/extras/tokenize/count", AuthHeaders(options_), alt.dump(), "application/json");
  if (!res) return Error(ErrorCode::kIoError, "upstream tokenize: " + httplib::to_string(res.error()));
  if (res->status != 200) return Error(ErrorCode::kIoError, "upstream tokenize: HTTP " + std::to_string(res->status));
  auto j = nlohmann::json::parse(res->body, nullptr, false);
  if (!j.is_object() || !j.contains("count") || !j["count"].is_number_unsigned()) {
    return Error(ErrorCode::kMalformed, "upstream /extras/tokenize/count: no count in the response");
  }
  return j["count"].get<uint32_t>();
}

Result<Completion> UpstreamEngine::Complete(const CompletionRequest& request) {
  if (request.messages.empty()) return Error(ErrorCode::kInvalidArgument, "completion: no messages");
  if (!(request.temperature >= 0.0) || !(request.top_p > 0.0 && request.top_p <= 1.0)) {
    return Error(ErrorCode::kInvalidArgument, "completion: temperature must be >= 0 and top_p in (0, 1]");
  }
  nlohmann::json messages = nlohmann::json::array();
  for (const ChatMessage& m : request.messages) messages.push_back({{"role", m.role}, {"content", m.content}});
  nlohmann::json body = {{"model", options_.model},
                         {"messages", messages},
                         {"temperature", request.temperature},
                         {"top_p", request.top_p},
                         {"max_tokens", request.max_tokens},
                         {"stream", true},
                         {"stream_options", {{"include_usage", true}}}};
  if (!request.stop.empty()) body["stop"] = request.stop;
  if (request.seed.has_value()) body["seed"] = *request.seed;
  if (options_.request_token_ids) body["return_token_ids"] = true;

  StreamState st;
  int status = 0;
  std::string error_body;
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/chat/completions";
  req.headers = AuthHeaders(options_);
  req.headers.emplace("Accept", "text/event-stream");
  req.body = body.dump();
  req.set_header("Content-Type", "application/json");
  req.response_handler = [&](const httplib::Response& r) {
    status = r.status;
    return true;
  };
  req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
    if (status != 200) {
      if (error_body.size() < kMaxErrorBody) error_body.append(data, std::min(len, kMaxErrorBody - error_body.size()));
      return true;
    }
    return Receive(data, len, request, st);
  };
  auto client = MakeClient(options_);
  auto res = client->send(req);
  Completion out;
  out.text = st.text;
  out.token_ids = std::move(st.token_ids);
  if (st.cancelled) {
    out.finish_reason = FinishReason::kCancelled;
    out.usage.completion_tokens = st.deltas;
    return out;
  }
  if (st.error.has_value()) return *st.error;
  if (!res) return Error(ErrorCode::kIoError, "upstream: " + httplib::to_string(res.error()));
  if (status != 200) {
    return Error(ErrorCode::kIoError, "upstream: HTTP " + std::to_string(status) + ": " + error_body.substr(0, 200));
  }
  if (!st.usage.has_value()) {
    return Error(ErrorCode::kMalformed, "upstream stream ended without a usage object (stream_options.include_usage)");
  }
  out.usage = *st.usage;
  out.finish_reason = st.finish_reason == "length" ? FinishReason::kLength : FinishReason::kStop;
  return out;
}

}  // namespace cmln::engine
