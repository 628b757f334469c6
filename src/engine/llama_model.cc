#include "engine/llama_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "engine/quant.h"

// Products are rounded where ggml rounds them and fused only where written (std::fma, FMA intrinsics):
// clang would otherwise contract a*b+c inside the FMA-enabled functions (GCC does not under -std=c++20).
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

namespace cmln::engine {

namespace {

// Tokens per forward batch: bounds the scratch memory of a long prompt.
constexpr size_t kMaxBatch = 64;
// llama.cpp pads the KV view of each step to a multiple of 256 cells (zero attention weights).
constexpr size_t kLlamaKvPad = 256;
constexpr uint32_t kMaxLayers = 1024;
constexpr uint32_t kMaxWidth = 1u << 16;
constexpr uint32_t kMaxVocab = 1u << 22;

size_t RowBytes(const GgufTensor& t) {
  const TensorTypeTraits tr = TraitsOf(t.type);
  return static_cast<size_t>(t.dims[0] / tr.block_elems * tr.block_bytes);
}

Result<const GgufTensor*> Tensor(const GgufFile& f, const std::string& name, std::vector<uint64_t> shape) {
  const GgufTensor* t = f.FindTensor(name);
  if (t == nullptr) return Error(ErrorCode::kMalformed, "missing tensor " + name);
  if (t->dims != shape) {
    std::string want, got;
    for (uint64_t d : shape) want += (want.empty() ? "" : "x") + std::to_string(d);
    for (uint64_t d : t->dims) got += (got.empty() ? "" : "x") + std::to_string(d);
    return Error(ErrorCode::kMalformed, "tensor " + name + ": shape " + got + ", want " + want);
  }
  return t;
}

Result<const GgufTensor*> NormTensor(const GgufFile& f, const std::string& name, uint64_t n) {
  CMLN_ASSIGN_OR_RETURN(const GgufTensor* t, Tensor(f, name, {n}));
  if (t->type != TensorType::kF32) return Error(ErrorCode::kUnsupported, "tensor " + name + ": norm weights must be F32");
  return t;
}

Result<uint32_t> HyperU32(const GgufFile& f, const std::string& key, uint32_t max) {
  CMLN_ASSIGN_OR_RETURN(uint64_t v, f.GetUInt(key));
  if (v == 0 || v > max) return Error(ErrorCode::kMalformed, "metadata " + key + ": " + std::to_string(v) + " out of range");
  return static_cast<uint32_t>(v);
}

const float* F32Data(const GgufTensor* t) { return reinterpret_cast<const float*>(t->data.data()); }

// out[t][r] = W[r] . in[t] for t < n_tokens; W is rows x cols.
void MatMul(const GgufTensor& w, const float* in, size_t n_tokens, float* out, ThreadPool& pool,
            std::vector<uint8_t>& act) {
  const size_t cols = static_cast<size_t>(w.dims[0]);
  const size_t rows = static_cast<size_t>(w.dims[1]);
  const ActFormat fmt = ActFormatFor(w.type);
  const size_t act_bytes = ActRowBytes(fmt, cols);
  act.resize(act_bytes * n_tokens);
  for (size_t t = 0; t < n_tokens; ++t) EncodeActivation(fmt, in + t * cols, cols, act.data() + t * act_bytes);
  const size_t row_bytes = RowBytes(w);
  const uint8_t* base = w.data.data();
  const uint8_t* a = act.data();
  pool.ParallelFor(rows, [&](size_t begin, size_t end) {
    for (size_t r = begin; r < end; ++r) {
      const uint8_t* wr = base + r * row_bytes;
      for (size_t t = 0; t < n_tokens; ++t) out[t * rows + r] = DotRow(w.type, wr, a + t * act_bytes, cols);
    }
  });
}

// ggml's rms_norm (sum of squares in double) followed by the elementwise weight.
void RmsNorm(const float* x, const float* w, size_t n, float eps, float* y) {
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) sum += static_cast<double>(x[i] * x[i]);
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  const float scale = 1.0f / std::sqrt(mean + eps);
  for (size_t i = 0; i < n; ++i) y[i] = (x[i] * scale) * w[i];
}

// Rotary embedding on adjacent pairs (ggml's "normal" mode), angles built by repeated
// multiplication as ggml does. Each output is one fused multiply-add over a rounded product, in the
// operand order GCC gives ggml's rotate_pairs on x86-64 with FMA (vfmaddsub over the duplicated
// x0 / x1 lanes): x0*c - x1*s = fma(x0, c, -(x1*s)) and x0*s + x1*c = fma(x0, s, x1*c). The one-ulp
// difference from rounding each product separately is enough to change greedy choices thirty layers
// later (checked against llama.cpp's intermediate tensors).
void Rope(float* v, size_t n_heads, size_t head_dim, size_t n_rot, float pos, float theta_scale) {
  float cs[512];
  float theta = pos;
  for (size_t i = 0; i < n_rot; i += 2) {
    cs[i] = std::cos(theta);
    cs[i + 1] = std::sin(theta);
    theta *= theta_scale;
  }
  for (size_t h = 0; h < n_heads; ++h) {
    float* x = v + h * head_dim;
    for (size_t i = 0; i < n_rot; i += 2) {
      const float x0 = x[i], x1 = x[i + 1];
      const float x1_sin = x1 * cs[i + 1];
      const float x1_cos = x1 * cs[i];
      x[i] = std::fma(x0, cs[i], -x1_sin);
      x[i + 1] = std::fma(x0, cs[i + 1], x1_cos);
    }
  }
}

}  // namespace

