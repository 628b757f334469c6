// Byte-level BPE on a tiny vocabulary: merge order, the pre-tokenizer's word boundaries, special
// tokens, byte coverage. Agreement with llama.cpp on the real vocabulary is llama_cpp_vectors_test.
#include "engine/tokenizer.h"

#include <gtest/gtest.h>

#include "engine/gguf_writer.h"

namespace cmln::engine {
namespace {

class TinyTokenizer : public ::testing::Test {
 protected:
  void SetUp() override {
    file_ = testing::BuildTinyModel(testing::TinyModelSpec());
    auto f = GgufFile::Parse(file_);
    ASSERT_TRUE(f.ok()) << f.error().ToString();
    auto t = Tokenizer::FromGguf(*f);
    ASSERT_TRUE(t.ok()) << t.error().ToString();
    tok_ = std::make_unique<Tokenizer>(std::move(*t));
  }
  std::vector<std::string> Texts(const std::vector<TokenId>& ids) {
    std::vector<std::string> out;
    for (TokenId id : ids) out.push_back(tok_->TokenText(id));
    return out;
  }
  Bytes file_;
  std::unique_ptr<Tokenizer> tok_;
};

TEST_F(TinyTokenizer, MergesApplyInRankOrder) {
  // "hello" -> h e l l o -> (he) l l o -> he (ll) o -> (hell) o -> (hello)
  EXPECT_EQ(Texts(tok_->Encode("hello", false)), (std::vector<std::string>{"hello"}));
  // " world": Ġ w o r l d -> Ġw, or, Ġwor, ld, Ġworld
  EXPECT_EQ(Texts(tok_->Encode("hello world", false)), (std::vector<std::string>{"hello", "\xC4\xA0world"}));
  // Without the merge for "he"+"l": "hel" stays split.
  EXPECT_EQ(Texts(tok_->Encode("help", false)), (std::vector<std::string>{"he", "l", "p"}));
}

TEST_F(TinyTokenizer, PreTokenizerSplitsDigitsAndKeepsWordsApart) {
  // Each digit alone (smollm); "the" never merges across the word boundary of "in".
  EXPECT_EQ(Texts(tok_->Encode("in123", false)), (std::vector<std::string>{"in", "1", "2", "3"}));
  EXPECT_EQ(Texts(tok_->Encode(" the", false)), (std::vector<std::string>{"\xC4\xA0the"}));
  // Whitespace runs: all but the last space stay together before a word.
  EXPECT_EQ(Texts(tok_->Encode("a   the", false)),
            (std::vector<std::string>{"a", "\xC4\xA0\xC4\xA0", "\xC4\xA0the"}));
  // Contractions split off.
  EXPECT_EQ(Texts(tok_->Encode("it's", false)), (std::vector<std::string>{"i", "t", "'", "s"}));
}

TEST_F(TinyTokenizer, SpecialTokensOnlyWhenParsingSpecial) {
  const std::string text = "<|im_start|>hello<|im_end|>";
  const std::vector<TokenId> special = tok_->Encode(text, true);
  ASSERT_EQ(special.size(), 3u);
  EXPECT_EQ(special[0], 1);
  EXPECT_EQ(tok_->TokenText(special[1]), "hello");
  EXPECT_EQ(special[2], 2);
  const std::vector<TokenId> plain = tok_->Encode(text, false);
  EXPECT_GT(plain.size(), 3u);
  for (TokenId id : plain) EXPECT_GT(id, 2);
  EXPECT_EQ(tok_->Decode(plain), text);
}

TEST_F(TinyTokenizer, EveryByteStringRoundTrips) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  for (const std::string& s : {std::string("héllo wörld ✓ 😀"), std::string("\t\n \r\n"), all, std::string()}) {
    const std::vector<TokenId> ids = tok_->Encode(s, false);
    // Invalid UTF-8 becomes U+FFFD as in llama.cpp, so only valid text round-trips byte for byte.
    if (s == all) {
      EXPECT_FALSE(ids.empty());
      continue;
    }
    EXPECT_EQ(tok_->Decode(ids), s);
  }
}

TEST_F(TinyTokenizer, ControlTokensRenderOnlyOnRequest) {
  EXPECT_EQ(tok_->Piece(2), "");
  EXPECT_EQ(tok_->Piece(2, true), "<|im_end|>");
  EXPECT_TRUE(tok_->IsEndOfGeneration(2));
  EXPECT_TRUE(tok_->IsEndOfGeneration(0));
  EXPECT_FALSE(tok_->IsEndOfGeneration(1));
}

TEST(Tokenizer, CompleteUtf8PrefixHoldsBackPartialCharacters) {
  EXPECT_EQ(CompleteUtf8Prefix("abc"), 3u);
  EXPECT_EQ(CompleteUtf8Prefix("ab\xC3"), 2u);
  EXPECT_EQ(CompleteUtf8Prefix("ab\xC3\xA9"), 4u);
  EXPECT_EQ(CompleteUtf8Prefix("\xF0\x9F\x98"), 0u);
  EXPECT_EQ(CompleteUtf8Prefix("\xF0\x9F\x98\x80"), 4u);
}

TEST(Tokenizer, RejectsUnsupportedOrInconsistentMetadata) {
  testing::GgufWriter w;
  w.KvString("tokenizer.ggml.model", "llama");
  auto f = GgufFile::Parse(w.Finish());
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(Tokenizer::FromGguf(*f).error().code(), ErrorCode::kUnsupported);

  testing::GgufWriter w2;
  w2.KvString("tokenizer.ggml.model", "gpt2");
  w2.KvStrings("tokenizer.ggml.tokens", {"a", "b"});
  w2.KvI32s("tokenizer.ggml.token_type", {1});
  w2.KvStrings("tokenizer.ggml.merges", {});
  auto f2 = GgufFile::Parse(w2.Finish());
  ASSERT_TRUE(f2.ok());
  EXPECT_EQ(Tokenizer::FromGguf(*f2).error().code(), ErrorCode::kMalformed);

  testing::GgufWriter w3;
  w3.KvString("tokenizer.ggml.model", "gpt2");
  w3.KvStrings("tokenizer.ggml.tokens", {"a", "b"});
  w3.KvStrings("tokenizer.ggml.merges", {"ab"});
  auto f3 = GgufFile::Parse(w3.Finish());
  ASSERT_TRUE(f3.ok());
  EXPECT_EQ(Tokenizer::FromGguf(*f3).error().code(), ErrorCode::kMalformed);

  testing::GgufWriter w4;
  w4.KvString("tokenizer.ggml.model", "gpt2");
  w4.KvString("tokenizer.ggml.pre", "no-such-pre-tokenizer");
  auto f4 = GgufFile::Parse(w4.Finish());
  ASSERT_TRUE(f4.ok());
  EXPECT_EQ(Tokenizer::FromGguf(*f4).error().code(), ErrorCode::kUnsupported);
}

}  // namespace
}  // namespace cmln::engine
