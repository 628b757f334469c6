// Test-only GGUF v3 writer and tiny llama-model builder, so engine tests run in milliseconds on files
// they make themselves. Not a general writer: it emits exactly what the tests ask for, including
// deliberately wrong fields (see the Raw* hooks) for the malformed-file tests.
#pragma once

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "common/byte_reader.h"
#include "common/bytes.h"
#include "engine/gguf.h"
#include "engine/quant.h"
#include "engine/tokenizer.h"

namespace cmln::engine::testing {

class GgufWriter {
 public:
  void KvU32(const std::string& key, uint32_t v) { Key(key, 4); kv_.U32LE(v); ++n_kv_; }
  void KvF32(const std::string& key, float v) {
    Key(key, 6);
    uint32_t b;
    std::memcpy(&b, &v, 4);
    kv_.U32LE(b);
    ++n_kv_;
  }
  void KvBool(const std::string& key, bool v) { Key(key, 7); kv_.U8(v ? 1 : 0); ++n_kv_; }
  void KvString(const std::string& key, const std::string& v) { Key(key, 8); Str(kv_, v); ++n_kv_; }
  void KvStrings(const std::string& key, const std::vector<std::string>& v) {
    Key(key, 9);
    kv_.U32LE(8);
    kv_.U64LE(v.size());
    for (const auto& s : v) Str(kv_, s);
    ++n_kv_;
  }
  void KvI32s(const std::string& key, const std::vector<int32_t>& v) {
    Key(key, 9);
    kv_.U32LE(5);
    kv_.U64LE(v.size());
    for (int32_t x : v) kv_.U32LE(static_cast<uint32_t>(x));
    ++n_kv_;
  }
  // Any bytes as the body of one kv entry (after the key), for malformed-value tests.
  void KvRaw(const std::string& key, const Bytes& type_and_value) {
    Str(kv_, key);
    kv_.Bytes(type_and_value);
    ++n_kv_;
  }

  // A tensor with its data (`data` must match dims/type unless a test wants a lie).
  void Tensor(const std::string& name, const std::vector<uint64_t>& dims, TensorType type, const Bytes& data) {
    const uint64_t offset = (data_.size() + alignment_ - 1) / alignment_ * alignment_;
    data_.resize(offset, 0);
    Append(data_, data);
    TensorRaw(name, dims, static_cast<uint32_t>(type), offset);
  }
  // Only the descriptor; the caller arranges the data with RawData.
  void TensorRaw(const std::string& name, const std::vector<uint64_t>& dims, uint32_t type, uint64_t offset) {
    Str(ti_, name);
    ti_.U32LE(static_cast<uint32_t>(dims.size()));
    for (uint64_t d : dims) ti_.U64LE(d);
    ti_.U32LE(type);
    ti_.U64LE(offset);
    ++n_tensors_;
  }
  Bytes& RawData() { return data_; }

  uint32_t magic = engine::GgufFile::kMagic;
  uint32_t version = 3;

  Bytes Finish() const {
    ByteWriter w;
    w.U32LE(magic);
    w.U32LE(version);
    w.U64LE(n_tensors_);
    w.U64LE(n_kv_);
    w.Bytes(kv_.bytes());
    w.Bytes(ti_.bytes());
    Bytes out = w.Take();
    if (n_tensors_ > 0) {
      out.resize((out.size() + alignment_ - 1) / alignment_ * alignment_, 0);
      Append(out, data_);
    }
    return out;
  }

 private:
  static void Str(ByteWriter& w, const std::string& s) {
    w.U64LE(s.size());
    w.Bytes(s);
  }
  void Key(const std::string& key, uint32_t type) {
    Str(kv_, key);
    kv_.U32LE(type);
  }
  ByteWriter kv_, ti_;
  Bytes data_;
  uint64_t n_kv_ = 0, n_tensors_ = 0;
  uint64_t alignment_ = 32;
};

// Deterministic pseudo-random numbers for weights (xorshift; identical everywhere).
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint64_t Next() {
    s_ ^= s_ << 13;
    s_ ^= s_ >> 7;
    s_ ^= s_ << 17;
    return s_;
  }
  float Uniform(float lo, float hi) { return lo + (hi - lo) * static_cast<float>(Next() >> 40) / 16777216.0f; }

