// The built-in engine on tiny GGUF models made by the test: the forward pass against a plain float
// implementation of the same network, and the engine contract (usage, sampling, stop sequences,
// streaming, cancellation, errors).
#include "engine/local_engine.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>

#include "engine/gguf_writer.h"
#include "engine/quant.h"

namespace cmln::engine {
namespace {

std::string WriteTemp(const Bytes& b, const std::string& name) {
  const std::string path = ::testing::TempDir() + "/" + name + "_" + std::to_string(::getpid()) + ".gguf";
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  return path;
}

std::unique_ptr<LocalEngine> LoadTiny(const testing::TinyModelSpec& spec, const std::string& name, size_t threads = 2) {
  LocalEngineOptions o;
  o.model_path = WriteTemp(testing::BuildTinyModel(spec), name);
  o.n_threads = threads;
  auto e = LocalEngine::Load(o);
  EXPECT_TRUE(e.ok()) << e.error().ToString();
  return e.ok() ? std::move(*e) : nullptr;
}

// The same network in plain floats (weights dequantized, no activation quantization, float KV).
std::vector<float> ReferenceLogits(const GgufFile& f, const std::vector<TokenId>& tokens) {
  const auto u = [&](const char* k) { return static_cast<size_t>(*f.GetUInt(k)); };
  const size_t L = u("llama.block_count"), d = u("llama.embedding_length"), ff = u("llama.feed_forward_length");
  const size_t nh = u("llama.attention.head_count"), nkv = u("llama.attention.head_count_kv");
  const size_t hd = d / nh, kvd = nkv * hd;
  const auto mat = [&](const std::string& name) {
    const GgufTensor* t = f.FindTensor(name);
    std::vector<float> m(t->n_elements);
    DequantizeRow(t->type, t->data.data(), m.data(), t->n_elements);
    return std::make_pair(m, static_cast<size_t>(t->dims[0]));
  };
  const auto matvec = [&](const std::pair<std::vector<float>, size_t>& m, const std::vector<float>& x) {
    const size_t cols = m.second, rows = m.first.size() / cols;
    std::vector<float> y(rows);
    for (size_t r = 0; r < rows; ++r) {
      double s = 0;
      for (size_t c = 0; c < cols; ++c) s += static_cast<double>(m.first[r * cols + c]) * x[c];
      y[r] = static_cast<float>(s);
    }
    return y;
  };
  const auto norm = [&](const std::vector<float>& x, const std::string& name) {
    auto w = mat(name);
    double ss = 0;
    for (float v : x) ss += static_cast<double>(v) * v;
    const double scale = 1.0 / std::sqrt(ss / static_cast<double>(x.size()) + 1e-5);
    std::vector<float> y(x.size());
    for (size_t i = 0; i < x.size(); ++i) y[i] = static_cast<float>(x[i] * scale * w.first[i]);
    return y;
  };
  const auto rope = [&](std::vector<float>& v, size_t heads, size_t pos) {
    for (size_t h = 0; h < heads; ++h) {
      for (size_t i = 0; i < hd; i += 2) {
        const double theta = static_cast<double>(pos) * std::pow(10000.0, -static_cast<double>(i) / static_cast<double>(hd));
        const double c = std::cos(theta), s = std::sin(theta);
        const double x0 = v[h * hd + i], x1 = v[h * hd + i + 1];
        v[h * hd + i] = static_cast<float>(x0 * c - x1 * s);
        v[h * hd + i + 1] = static_cast<float>(x0 * s + x1 * c);
      }
    }
  };
  auto embd = mat("token_embd.weight");
  std::vector<std::vector<std::vector<float>>> K(L), V(L);
  std::vector<float> x;
  for (size_t p = 0; p < tokens.size(); ++p) {
    x.assign(embd.first.begin() + static_cast<long>(tokens[p] * d), embd.first.begin() + static_cast<long>((tokens[p] + 1) * d));
    for (size_t l = 0; l < L; ++l) {
      const std::string b = "blk." + std::to_string(l) + ".";
      auto xn = norm(x, b + "attn_norm.weight");
      auto q = matvec(mat(b + "attn_q.weight"), xn), k = matvec(mat(b + "attn_k.weight"), xn);
      auto v = matvec(mat(b + "attn_v.weight"), xn);
      rope(q, nh, p);
      rope(k, nkv, p);
      K[l].push_back(k);
      V[l].push_back(v);
      std::vector<float> att(d, 0.0f);
      for (size_t h = 0; h < nh; ++h) {
        const size_t g = h / (nh / nkv);
        std::vector<double> s(p + 1);
        double mx = -1e300;
        for (size_t j = 0; j <= p; ++j) {
          double dot = 0;
          for (size_t i = 0; i < hd; ++i) dot += static_cast<double>(q[h * hd + i]) * K[l][j][g * hd + i];
          s[j] = dot / std::sqrt(static_cast<double>(hd));
          mx = std::max(mx, s[j]);
        }
        double sum = 0;
        for (auto& e : s) sum += (e = std::exp(e - mx));
        for (size_t i = 0; i < hd; ++i) {
          double acc = 0;
          for (size_t j = 0; j <= p; ++j) acc += s[j] / sum * V[l][j][g * hd + i];
          att[h * hd + i] = static_cast<float>(acc);
        }
      }
      auto o = matvec(mat(b + "attn_output.weight"), att);
      for (size_t i = 0; i < d; ++i) x[i] += o[i];
      xn = norm(x, b + "ffn_norm.weight");
      auto gt = matvec(mat(b + "ffn_gate.weight"), xn), up = matvec(mat(b + "ffn_up.weight"), xn);
      for (size_t i = 0; i < ff; ++i) gt[i] = static_cast<float>(gt[i] / (1.0 + std::exp(-static_cast<double>(gt[i]))) * up[i]);
      auto dn = matvec(mat(b + "ffn_down.weight"), gt);
      for (size_t i = 0; i < d; ++i) x[i] += dn[i];
    }
    (void)kvd;
  }
  auto xn = norm(x, "output_norm.weight");
  return matvec(f.FindTensor("output.weight") ? mat("output.weight") : embd, xn);
}

struct TypeCase {
  TensorType weights;
  TensorType embd;
  bool tied;
  double tolerance;  // relative to the largest |logit|
};

TEST(LocalEngine, ForwardPassMatchesPlainFloatReference) {
  for (const TypeCase& c : {TypeCase{TensorType::kF32, TensorType::kF32, true, 0.01},
                            TypeCase{TensorType::kF16, TensorType::kF16, false, 0.01},
                            TypeCase{TensorType::kQ8_0, TensorType::kQ8_0, true, 0.03},
                            TypeCase{TensorType::kQ4_0, TensorType::kQ8_0, false, 0.05},
                            TypeCase{TensorType::kQ4_1, TensorType::kQ8_0, true, 0.05}}) {
    testing::TinyModelSpec spec;
    spec.weight_type = c.weights;
    spec.embd_type = c.embd;
    spec.tied_output = c.tied;
    const Bytes bytes = testing::BuildTinyModel(spec);
    auto f = GgufFile::Parse(bytes);
    ASSERT_TRUE(f.ok()) << f.error().ToString();
    auto file_copy = GgufFile::Parse(bytes);
    auto model = LlamaModel::Load(std::move(*file_copy));
    ASSERT_TRUE(model.ok()) << model.error().ToString();
    const std::vector<TokenId> tokens = {1, 50, 120, 7, 200, 33, 90, 2, 150, 151};
    KvCache cache((*model)->hparams(), 64);
    ThreadPool pool(2);
    std::vector<float> logits;
    // Two forward calls (prefill of 7, then 3) must equal one reference over all 10.
    ASSERT_TRUE((*model)->Forward(std::span<const TokenId>(tokens.data(), 7), cache, pool, logits).ok());
    ASSERT_TRUE((*model)->Forward(std::span<const TokenId>(tokens.data() + 7, 3), cache, pool, logits).ok());
    EXPECT_EQ(cache.size(), 10u);
    const std::vector<float> want = ReferenceLogits(*f, tokens);
    ASSERT_EQ(logits.size(), want.size());
    float scale = 0;
    for (float v : want) scale = std::max(scale, std::fabs(v));
    ASSERT_GT(scale, 0.1f);
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_NEAR(logits[i], want[i], c.tolerance * scale) << TraitsOf(c.weights).name << " logit " << i;
    }
  }
}

// Multi-token batches use llama.cpp's batched attention kernel wherever the batch is split (the
// 64-token scratch limit, or a caller feeding a prompt in pieces); one-token batches use its one-token
// kernel, whose sums are ordered differently, so they agree closely but not bit for bit.
TEST(LocalEngine, BatchSplitsDoNotChangeTheResult) {
  testing::TinyModelSpec spec;
  spec.weight_type = TensorType::kQ4_1;
  spec.embd_type = TensorType::kQ8_0;
  const Bytes bytes = testing::BuildTinyModel(spec);
  auto model = LlamaModel::Load(*GgufFile::Parse(bytes));
  ASSERT_TRUE(model.ok());
  std::vector<TokenId> tokens;
  for (int i = 0; i < 100; ++i) tokens.push_back((i * 37) % 270);  // crosses the 64-token batch limit
  ThreadPool pool(2);
  KvCache a((*model)->hparams(), 128), b((*model)->hparams(), 128), c((*model)->hparams(), 128);
  std::vector<float> la, lb, lc;
  ASSERT_TRUE((*model)->Forward(tokens, a, pool, la).ok());
  const std::span<const TokenId> all(tokens);
  ASSERT_TRUE((*model)->Forward(all.subspan(0, 37), b, pool, lb).ok());
  ASSERT_TRUE((*model)->Forward(all.subspan(37), b, pool, lb).ok());
  EXPECT_EQ(la, lb);
  for (TokenId t : tokens) ASSERT_TRUE((*model)->Forward(std::span<const TokenId>(&t, 1), c, pool, lc).ok());
  ASSERT_EQ(la.size(), lc.size());
  float scale = 0, diff = 0;
  for (size_t i = 0; i < la.size(); ++i) {
    scale = std::max(scale, std::fabs(la[i]));
    diff = std::max(diff, std::fabs(la[i] - lc[i]));
  }
  EXPECT_LT(diff, 1e-3f * scale);
}

TEST(LocalEngine, ForwardRejectsOverflowAndBadTokens) {
  auto model = LlamaModel::Load(*GgufFile::Parse(testing::BuildTinyModel(testing::TinyModelSpec())));
  ASSERT_TRUE(model.ok());
  ThreadPool pool(1);
  KvCache cache((*model)->hparams(), 4);
  std::vector<float> logits;
  const std::vector<TokenId> five = {1, 2, 3, 4, 5};
  EXPECT_EQ((*model)->Forward(five, cache, pool, logits).error().code(), ErrorCode::kLengthTooLarge);
  EXPECT_EQ(cache.size(), 0u);
  const std::vector<TokenId> bad = {100000};
  EXPECT_EQ((*model)->Forward(bad, cache, pool, logits).error().code(), ErrorCode::kInvalidArgument);
  const std::vector<TokenId> neg = {-1};
  EXPECT_EQ((*model)->Forward(neg, cache, pool, logits).error().code(), ErrorCode::kInvalidArgument);
}

TEST(LocalEngine, LoadRejectsMisshapenModels) {
  testing::TinyModelSpec spec;
  Bytes bytes = testing::BuildTinyModel(spec);
  {  // a missing tensor
    testing::GgufWriter w;
    w.KvString("general.architecture", "llama");
    w.KvU32("llama.block_count", 1);
    w.KvU32("llama.context_length", 16);
    w.KvU32("llama.embedding_length", 32);
    w.KvU32("llama.feed_forward_length", 32);
    w.KvU32("llama.attention.head_count", 2);
    w.Tensor("token_embd.weight", {32, 10}, TensorType::kF32, Bytes(32 * 10 * 4));
    auto m = LlamaModel::Load(*GgufFile::Parse(w.Finish()));
    EXPECT_EQ(m.error().code(), ErrorCode::kMalformed);
  }
  {  // another architecture
    testing::GgufWriter w;
    w.KvString("general.architecture", "gpt2");
    auto m = LlamaModel::Load(*GgufFile::Parse(w.Finish()));
    EXPECT_EQ(m.error().code(), ErrorCode::kUnsupported);
  }
  {  // heads that do not divide the width
    testing::GgufWriter w;
    w.KvString("general.architecture", "llama");
    w.KvU32("llama.block_count", 1);
    w.KvU32("llama.context_length", 16);
    w.KvU32("llama.embedding_length", 30);
    w.KvU32("llama.feed_forward_length", 32);
    w.KvU32("llama.attention.head_count", 4);
    auto m = LlamaModel::Load(*GgufFile::Parse(w.Finish()));
    EXPECT_EQ(m.error().code(), ErrorCode::kMalformed);
  }
}

class TinyEngine : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::TinyModelSpec spec;
    spec.weight_type = TensorType::kQ4_1;
    spec.embd_type = TensorType::kQ8_0;
    engine_ = LoadTiny(spec, "tiny_engine");
    ASSERT_NE(engine_, nullptr);
  }
  CompletionRequest Greedy(uint32_t max_tokens) {
    CompletionRequest r;
    r.messages = {{"user", "hello world"}};
    r.temperature = 0;
    r.max_tokens = max_tokens;
    return r;
  }
  std::unique_ptr<LocalEngine> engine_;
};

