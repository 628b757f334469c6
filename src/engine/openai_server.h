// An OpenAI-compatible HTTP server for any Engine (`cmln engine serve` runs it for the built-in engine),
// and the request parsing / response shaping behind it, exposed so the node can reuse them.
//
// Endpoints (plaintext HTTP; the server binds loopback addresses only, because prompts and completions
// must not leave the confidential VM unencrypted):
//   POST /v1/chat/completions  OpenAI chat completions, non-streamed or streamed (SSE), with usage;
//                              stream_options.include_usage adds the final usage chunk; vLLM's
//                              `return_token_ids` adds the generated token ids (engines that know them)
//   POST /tokenize             {"prompt" | "content": text} -> {"count": tokens} (Engine::CountTokens)
//   GET  /v1/models            the one served model
//   GET  /health               {"status": "ok"}
// Errors use OpenAI's shape {"error": {"message", "type", "param", "code"}} with 400 (bad request),
// 404 (unknown model or path), 413 (body over the cap), 429 (too many completions in flight) and 500.
// Bounded: request bodies over OpenAiLimits::max_body_bytes, JSON nested deeper than 64, more than
// max_concurrent completions at once and fixed-size worker threads.
//
// Thread safety: the parse/render functions are pure. OpenAiServer methods may be called from any
// thread; the Engine must outlive the server and be safe for concurrent calls (engine.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/status.h"
#include "engine/engine.h"

namespace httplib {
class Server;
}

namespace cmln::engine {

struct OpenAiLimits {
  size_t max_body_bytes = 1 << 20;
  size_t max_messages = 256;
  uint32_t max_tokens = 4096;          // largest max_tokens / max_completion_tokens accepted
  uint32_t default_max_tokens = 256;   // when the request names none
  size_t max_stop = 4;                 // stop sequences (OpenAI's limit)
  size_t max_stop_bytes = 256;
  size_t max_model_bytes = 256;
};

// A parsed chat-completions request. `completion` has no on_text/cancel (the caller supplies them).
struct OpenAiChatRequest {
  std::string model;
  CompletionRequest completion;
  bool stream = false;
  bool include_usage = false;     // stream_options.include_usage
  bool return_token_ids = false;  // vLLM's extension: token ids of the completion in the response
};

// Parses an OpenAI chat-completions request body. On failure the error names the field and
// `param` (when not null) receives it in OpenAI's form ("messages[1].content"; empty for the body).
// Codes: kLengthTooLarge (body, nesting, counts or lengths over `limits`), kBadEncoding (not JSON),
// kMalformed (a field of the wrong type or out of range, a required field missing), kUnsupported
// (a feature this server does not offer: tools, n > 1, logprobs, penalties, non-text content).
// Unknown fields are ignored, as OpenAI-compatible servers do.
Result<OpenAiChatRequest> ParseChatRequest(std::string_view body, const OpenAiLimits& limits,
                                           std::string* param = nullptr);

// Identity of one response, repeated in every chunk of a stream.
struct ResponseMeta {
  std::string id;       // "chatcmpl-..."
  std::string model;
  int64_t created = 0;  // unix seconds
};

// The non-streamed response: {"id", "object": "chat.completion", "created", "model", "choices":
// [{"index": 0, "message": {"role": "assistant", "content"}, "finish_reason", "logprobs": null,
// "token_ids"?}], "usage": {"prompt_tokens", "completion_tokens", "total_tokens"}}.
// Text that is not valid UTF-8 is rendered with U+FFFD replacements.
std::string RenderChatCompletion(const ResponseMeta& meta, const Completion& completion, bool with_token_ids);

// Streamed chunks ("object": "chat.completion.chunk"), JSON only (no "data: " framing). With
// `usage_null` the chunk carries "usage": null, as OpenAI sends when include_usage is on.
// The first chunk: delta {"role": "assistant", "content": ""}.
std::string RenderRoleChunk(const ResponseMeta& meta, bool usage_null);
// A piece of text: delta {"content": text}.
std::string RenderContentChunk(const ResponseMeta& meta, std::string_view text, bool usage_null);
// The last choice chunk: empty delta and finish_reason; "token_ids" (all generated ids) when given.
std::string RenderFinishChunk(const ResponseMeta& meta, FinishReason reason, const std::vector<int32_t>* token_ids,
                              bool usage_null);
// The usage chunk (include_usage): "choices": [] and the usage object.
std::string RenderUsageChunk(const ResponseMeta& meta, const Usage& usage);

// OpenAI's error object for `error`, with the HTTP status its code maps to.
struct HttpError {
  int status = 500;
  std::string body;
};
HttpError RenderError(const Error& error, std::string_view param = {});
// An error with an explicit status, type ("invalid_request_error", "rate_limit_error", "server_error")
// and code (may be empty: null).
HttpError RenderError(int status, std::string_view type, std::string_view message, std::string_view param,
                      std::string_view code);

struct OpenAiServerOptions {
  std::string host = "127.0.0.1";  // must be a loopback address ("localhost", 127.x.y.z, ::1)
  int port = 0;                    // 0: a free port, see port()
  std::string model_name;          // served name; default: engine.model_name()
  size_t max_concurrent = 4;       // completions in flight; more are answered 429
  OpenAiLimits limits;
};

class OpenAiServer {
 public:
  // Binds and starts serving on a background thread. kInvalidArgument for a non-loopback host or a
  // zero max_concurrent, kIoError if the address cannot be bound.
  static Result<std::unique_ptr<OpenAiServer>> Start(Engine& engine, const OpenAiServerOptions& options);
  ~OpenAiServer();  // Stop()

  int port() const { return port_; }
  const std::string& model_name() const { return model_name_; }
  // Stops accepting, cancels running completions and joins the server thread. Idempotent.
  void Stop();

 private:
  OpenAiServer(Engine& engine, OpenAiServerOptions options);
  void Route();

  Engine& engine_;
  OpenAiServerOptions options_;
  std::string model_name_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<size_t> in_flight_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> next_id_{0};
};

}  // namespace cmln::engine