KvCache::KvCache(const LlamaHyperparams& hp, uint32_t n_ctx)
    : n_ctx_(n_ctx), kv_dim_(hp.n_head_kv * hp.head_dim) {
  k_.assign(hp.n_layer, std::vector<uint16_t>(static_cast<size_t>(n_ctx) * kv_dim_, 0));
  v_.assign(hp.n_layer, std::vector<uint16_t>(static_cast<size_t>(n_ctx) * kv_dim_, 0));
}

Result<std::unique_ptr<LlamaModel>> LlamaModel::Load(GgufFile file) {
  CMLN_ASSIGN_OR_RETURN(std::string arch, file.GetString("general.architecture"));
  if (arch != "llama") return Error(ErrorCode::kUnsupported, "general.architecture " + arch + " (want llama)");
  std::unique_ptr<LlamaModel> m(new LlamaModel(std::move(file)));
  const GgufFile& f = m->file_;
  LlamaHyperparams& hp = m->hp_;
  CMLN_ASSIGN_OR_RETURN(hp.n_layer, HyperU32(f, "llama.block_count", kMaxLayers));
  CMLN_ASSIGN_OR_RETURN(hp.n_embd, HyperU32(f, "llama.embedding_length", kMaxWidth));
  CMLN_ASSIGN_OR_RETURN(hp.n_ff, HyperU32(f, "llama.feed_forward_length", kMaxWidth * 4));
  CMLN_ASSIGN_OR_RETURN(hp.n_head, HyperU32(f, "llama.attention.head_count", kMaxWidth));
  hp.n_head_kv = hp.n_head;
  if (f.Find("llama.attention.head_count_kv") != nullptr) {
    CMLN_ASSIGN_OR_RETURN(hp.n_head_kv, HyperU32(f, "llama.attention.head_count_kv", hp.n_head));
  }
  if (hp.n_embd % hp.n_head != 0 || hp.n_head % hp.n_head_kv != 0) {
    return Error(ErrorCode::kMalformed, "llama.attention.head_count does not divide the width or the KV heads");
  }
  hp.head_dim = hp.n_embd / hp.n_head;
  if (hp.head_dim % 2 != 0 || hp.head_dim > 512) return Error(ErrorCode::kUnsupported, "head size " + std::to_string(hp.head_dim));
  hp.n_rot = hp.head_dim;
  if (f.Find("llama.rope.dimension_count") != nullptr) {
    CMLN_ASSIGN_OR_RETURN(hp.n_rot, HyperU32(f, "llama.rope.dimension_count", hp.head_dim));
    if (hp.n_rot % 2 != 0) return Error(ErrorCode::kMalformed, "llama.rope.dimension_count is odd");
  }
  CMLN_ASSIGN_OR_RETURN(hp.n_ctx_train, HyperU32(f, "llama.context_length", 1u << 24));
  if (f.Find("llama.rope.freq_base") != nullptr) {
    CMLN_ASSIGN_OR_RETURN(double base, f.GetFloat("llama.rope.freq_base"));
    if (!(base > 1.0) || !std::isfinite(base)) return Error(ErrorCode::kMalformed, "llama.rope.freq_base out of range");
    hp.rope_freq_base = static_cast<float>(base);
  }
  if (f.Find("llama.attention.layer_norm_rms_epsilon") != nullptr) {
    CMLN_ASSIGN_OR_RETURN(double eps, f.GetFloat("llama.attention.layer_norm_rms_epsilon"));
    if (!(eps > 0.0 && eps < 1.0)) return Error(ErrorCode::kMalformed, "llama.attention.layer_norm_rms_epsilon out of range");
    hp.rms_eps = static_cast<float>(eps);
  }
  if (f.Find("llama.rope.scaling.type") != nullptr) {
    CMLN_ASSIGN_OR_RETURN(std::string scaling, f.GetString("llama.rope.scaling.type"));
    if (scaling != "none") return Error(ErrorCode::kUnsupported, "llama.rope.scaling.type " + scaling);
  }
  const GgufTensor* embd = f.FindTensor("token_embd.weight");
  if (embd == nullptr || embd->dims.size() != 2) return Error(ErrorCode::kMalformed, "missing tensor token_embd.weight (2-D)");
  if (embd->dims[1] > kMaxVocab) return Error(ErrorCode::kLengthTooLarge, "token_embd.weight: vocabulary too large");
  hp.n_vocab = static_cast<uint32_t>(embd->dims[1]);
  const uint64_t d = hp.n_embd, kv = uint64_t{hp.n_head_kv} * hp.head_dim, ff = hp.n_ff, nv = hp.n_vocab;
  CMLN_ASSIGN_OR_RETURN(m->tok_embd_, Tensor(f, "token_embd.weight", {d, nv}));
  CMLN_ASSIGN_OR_RETURN(m->output_norm_, NormTensor(f, "output_norm.weight", d));
  if (f.FindTensor("output.weight") != nullptr) {
    CMLN_ASSIGN_OR_RETURN(m->output_, Tensor(f, "output.weight", {d, nv}));
  } else {
    m->output_ = m->tok_embd_;  // tied embeddings
  }
  for (uint32_t i = 0; i < hp.n_layer; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    Layer L{};
    CMLN_ASSIGN_OR_RETURN(L.attn_norm, NormTensor(f, p + "attn_norm.weight", d));
    CMLN_ASSIGN_OR_RETURN(L.wq, Tensor(f, p + "attn_q.weight", {d, d}));
    CMLN_ASSIGN_OR_RETURN(L.wk, Tensor(f, p + "attn_k.weight", {d, kv}));
    CMLN_ASSIGN_OR_RETURN(L.wv, Tensor(f, p + "attn_v.weight", {d, kv}));
    CMLN_ASSIGN_OR_RETURN(L.wo, Tensor(f, p + "attn_output.weight", {d, d}));
    CMLN_ASSIGN_OR_RETURN(L.ffn_norm, NormTensor(f, p + "ffn_norm.weight", d));
    CMLN_ASSIGN_OR_RETURN(L.w_gate, Tensor(f, p + "ffn_gate.weight", {d, ff}));
    CMLN_ASSIGN_OR_RETURN(L.w_up, Tensor(f, p + "ffn_up.weight", {d, ff}));
    CMLN_ASSIGN_OR_RETURN(L.w_down, Tensor(f, p + "ffn_down.weight", {ff, d}));
    m->layers_.push_back(L);
  }
  return m;
}