 private:
  uint64_t s_;
};

inline void PutHalf(Bytes& b, size_t at, float v) {
  const uint16_t h = Fp32ToFp16(v);
  b[at] = static_cast<uint8_t>(h);
  b[at + 1] = static_cast<uint8_t>(h >> 8);
}

// Random weights of `type` for a rows x cols matrix, values around +-scale.
inline Bytes RandomTensorData(TensorType type, uint64_t cols, uint64_t rows, float scale, Rng& rng) {
  const TensorTypeTraits tr = TraitsOf(type);
  const uint64_t blocks = cols * rows / tr.block_elems;
  Bytes b(blocks * tr.block_bytes);
  if (type == TensorType::kF32) {
    for (uint64_t i = 0; i < cols * rows; ++i) {
      const float v = rng.Uniform(-scale, scale);
      std::memcpy(&b[i * 4], &v, 4);
    }
    return b;
  }
  if (type == TensorType::kF16) {
    for (uint64_t i = 0; i < cols * rows; ++i) PutHalf(b, i * 2, rng.Uniform(-scale, scale));
    return b;
  }
  for (auto& x : b) x = static_cast<uint8_t>(rng.Next() >> 56);
  for (uint64_t k = 0; k < blocks; ++k) {
    uint8_t* blk = &b[k * tr.block_bytes];
    const size_t at = blk - b.data();
    switch (type) {
      case TensorType::kQ4_0: PutHalf(b, at, scale / 8); break;
      case TensorType::kQ4_1: PutHalf(b, at, scale / 8); PutHalf(b, at + 2, -scale); break;
      case TensorType::kQ8_0: PutHalf(b, at, scale / 127); break;
      case TensorType::kQ6_K:
        for (size_t s = 0; s < 16; ++s) blk[192 + s] = static_cast<uint8_t>(static_cast<int8_t>(rng.Next() % 32) - 16 + 1);
        PutHalf(b, at + 208, scale / 32 / 16);
        break;
      default: break;
    }
  }
  return b;
}

struct TinyModelSpec {
  uint32_t n_layer = 2;
  uint32_t n_embd = 64;
  uint32_t n_head = 4;
  uint32_t n_head_kv = 2;
  uint32_t n_ff = 128;
  uint32_t n_ctx = 256;
  TensorType weight_type = TensorType::kF32;   // attention and feed-forward matrices
  TensorType embd_type = TensorType::kF32;     // token embedding (and tied output)
  bool tied_output = true;
  uint64_t seed = 1;
  std::string chat_template =
      "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ "
      "'<|im_start|>system\nYou are tiny.<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + "
      "message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ "
      "'<|im_start|>assistant\n' }}{% endif %}";
};

// The byte-level vocabulary of the tiny models: 3 control tokens, the 256 byte tokens, a few merges.
inline std::vector<std::string> TinyVocab(std::vector<std::string>* merges, std::vector<int32_t>* types) {
  std::vector<std::string> tokens = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
  types->assign(3, 3);
  for (int b = 0; b < 256; ++b) {
    std::string s;
    engine::AppendUtf8(engine::ByteToCodepoint(static_cast<uint8_t>(b)), s);
    tokens.push_back(s);
    types->push_back(1);
  }
  const std::vector<std::pair<std::string, std::string>> m = {
      {"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"}, {"\xC4\xA0", "w"}, {"o", "r"}, {"\xC4\xA0w", "or"},
      {"l", "d"}, {"\xC4\xA0wor", "ld"}, {"\xC4\xA0", "\xC4\xA0"}, {"i", "n"}, {"\xC4\xA0", "t"}, {"\xC4\xA0t", "he"}};
  for (const auto& [a, b] : m) {
    merges->push_back(a + " " + b);
    tokens.push_back(a + b);
    types->push_back(1);
  }
  return tokens;
}