TEST_F(TinyEngine, UsageCountsPromptAndGeneratedTokens) {
  auto c = engine_->Complete(Greedy(12));
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  const std::vector<TokenId> prompt = engine_->PromptTokens({{"user", "hello world"}});
  EXPECT_EQ(c->usage.prompt_tokens, prompt.size());
  EXPECT_EQ(engine_->tokenizer().Decode(prompt, true),
            "<|im_start|>system\nYou are tiny.<|im_end|>\n<|im_start|>user\nhello world<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(c->usage.completion_tokens, c->token_ids.size());
  EXPECT_GE(c->usage.completion_tokens, 1u);
  EXPECT_LE(c->usage.completion_tokens, 12u);
  if (c->finish_reason == FinishReason::kLength) {
    EXPECT_EQ(c->usage.completion_tokens, 12u);
  }
  EXPECT_EQ(*engine_->CountTokens("hello world"), 2u);
  EXPECT_EQ(*engine_->CountTokens("<|im_start|>"), engine_->tokenizer().Encode("<|im_start|>", false).size());
}

TEST_F(TinyEngine, GreedyIsDeterministicAndMatchesTheLowLevelPath) {
  auto a = engine_->Complete(Greedy(16));
  auto b = engine_->Complete(Greedy(16));  // second run reuses the cached prompt prefix
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->token_ids, b->token_ids);
  auto low = engine_->GreedyTokens(engine_->PromptTokens({{"user", "hello world"}}), 16);
  ASSERT_TRUE(low.ok());
  EXPECT_EQ(*low, a->token_ids);
}