Status LlamaModel::Forward(std::span<const TokenId> tokens, KvCache& cache, ThreadPool& pool,
                           std::vector<float>& logits) const {
  if (tokens.empty()) return Error(ErrorCode::kInvalidArgument, "Forward: no tokens");
  if (cache.k_.size() != hp_.n_layer || cache.kv_dim_ != hp_.n_head_kv * hp_.head_dim) {
    return Error(ErrorCode::kInvalidArgument, "Forward: cache built for another model");
  }
  if (tokens.size() > cache.capacity() - cache.size()) {
    return Error(ErrorCode::kLengthTooLarge, "context of " + std::to_string(cache.capacity()) + " tokens exceeded (" +
                                                 std::to_string(cache.size()) + " used, " +
                                                 std::to_string(tokens.size()) + " more)");
  }
  for (TokenId t : tokens) {
    if (t < 0 || static_cast<uint32_t>(t) >= hp_.n_vocab) {
      return Error(ErrorCode::kInvalidArgument, "token id " + std::to_string(t) + " outside the vocabulary");
    }
  }
  logits.resize(hp_.n_vocab);
  for (size_t u = 0; u < tokens.size(); u += kLlamaUbatch) {
    const size_t ubatch = std::min(kLlamaUbatch, tokens.size() - u);
    for (size_t i = u; i < u + ubatch; i += kMaxBatch) {
      const size_t n = std::min(kMaxBatch, u + ubatch - i);
      const bool last = i + n == tokens.size();
      CMLN_TRY(ForwardBatch(tokens.subspan(i, n), ubatch > 1, cache, pool, last ? logits.data() : nullptr));
    }
  }
  return OkStatus();
}

