// The inference engine interface: what the node needs from a model, whether it runs in this
// process (LocalEngine: GGUF weights on the CPU) or behind an OpenAI-compatible server
// (UpstreamEngine: vLLM or llama.cpp's server inside the CVM).
//
// Usage is exact and comes from the engine that did the work: prompt_tokens is the number of tokens
// the model read (chat template applied), completion_tokens the number it generated, including an
// end-of-generation token and the tokens that completed a stop sequence.
// Thread safety: every Engine method is safe to call from several threads; an engine may serialize
// completions internally (LocalEngine does).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "seal/crypto.h"

namespace cmln::engine {

struct ChatMessage {
  std::string role;  // "system", "user", "assistant"
  std::string content;
};

enum class FinishReason { kStop, kLength, kCancelled };
// "stop", "length", "cancelled" (OpenAI's names for the first two).
std::string_view FinishReasonName(FinishReason r);

struct CompletionRequest {
  std::vector<ChatMessage> messages;
  // 0 selects greedy decoding (the most likely token, lowest id on ties); otherwise logits are divided
  // by the temperature before sampling.
  double temperature = 1.0;
  // Nucleus sampling: sample among the most likely tokens whose probabilities sum to at least top_p.
  double top_p = 1.0;
  // Same seed, same request, same engine build: same output. Unset: a random seed.
  std::optional<uint64_t> seed;
  uint32_t max_tokens = 256;
  // Generation stops when the text contains one of these; the stop text itself is not returned.
  std::vector<std::string> stop;
  // Streaming: called with each new piece of text (whole UTF-8 characters, never a stop sequence or
  // a prefix of one that later completes). Return false to cancel. May be empty.
  std::function<bool(std::string_view delta)> on_text;
  // Set to true from any thread to cancel; checked before each generated token. May be null.
  const std::atomic<bool>* cancel = nullptr;
};

struct Usage {
  uint32_t prompt_tokens = 0;
  uint32_t completion_tokens = 0;
};

struct Completion {
  std::string text;
  FinishReason finish_reason = FinishReason::kStop;
  Usage usage;
  std::vector<int32_t> token_ids;  // generated ids when the engine knows them (LocalEngine)
};

class Engine {
 public:
  virtual ~Engine() = default;

  // Model name as clients address it.
  virtual std::string model_name() const = 0;
  // SHA-256 of the weights file (kUnsupported when the engine was given no weights file to hash).
  virtual Result<seal::Digest32> ModelDigest() const = 0;
  // Number of tokens `text` encodes to, special-token text treated as plain text.
  virtual Result<uint32_t> CountTokens(std::string_view text) = 0;
  // Runs a chat completion. Errors: kInvalidArgument (empty messages, prompt longer than the
  // context), kIoError/kMalformed for upstream failures. Cancellation is not an error: the result
  // has finish_reason kCancelled and the usage so far.
  virtual Result<Completion> Complete(const CompletionRequest& request) = 0;
};

// SHA-256 of a file's contents, streamed (kIoError if unreadable).
Result<seal::Digest32> Sha256File(const std::string& path);

// Incremental text output shared by the engines: holds back bytes that may still become a stop
// sequence or complete a UTF-8 character, and reports a stop once the text contains one.
class StopScanner {
 public:
  explicit StopScanner(const std::vector<std::string>& stop);
  // Appends generated text. Returns true when a stop sequence is now present (the text is cut
  // before it). `ready` receives text that is final and can be streamed.
  bool Add(std::string_view piece, std::string* ready);
  // At the end of generation: everything still held back.
  std::string Flush();
  const std::string& text() const { return text_; }

 private:
  std::vector<std::string> stop_;
  size_t max_stop_ = 0;
  std::string text_;     // all final text so far (after a stop: cut before it)
  size_t emitted_ = 0;   // bytes of text_ handed out
  bool stopped_ = false;
};

}  // namespace cmln::engine