TEST_F(TinyEngine, SeedMakesSamplingReproducible) {
  CompletionRequest r = Greedy(24);
  r.temperature = 1.5;
  r.top_p = 0.95;
  r.seed = 1234;
  auto a = engine_->Complete(r);
  auto b = engine_->Complete(r);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->token_ids, b->token_ids);
  bool any_differs = false;
  for (uint64_t seed = 1; seed < 6 && !any_differs; ++seed) {
    r.seed = seed;
    auto c = engine_->Complete(r);
    ASSERT_TRUE(c.ok());
    any_differs = c->token_ids != a->token_ids;
  }
  EXPECT_TRUE(any_differs);
}

TEST_F(TinyEngine, TinyTopPIsGreedy) {
  CompletionRequest r = Greedy(10);
  auto greedy = engine_->Complete(r);
  r.temperature = 1.0;
  r.top_p = 1e-9;
  r.seed = 99;
  auto nucleus = engine_->Complete(r);
  ASSERT_TRUE(greedy.ok() && nucleus.ok());
  EXPECT_EQ(greedy->token_ids, nucleus->token_ids);
}

TEST_F(TinyEngine, StreamingDeliversExactlyTheText) {
  CompletionRequest r = Greedy(30);
  std::string streamed;
  int calls = 0;
  r.on_text = [&](std::string_view d) {
    streamed.append(d);
    ++calls;
    return true;
  };
  auto c = engine_->Complete(r);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(streamed, c->text);
  EXPECT_GE(calls, 1);
}

