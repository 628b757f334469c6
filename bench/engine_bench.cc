// SmolLM2-135M-Instruct on the built-in engine: prompt processing (prefill) and greedy decode, each
// reported as real time per token (manual timing). bench/run.py runs llama.cpp on the same prompt and
// threads beside it. Environment: CMLN_ENGINE_MODEL (default models/SmolLM2-135M-Instruct.Q4_1.gguf),
// CMLN_ENGINE_PROMPT (the user message), CMLN_ENGINE_THREADS (default 2).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>

#include "engine/local_engine.h"

namespace {

using cmln::engine::LocalEngine;
using cmln::engine::TokenId;

constexpr int kDecodeTokens = 64;

std::string Env(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

LocalEngine* Engine() {
  static std::unique_ptr<LocalEngine> engine = [] {
    cmln::engine::LocalEngineOptions o;
    o.model_path = Env("CMLN_ENGINE_MODEL", "models/SmolLM2-135M-Instruct.Q4_1.gguf");
    o.n_threads = static_cast<size_t>(std::stoul(Env("CMLN_ENGINE_THREADS", "2")));
    auto e = LocalEngine::Load(o);
    if (!e.ok()) {
      std::fprintf(stderr, "engine_bench: %s\n", e.error().ToString().c_str());
      std::exit(1);
    }
    return std::move(*e);
  }();
  return engine.get();
}

std::vector<TokenId> Prompt() {
  const std::string msg = Env("CMLN_ENGINE_PROMPT", "Explain how a transformer language model generates text.");
  return Engine()->PromptTokens({{"user", msg}});
}

void BM_Prefill(benchmark::State& state) {
  const std::vector<TokenId> prompt = Prompt();
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    if (!Engine()->Prefill(prompt).ok()) state.SkipWithError("prefill failed");
    const auto t1 = std::chrono::steady_clock::now();
    state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count() / static_cast<double>(prompt.size()));
  }
  state.counters["prompt_tokens"] = static_cast<double>(prompt.size());
}
BENCHMARK(BM_Prefill)->UseManualTime()->Unit(benchmark::kMicrosecond)->Iterations(3);

void BM_Decode(benchmark::State& state) {
  const std::vector<TokenId> prompt = Prompt();
  for (auto _ : state) {
    if (!Engine()->Prefill(prompt).ok()) state.SkipWithError("prefill failed");
    TokenId tok = prompt.back();
    auto next = Engine()->DecodeGreedy(tok);  // one untimed step (re-feeds the last prompt token)
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kDecodeTokens && next.ok(); ++i) next = Engine()->DecodeGreedy(*next);
    const auto t1 = std::chrono::steady_clock::now();
    if (!next.ok()) state.SkipWithError("decode failed");
    state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count() / kDecodeTokens);
  }
}
BENCHMARK(BM_Decode)->UseManualTime()->Unit(benchmark::kMicrosecond)->Iterations(2);

}  // namespace

BENCHMARK_MAIN();
