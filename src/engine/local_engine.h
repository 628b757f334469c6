// The built-in engine: a llama-family GGUF model run on this machine's CPU.
//
// Load() maps the weights, validates them, hashes the file (ModelDigest) and builds the tokenizer
// and chat template from the file's metadata. Complete() applies the chat template, reuses the KV
// cache for the longest prefix shared with the previous request, and samples token by token.
// Thread safety: all methods are thread-safe; completions run one at a time (a mutex), each using
// the engine's thread pool.
#pragma once

#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "engine/chat_template.h"
#include "engine/engine.h"
#include "engine/llama_model.h"
#include "engine/thread_pool.h"
#include "engine/tokenizer.h"

namespace cmln::engine {

struct LocalEngineOptions {
  std::string model_path;
  // Context window (prompt + completion); capped by the model's training context. Default 2048.
  uint32_t n_ctx = 2048;
  // Threads for the matrix products, the caller included; 0 = all hardware threads.
  size_t n_threads = 0;
  // Name reported by model_name(); default: general.name from the file, else the file name.
  std::string model_name;
};

class LocalEngine : public Engine {
 public:
  static Result<std::unique_ptr<LocalEngine>> Load(const LocalEngineOptions& options);

  std::string model_name() const override { return name_; }
  Result<seal::Digest32> ModelDigest() const override { return digest_; }
  Result<uint32_t> CountTokens(std::string_view text) override;
  Result<Completion> Complete(const CompletionRequest& request) override;

  // Lower-level access for tests and benchmarks.
  const Tokenizer& tokenizer() const { return tokenizer_; }
  const ChatTemplate& chat_template() const { return template_; }
  const LlamaModel& model() const { return *model_; }
  // Prompt token ids for `messages` (template applied, special tokens parsed).
  std::vector<TokenId> PromptTokens(const std::vector<ChatMessage>& messages) const;
  // Greedy continuation of raw token ids (no template, no stop): up to n tokens, stopping after an
  // end-of-generation token. Resets the cache.
  Result<std::vector<TokenId>> GreedyTokens(const std::vector<TokenId>& prompt, uint32_t n);
  // Benchmarks: evaluates `tokens` from an empty cache (prefill), then one token at a time (decode).
  Status Prefill(const std::vector<TokenId>& tokens);
  // One decode step after Prefill/Decode: feeds `token`, returns the argmax of the next logits.
  Result<TokenId> DecodeGreedy(TokenId token);

 private:
  LocalEngine(std::unique_ptr<LlamaModel> model, Tokenizer tok, ChatTemplate tmpl, uint32_t n_ctx, size_t threads);
  // Makes the cache hold exactly `prompt` and leaves the logits after it in logits_.
  Status EvalPrompt(const std::vector<TokenId>& prompt);
  TokenId Sample(double temperature, double top_p, std::mt19937_64& rng);

  std::mutex mu_;
  std::unique_ptr<LlamaModel> model_;
  Tokenizer tokenizer_;
  ChatTemplate template_;
  ThreadPool pool_;
  KvCache cache_;
  std::vector<TokenId> cached_tokens_;  // what cache_ holds
  size_t batched_prefix_ = 0;           // leading cache entries computed by multi-token prompt batches
  std::vector<float> logits_;
  std::vector<std::pair<float, TokenId>> candidates_;
  std::string name_;
  seal::Digest32 digest_{};
};

// Index of the largest value (the lowest index on ties).
TokenId ArgMax(const std::vector<float>& logits);

}  // namespace cmln::engine