TEST_F(TinyEngine, StopSequenceCutsTheTextAndEndsGeneration) {
  auto full = engine_->Complete(Greedy(40));
  ASSERT_TRUE(full.ok());
  ASSERT_GE(full->text.size(), 6u) << "tiny model produced too little text for this test";
  const std::string stop = full->text.substr(3, 2);
  const size_t cut = full->text.find(stop);
  CompletionRequest r = Greedy(40);
  r.stop = {"never-appears", stop};
  std::string streamed;
  r.on_text = [&](std::string_view d) {
    streamed.append(d);
    return true;
  };
  auto c = engine_->Complete(r);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->finish_reason, FinishReason::kStop);
  EXPECT_EQ(c->text, full->text.substr(0, cut));
  EXPECT_EQ(streamed, c->text);
  EXPECT_LT(c->usage.completion_tokens, full->usage.completion_tokens + 1);
}

TEST_F(TinyEngine, CancellationStopsGeneration) {
  CompletionRequest r = Greedy(30);
  std::atomic<bool> cancel{true};
  r.cancel = &cancel;
  auto c = engine_->Complete(r);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->finish_reason, FinishReason::kCancelled);
  EXPECT_EQ(c->usage.completion_tokens, 0u);
  EXPECT_GT(c->usage.prompt_tokens, 0u);

  CompletionRequest r2 = Greedy(30);
  int pieces = 0;
  r2.on_text = [&](std::string_view) { return ++pieces < 2; };
  auto c2 = engine_->Complete(r2);
  ASSERT_TRUE(c2.ok());
  if (pieces >= 2) {
    EXPECT_EQ(c2->finish_reason, FinishReason::kCancelled);
    EXPECT_LT(c2->usage.completion_tokens, 30u);
  }
}

