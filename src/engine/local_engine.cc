#include "engine/local_engine.h"

#include <algorithm>
#include <cmath>

namespace cmln::engine {

TokenId ArgMax(const std::vector<float>& logits) {
  size_t best = 0;
  for (size_t i = 1; i < logits.size(); ++i) {
    if (logits[i] > logits[best]) best = i;
  }
  return static_cast<TokenId>(best);
}

LocalEngine::LocalEngine(std::unique_ptr<LlamaModel> model, Tokenizer tok, ChatTemplate tmpl, uint32_t n_ctx,
                         size_t threads)
    : model_(std::move(model)),
      tokenizer_(std::move(tok)),
      template_(std::move(tmpl)),
      pool_(threads),
      cache_(model_->hparams(), n_ctx) {}

Result<std::unique_ptr<LocalEngine>> LocalEngine::Load(const LocalEngineOptions& options) {
  if (options.model_path.empty()) return Error(ErrorCode::kInvalidArgument, "LocalEngine: no model path");
  CMLN_ASSIGN_OR_RETURN(GgufFile file, GgufFile::Open(options.model_path));
  CMLN_ASSIGN_OR_RETURN(Tokenizer tok, Tokenizer::FromGguf(file));
  ChatTemplate tmpl = ChatTemplate::ChatMl();
  if (file.Find("tokenizer.chat_template") != nullptr) {
    CMLN_ASSIGN_OR_RETURN(tmpl, ChatTemplate::FromGguf(file));
  }
  std::string name = options.model_name;
  if (name.empty() && file.Find("general.name") != nullptr) {
    CMLN_ASSIGN_OR_RETURN(name, file.GetString("general.name"));
  }
  if (name.empty()) name = options.model_path.substr(options.model_path.find_last_of('/') + 1);
  CMLN_ASSIGN_OR_RETURN(std::unique_ptr<LlamaModel> model, LlamaModel::Load(std::move(file)));
  if (tok.vocab_size() != model->hparams().n_vocab) {
    return Error(ErrorCode::kMalformed, "tokenizer has " + std::to_string(tok.vocab_size()) + " tokens, model " +
                                            std::to_string(model->hparams().n_vocab));
  }
  if (options.n_ctx == 0) return Error(ErrorCode::kInvalidArgument, "LocalEngine: n_ctx 0");
  const uint32_t n_ctx = std::min(options.n_ctx, model->hparams().n_ctx_train);
  CMLN_ASSIGN_OR_RETURN(seal::Digest32 digest, Sha256File(options.model_path));
  std::unique_ptr<LocalEngine> e(new LocalEngine(std::move(model), std::move(tok), std::move(tmpl), n_ctx, options.n_threads));
  e->name_ = name;
  e->digest_ = digest;
  return e;
}

Result<uint32_t> LocalEngine::CountTokens(std::string_view text) {
  return static_cast<uint32_t>(tokenizer_.Encode(text, /*parse_special=*/false).size());
}

std::vector<TokenId> LocalEngine::PromptTokens(const std::vector<ChatMessage>& messages) const {
  return tokenizer_.Encode(template_.Apply(messages), /*parse_special=*/true);
}

Status LocalEngine::EvalPrompt(const std::vector<TokenId>& prompt) {
  if (prompt.empty()) return Error(ErrorCode::kInvalidArgument, "empty prompt");
  // Reuse the longest common prefix whose cache entries a fresh evaluation of `prompt` would have
  // computed bit for bit: entries of earlier prompt batches, not of one-token decode steps (llama.cpp's
  // one-token attention kernel orders its sums differently), and leave a remainder whose micro-batches
  // are one-token exactly where the fresh evaluation's are. At least the last prompt token is always
  // evaluated so the logits after the prompt are fresh. So a request's output does not depend on
  // what the engine ran before.
  const size_t n = prompt.size();
  size_t common = 0;
  const size_t reusable = std::min(cached_tokens_.size(), batched_prefix_);
  while (common < reusable && common < n && cached_tokens_[common] == prompt[common]) ++common;
  if (n == 1 || n % kLlamaUbatch == 1) common = 0;  // the fresh evaluation ends in a one-token micro-batch
  if (common == n) --common;
  if (common > 0 && (n - common) % kLlamaUbatch == 1) --common;  // a one-token remainder micro-batch
  cache_.Truncate(static_cast<uint32_t>(common));
  batched_prefix_ = 0;
  cached_tokens_.resize(common);
  std::span<const TokenId> rest(prompt.data() + common, prompt.size() - common);
  Status s = model_->Forward(rest, cache_, pool_, logits_);
  if (!s.ok()) {
    cache_.Truncate(0);
    cached_tokens_.clear();
    return s;
  }
  cached_tokens_ = prompt;
  batched_prefix_ = n % kLlamaUbatch == 1 ? n - 1 : n;  // a last one-token micro-batch is not reusable
  return OkStatus();
}

TokenId LocalEngine::Sample(double temperature, double top_p, std::mt19937_64& rng) {
  if (temperature <= 0.0) return ArgMax(logits_);
  candidates_.clear();
  float mx = -INFINITY;
  for (float l : logits_) mx = std::max(mx, l);
  for (size_t i = 0; i < logits_.size(); ++i) {
    candidates_.emplace_back(static_cast<float>(std::exp((logits_[i] - mx) / temperature)), static_cast<TokenId>(i));
  }
  std::sort(candidates_.begin(), candidates_.end(),
            [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
  double total = 0;
  for (const auto& c : candidates_) total += c.first;
  size_t keep = candidates_.size();
  if (top_p < 1.0) {
    double cum = 0;
    for (size_t i = 0; i < candidates_.size(); ++i) {
      cum += candidates_[i].first / total;
      if (cum >= top_p) {
        keep = i + 1;
        break;
      }
    }
  }
  double kept = 0;
  for (size_t i = 0; i < keep; ++i) kept += candidates_[i].first;
  // A uniform double in [0, 1) from the top 53 bits, identical on every platform.
  const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53 * kept;
  double acc = 0;
  for (size_t i = 0; i < keep; ++i) {
    acc += candidates_[i].first;
    if (u < acc) return candidates_[i].second;
  }
  return candidates_[keep - 1].second;
}

Result<Completion> LocalEngine::Complete(const CompletionRequest& request) {
  if (request.messages.empty()) return Error(ErrorCode::kInvalidArgument, "completion: no messages");
  if (!(request.temperature >= 0.0) || !(request.top_p > 0.0 && request.top_p <= 1.0)) {
    return Error(ErrorCode::kInvalidArgument, "completion: temperature must be >= 0 and top_p in (0, 1]");
  }
  std::lock_guard<std::mutex> lock(mu_);
  const std::vector<TokenId> prompt = PromptTokens(request.messages);
  if (prompt.size() >= cache_.capacity()) {
    return Error(ErrorCode::kInvalidArgument, "completion: prompt of " + std::to_string(prompt.size()) +
                                                  " tokens does not fit the context of " +
                                                  std::to_string(cache_.capacity()));
  }
  Completion out;
  out.usage.prompt_tokens = static_cast<uint32_t>(prompt.size());
  CMLN_TRY(EvalPrompt(prompt));

  std::mt19937_64 rng(request.seed.has_value() ? *request.seed : std::random_device{}());
  StopScanner scanner(request.stop);
  std::string ready;
  out.finish_reason = FinishReason::kLength;
  const uint32_t room = cache_.capacity() - static_cast<uint32_t>(prompt.size());
  const uint32_t limit = std::min(request.max_tokens, room);
  bool cancelled = false;
  for (uint32_t i = 0; i < limit; ++i) {
    if (request.cancel != nullptr && request.cancel->load()) {
      cancelled = true;
      break;
    }
    const TokenId next = Sample(request.temperature, request.top_p, rng);
    out.token_ids.push_back(next);
    ++out.usage.completion_tokens;
    if (tokenizer_.IsEndOfGeneration(next)) {
      out.finish_reason = FinishReason::kStop;
      break;
    }
    const bool stopped = scanner.Add(tokenizer_.Piece(next), &ready);
    if (!ready.empty() && request.on_text && !request.on_text(ready)) {
      cancelled = true;
      break;
    }
    if (stopped) {
      out.finish_reason = FinishReason::kStop;
      break;
    }
    if (i + 1 == limit) break;  // no need to evaluate a token nobody will sample after
    const TokenId one[1] = {next};
    Status s = model_->Forward(std::span<const TokenId>(one, 1), cache_, pool_, logits_);
    if (!s.ok()) {
      cache_.Truncate(0);
      cached_tokens_.clear();
      return s.error();
    }
    cached_tokens_.push_back(next);
  }
  if (cancelled) out.finish_reason = FinishReason::kCancelled;
  const std::string rest = scanner.Flush();
  if (!cancelled && !rest.empty() && request.on_text) request.on_text(rest);
  out.text = scanner.text();
  return out;
}

Result<std::vector<TokenId>> LocalEngine::GreedyTokens(const std::vector<TokenId>& prompt, uint32_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  if (prompt.empty()) return Error(ErrorCode::kInvalidArgument, "GreedyTokens: empty prompt");
  cache_.Truncate(0);
  cached_tokens_.clear();
  CMLN_TRY(EvalPrompt(prompt));
  std::vector<TokenId> out;
  for (uint32_t i = 0; i < n; ++i) {
    const TokenId next = ArgMax(logits_);
    out.push_back(next);
    if (tokenizer_.IsEndOfGeneration(next) || i + 1 == n) break;
    const TokenId one[1] = {next};
    CMLN_TRY(model_->Forward(std::span<const TokenId>(one, 1), cache_, pool_, logits_));
    cached_tokens_.push_back(next);
  }
  return out;
}

Status LocalEngine::Prefill(const std::vector<TokenId>& tokens) {
  std::lock_guard<std::mutex> lock(mu_);
  cache_.Truncate(0);
  cached_tokens_.clear();
  return EvalPrompt(tokens);
}

Result<TokenId> LocalEngine::DecodeGreedy(TokenId token) {
  std::lock_guard<std::mutex> lock(mu_);
  const TokenId one[1] = {token};
  CMLN_TRY(model_->Forward(std::span<const TokenId>(one, 1), cache_, pool_, logits_));
  cached_tokens_.push_back(token);
  return ArgMax(logits_);
}

}  // namespace cmln::engine
