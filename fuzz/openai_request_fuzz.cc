// Fuzzes the OpenAI chat-completions request parser (engine/openai_server.h) and the renderers fed
// with what it accepted: every input either parses into a request within the limits or fails with
// one of the parser's documented codes, and rendering the parsed text never throws.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/openai_server.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cmln;
  using namespace cmln::engine;
  OpenAiLimits limits;
  limits.max_body_bytes = 1 << 16;
  limits.max_messages = 16;
  limits.max_tokens = 512;
  std::string param;
  auto r = ParseChatRequest(std::string_view(reinterpret_cast<const char*>(data), size), limits, &param);
  if (!r.ok()) {
    switch (r.error().code()) {
      case ErrorCode::kLengthTooLarge:
      case ErrorCode::kBadEncoding:
      case ErrorCode::kMalformed:
      case ErrorCode::kUnsupported:
        break;
      default:
        __builtin_trap();
    }
    (void)RenderError(r.error(), param);
    return 0;
  }
  const CompletionRequest& c = r->completion;
  if (c.messages.empty() || c.messages.size() > limits.max_messages) __builtin_trap();
  if (c.max_tokens == 0 || c.max_tokens > limits.max_tokens) __builtin_trap();
  if (!(c.temperature >= 0.0 && c.temperature <= 2.0) || !(c.top_p > 0.0 && c.top_p <= 1.0)) __builtin_trap();
  if (c.stop.size() > limits.max_stop) __builtin_trap();
  for (const auto& s : c.stop) {
    if (s.empty() || s.size() > limits.max_stop_bytes) __builtin_trap();
  }
  if (r->include_usage && !r->stream) __builtin_trap();
  const ResponseMeta meta{"chatcmpl-fuzz", r->model, 0};
  Completion out;
  out.text = c.messages.back().content;
  out.token_ids = {1, 2, 3};
  (void)RenderChatCompletion(meta, out, r->return_token_ids);
  (void)RenderContentChunk(meta, c.messages.front().content, r->include_usage);
  return 0;
}