TEST_F(TinyEngine, RejectsBadRequests) {
  CompletionRequest r = Greedy(5);
  r.messages.clear();
  EXPECT_EQ(engine_->Complete(r).error().code(), ErrorCode::kInvalidArgument);
  r = Greedy(5);
  r.top_p = 0;
  EXPECT_EQ(engine_->Complete(r).error().code(), ErrorCode::kInvalidArgument);
  r = Greedy(5);
  r.temperature = -1;
  EXPECT_EQ(engine_->Complete(r).error().code(), ErrorCode::kInvalidArgument);
  r = Greedy(5);
  r.messages[0].content = std::string(400, 'x');  // the tiny model's context is 256 tokens
  EXPECT_EQ(engine_->Complete(r).error().code(), ErrorCode::kInvalidArgument);
  // The engine still works afterwards.
  EXPECT_TRUE(engine_->Complete(Greedy(3)).ok());
}

// The KV cache reused between requests holds only what a fresh evaluation would compute bit for bit,
// so a request's tokens do not depend on the requests before it (here: a follow-up that contains the
// previous answer, whose cache entries came from one-token decode steps, and a one-token remainder).
TEST_F(TinyEngine, OutputDoesNotDependOnEarlierRequests) {
  CompletionRequest first = Greedy(10);
  auto a = engine_->Complete(first);
  ASSERT_TRUE(a.ok());
  CompletionRequest follow = Greedy(10);
  follow.messages = {{"user", "hello world"}, {"assistant", a->text}, {"user", "in the world"}};
  auto warm = engine_->Complete(follow);
  ASSERT_TRUE(warm.ok());
  auto again = engine_->Complete(first);  // shares the system prompt and first turn with `follow`
  ASSERT_TRUE(again.ok());
  testing::TinyModelSpec spec;
  spec.weight_type = TensorType::kQ4_1;
  spec.embd_type = TensorType::kQ8_0;
  auto fresh_engine = LoadTiny(spec, "tiny_engine_fresh");
  ASSERT_NE(fresh_engine, nullptr);
  auto fresh = fresh_engine->Complete(follow);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(warm->token_ids, fresh->token_ids);
  EXPECT_EQ(again->token_ids, a->token_ids);
}

TEST_F(TinyEngine, MaxTokensIsHonoured) {
  auto c = engine_->Complete(Greedy(1));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->usage.completion_tokens, 1u);
}

TEST(LocalEngineLoad, DigestIsTheSha256OfTheFile) {
  const Bytes bytes = testing::BuildTinyModel(testing::TinyModelSpec());
  LocalEngineOptions o;
  o.model_path = WriteTemp(bytes, "digest");
  auto e = LocalEngine::Load(o);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(*(*e)->ModelDigest(), seal::Sha256(bytes));
  EXPECT_EQ((*e)->model_name(), "tiny-test");
  o.model_path = "/nonexistent.gguf";
  EXPECT_EQ(LocalEngine::Load(o).error().code(), ErrorCode::kIoError);
}

TEST(LocalEngineLoad, ScalarKernelsGiveTheSameTokens) {
  testing::TinyModelSpec spec;
  spec.weight_type = TensorType::kQ4_1;
  spec.embd_type = TensorType::kQ8_0;
  auto e = LoadTiny(spec, "scalar");
  ASSERT_NE(e, nullptr);
  const std::vector<TokenId> prompt = e->PromptTokens({{"user", "the world"}});
  auto fast = e->GreedyTokens(prompt, 20);
  SetUseAvx2ForTesting(false);
  auto slow = e->GreedyTokens(prompt, 20);
  SetUseAvx2ForTesting(true);
  ASSERT_TRUE(fast.ok() && slow.ok());
  EXPECT_EQ(*fast, *slow);
}

}  // namespace
}  // namespace cmln::engine