inline Bytes BuildTinyModel(const TinyModelSpec& spec) {
  GgufWriter w;
  std::vector<std::string> merges;
  std::vector<int32_t> types;
  const std::vector<std::string> tokens = TinyVocab(&merges, &types);
  const uint64_t nv = tokens.size(), d = spec.n_embd, ff = spec.n_ff;
  const uint64_t kv = uint64_t{spec.n_head_kv} * (spec.n_embd / spec.n_head);
  w.KvString("general.architecture", "llama");
  w.KvString("general.name", "tiny-test");
  w.KvU32("llama.block_count", spec.n_layer);
  w.KvU32("llama.context_length", spec.n_ctx);
  w.KvU32("llama.embedding_length", spec.n_embd);
  w.KvU32("llama.feed_forward_length", spec.n_ff);
  w.KvU32("llama.attention.head_count", spec.n_head);
  w.KvU32("llama.attention.head_count_kv", spec.n_head_kv);
  w.KvF32("llama.rope.freq_base", 10000.0f);
  w.KvF32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  w.KvString("tokenizer.ggml.model", "gpt2");
  w.KvString("tokenizer.ggml.pre", "smollm");
  w.KvStrings("tokenizer.ggml.tokens", tokens);
  w.KvI32s("tokenizer.ggml.token_type", types);
  w.KvStrings("tokenizer.ggml.merges", merges);
  w.KvU32("tokenizer.ggml.bos_token_id", 1);
  w.KvU32("tokenizer.ggml.eos_token_id", 2);
  w.KvBool("tokenizer.ggml.add_bos_token", false);
  w.KvString("tokenizer.chat_template", spec.chat_template);
  Rng rng(spec.seed);
  const auto ones = [&](uint64_t n) {
    Bytes b(n * 4);
    for (uint64_t i = 0; i < n; ++i) {
      const float v = 1.0f + rng.Uniform(-0.1f, 0.1f);
      std::memcpy(&b[i * 4], &v, 4);
    }
    return b;
  };
  w.Tensor("token_embd.weight", {d, nv}, spec.embd_type, RandomTensorData(spec.embd_type, d, nv, 1.0f, rng));
  w.Tensor("output_norm.weight", {d}, TensorType::kF32, ones(d));
  if (!spec.tied_output) {
    w.Tensor("output.weight", {d, nv}, spec.weight_type, RandomTensorData(spec.weight_type, d, nv, 0.5f, rng));
  }
  const TensorType t = spec.weight_type;
  for (uint32_t l = 0; l < spec.n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    w.Tensor(p + "attn_norm.weight", {d}, TensorType::kF32, ones(d));
    w.Tensor(p + "attn_q.weight", {d, d}, t, RandomTensorData(t, d, d, 0.3f, rng));
    w.Tensor(p + "attn_k.weight", {d, kv}, t, RandomTensorData(t, d, kv, 0.3f, rng));
    w.Tensor(p + "attn_v.weight", {d, kv}, t, RandomTensorData(t, d, kv, 0.3f, rng));
    w.Tensor(p + "attn_output.weight", {d, d}, t, RandomTensorData(t, d, d, 0.3f, rng));
    w.Tensor(p + "ffn_norm.weight", {d}, TensorType::kF32, ones(d));
    w.Tensor(p + "ffn_gate.weight", {d, ff}, t, RandomTensorData(t, d, ff, 0.3f, rng));
    w.Tensor(p + "ffn_up.weight", {d, ff}, t, RandomTensorData(t, d, ff, 0.3f, rng));
    w.Tensor(p + "ffn_down.weight", {ff, d}, t, RandomTensorData(t, ff, d, 0.3f, rng));
  }
  return w.Finish();
}

}  // namespace cmln::engine::testing
