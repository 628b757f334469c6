// A llama-family transformer (token embedding, N blocks of RMSNorm + rotary grouped-query attention
// + RMSNorm + SwiGLU feed-forward, final RMSNorm, output projection) whose weights stay inside a
// memory-mapped GGUF file, and a KV cache to run it token by token.
//
// Load() checks every hyperparameter and every tensor shape and type against the metadata before
// the first forward pass, so Forward() never indexes outside a tensor.
// The arithmetic follows llama.cpp's CPU backend (see quant.h): F16 KV cache, queries and attention
// weights rounded to half floats before their products, activations quantized per weight type.
// Thread safety: LlamaModel is immutable after Load and may be shared; a KvCache belongs to one
// sequence and must not be used by two Forward calls at once.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/gguf.h"
#include "engine/thread_pool.h"
#include "engine/tokenizer.h"

namespace cmln::engine {

struct LlamaHyperparams {
  uint32_t n_layer = 0;
  uint32_t n_embd = 0;
  uint32_t n_ff = 0;
  uint32_t n_head = 0;
  uint32_t n_head_kv = 0;
  uint32_t head_dim = 0;
  uint32_t n_rot = 0;
  uint32_t n_vocab = 0;
  uint32_t n_ctx_train = 0;
  float rope_freq_base = 10000.0f;
  float rms_eps = 1e-5f;
};

// llama.cpp's default micro-batch (n_ubatch). Forward() splits its tokens into micro-batches of this
// size from the first token of the call and, like llama.cpp, evaluates the attention of a one-token
// micro-batch with a different kernel than that of a longer one (the sums are ordered differently).
inline constexpr size_t kLlamaUbatch = 512;

class KvCache {
 public:
  KvCache(const LlamaHyperparams& hp, uint32_t n_ctx);
  uint32_t capacity() const { return n_ctx_; }
  uint32_t size() const { return n_past_; }
  // Forget everything after the first n tokens (n <= size()).
  void Truncate(uint32_t n) { n_past_ = std::min(n, n_past_); }

 private:
  friend class LlamaModel;
  uint32_t n_ctx_;
  uint32_t n_past_ = 0;
  uint32_t kv_dim_;
  // k_[layer][pos][kv_dim] and v_[layer][kv_head][head_dim][pos] (V transposed, as llama.cpp keeps it
  // without flash attention), half floats.
  std::vector<std::vector<uint16_t>> k_;
  std::vector<std::vector<uint16_t>> v_;
};

class LlamaModel {
 public:
  // Validates the architecture metadata ("llama") and the tensors of `file`.
  // kUnsupported for other architectures, kMalformed for missing or mis-shaped tensors.
  static Result<std::unique_ptr<LlamaModel>> Load(GgufFile file);

  const LlamaHyperparams& hparams() const { return hp_; }
  const GgufFile& file() const { return file_; }

  // Appends `tokens` to the sequence in `cache` and writes the logits (n_vocab floats) that follow
  // the last of them into `logits`, with the arithmetic of one llama_decode call of these tokens
  // (see kLlamaUbatch). kLengthTooLarge if the cache would overflow (cache unchanged).
  // REQUIRES: every token < n_vocab (checked: kInvalidArgument).
  Status Forward(std::span<const TokenId> tokens, KvCache& cache, ThreadPool& pool, std::vector<float>& logits) const;

 private:
  struct Layer {
    const GgufTensor* attn_norm;
    const GgufTensor* wq;
    const GgufTensor* wk;
    const GgufTensor* wv;
    const GgufTensor* wo;
    const GgufTensor* ffn_norm;
    const GgufTensor* w_gate;
    const GgufTensor* w_up;
    const GgufTensor* w_down;
  };
  explicit LlamaModel(GgufFile file) : file_(std::move(file)) {}
  // `multi_token_ubatch`: the tokens belong to a llama.cpp micro-batch of more than one token, which
  // selects the attention kernel llama.cpp would use (see llama_model.cc).
  Status ForwardBatch(std::span<const TokenId> tokens, bool multi_token_ubatch, KvCache& cache, ThreadPool& pool,
                      float* logits) const;

  GgufFile file_;
  LlamaHyperparams hp_;
  const GgufTensor* tok_embd_ = nullptr;
  const GgufTensor* output_norm_ = nullptr;
  const GgufTensor* output_ = nullptr;  // token_embd when the model ties them
  std::vector<Layer> layers_;
};

}  // namespace cmln::engine