Status LlamaModel::ForwardBatch(std::span<const TokenId> tokens, bool multi_token_ubatch, KvCache& cache,
                                ThreadPool& pool, float* logits) const {
  const size_t T = tokens.size();
  const size_t d = hp_.n_embd, hd = hp_.head_dim, nh = hp_.n_head, nkv = hp_.n_head_kv;
  const size_t kv_dim = nkv * hd, ff = hp_.n_ff;
  const size_t pos0 = cache.n_past_;
  const float theta_scale = std::pow(hp_.rope_freq_base, -2.0f / static_cast<float>(hp_.n_rot));
  const float kq_scale = 1.0f / std::sqrt(static_cast<float>(hd));

  std::vector<float> x(T * d), xn(T * d), q(T * d), k(T * kv_dim), v(T * kv_dim), attn(T * d), tmp(T * d);
  std::vector<float> gate(T * ff), up(T * ff);
  std::vector<uint8_t> act;

  const size_t embd_row = RowBytes(*tok_embd_);
  for (size_t t = 0; t < T; ++t) {
    DequantizeRow(tok_embd_->type, tok_embd_->data.data() + static_cast<size_t>(tokens[t]) * embd_row, &x[t * d], d);
  }

  for (size_t l = 0; l < layers_.size(); ++l) {
    const Layer& L = layers_[l];
    for (size_t t = 0; t < T; ++t) RmsNorm(&x[t * d], F32Data(L.attn_norm), d, hp_.rms_eps, &xn[t * d]);
    MatMul(*L.wq, xn.data(), T, q.data(), pool, act);
    MatMul(*L.wk, xn.data(), T, k.data(), pool, act);
    MatMul(*L.wv, xn.data(), T, v.data(), pool, act);

    uint16_t* kc = cache.k_[l].data();
    uint16_t* vc = cache.v_[l].data();
    const size_t n_ctx = cache.n_ctx_;
    for (size_t t = 0; t < T; ++t) {
      const float pos = static_cast<float>(pos0 + t);
      Rope(&q[t * d], nh, hd, hp_.n_rot, pos, theta_scale);
      Rope(&k[t * kv_dim], nkv, hd, hp_.n_rot, pos, theta_scale);
      for (size_t i = 0; i < kv_dim; ++i) kc[(pos0 + t) * kv_dim + i] = Fp32ToFp16(k[t * kv_dim + i]);
      for (size_t i = 0; i < kv_dim; ++i) vc[i * n_ctx + pos0 + t] = Fp32ToFp16(v[t * kv_dim + i]);
    }

    const size_t group = nh / nkv;
    // llama.cpp's KV view length for this step, used by the one-token kernel's lane layout.
    const size_t n_kv_view = std::min<size_t>(n_ctx, (pos0 + T + kLlamaKvPad - 1) / kLlamaKvPad * kLlamaKvPad);
    auto dot16 = [&](const uint16_t* a, const uint16_t* b, size_t n_valid, size_t n_total) {
      return multi_token_ubatch ? DotF16(a, b, n_valid) : DotF16Ggml(a, b, n_valid, n_total);
    };
    pool.ParallelFor(T * nh, [&](size_t begin, size_t end) {
      std::vector<uint16_t> q16(hd), p16(pos0 + T);
      std::vector<float> s(pos0 + T);
      for (size_t item = begin; item < end; ++item) {
        const size_t t = item / nh, h = item % nh, g = h / group;
        const size_t n_pos = pos0 + t + 1;  // causal: positions 0..pos0+t
        for (size_t i = 0; i < hd; ++i) q16[i] = Fp32ToFp16(q[t * d + h * hd + i]);
        float mx = -INFINITY;
        for (size_t j = 0; j < n_pos; ++j) {
          s[j] = dot16(kc + j * kv_dim + g * hd, q16.data(), hd, hd) * kq_scale;
          mx = std::max(mx, s[j]);
        }
        // ggml's softmax: exponentials in blocks of 16 (masked positions contribute exact zeros),
        // each block reduced in float, block sums accumulated in double.
        double sum = 0.0;
        for (size_t j0 = 0; j0 < n_pos; j0 += 16) {
          float block[16] = {0};
          for (size_t j = j0; j < std::min(n_pos, j0 + 16); ++j) block[j - j0] = s[j] = GgmlExpf(s[j] - mx);
          sum += static_cast<double>(ReduceAdd16(block));
        }
        const float inv = static_cast<float>(1.0 / sum);
        for (size_t j = 0; j < n_pos; ++j) p16[j] = Fp32ToFp16(s[j] * inv);
        for (size_t i = 0; i < hd; ++i) {
          attn[t * d + h * hd + i] = dot16(vc + (g * hd + i) * n_ctx, p16.data(), n_pos, n_kv_view);
        }
      }
    });

    MatMul(*L.wo, attn.data(), T, tmp.data(), pool, act);
    for (size_t i = 0; i < T * d; ++i) x[i] += tmp[i];

    for (size_t t = 0; t < T; ++t) RmsNorm(&x[t * d], F32Data(L.ffn_norm), d, hp_.rms_eps, &xn[t * d]);
    MatMul(*L.w_gate, xn.data(), T, gate.data(), pool, act);
    MatMul(*L.w_up, xn.data(), T, up.data(), pool, act);
    for (size_t i = 0; i < T * ff; ++i) {
      const float g = gate[i];
      gate[i] = GgmlSilu(g) * up[i];
    }
    MatMul(*L.w_down, gate.data(), T, tmp.data(), pool, act);
    for (size_t i = 0; i < T * d; ++i) x[i] += tmp[i];
  }
  cache.n_past_ = static_cast<uint32_t>(pos0 + T);
  if (logits != nullptr) {
    RmsNorm(&x[(T - 1) * d], F32Data(output_norm_), d, hp_.rms_eps, xn.data());
    MatMul(*output_, xn.data(), 1, logits, pool, act);
  }
  return OkStatus();
}

}  // namespace cmln::engine
