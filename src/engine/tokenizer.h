// GPT-2 style byte-level BPE tokenizer built from a GGUF file's tokenizer.ggml.* metadata, with the
// pre-tokenizer and special-token handling of llama.cpp (so token counts match it exactly).
//
// Encoding, in llama.cpp's order:
//   1. Special tokens (types CONTROL, USER_DEFINED, UNKNOWN; longest text first) are cut out of the
//      text as whole tokens. With parse_special == false only USER_DEFINED tokens are matched, so
//      user-supplied "<|im_start|>" is tokenized as ordinary text.
//   2. Each remaining fragment is decoded as UTF-8 (an invalid byte becomes U+FFFD) and split into
//      words: the "smollm"/"starcoder" pre-tokenizer first isolates every \p{N} code point, then the
//      GPT-2 pattern 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ applies.
//   3. Each word's bytes are mapped to printable code points (GPT-2's bytes_to_unicode) and merged
//      pairwise by merge rank (lowest first, leftmost on ties) until no ranked pair remains.
// Thread safety: immutable after construction; all methods are const and thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "engine/gguf.h"

namespace cmln::engine {

using TokenId = int32_t;

class Tokenizer {
 public:
  // GGUF token types (tokenizer.ggml.token_type).
  enum TokenType : int32_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

  // kUnsupported unless tokenizer.ggml.model is "gpt2" with a known pre-tokenizer; kMalformed when the
  // arrays disagree in length or a merge is not "left right"; kNotFound for missing keys.
  static Result<Tokenizer> FromGguf(const GgufFile& file);

  // Token ids of `text` (no BOS is added; see add_bos()).
  std::vector<TokenId> Encode(std::string_view text, bool parse_special) const;

  // The bytes a token stands for. Control tokens render as "" unless render_special.
  std::string Piece(TokenId id, bool render_special = false) const;
  std::string Decode(std::span<const TokenId> ids, bool render_special = false) const;

  size_t vocab_size() const { return tokens_.size(); }
  const std::string& TokenText(TokenId id) const { return tokens_[static_cast<size_t>(id)]; }
  std::optional<TokenId> Find(std::string_view token_text) const;
  TokenId bos() const { return bos_; }
  TokenId eos() const { return eos_; }
  bool add_bos() const { return add_bos_; }
  // End of generation: EOS plus the end-of-turn control tokens llama.cpp treats as such.
  bool IsEndOfGeneration(TokenId id) const;

 private:
  void SplitWords(std::string_view fragment, std::vector<std::string>& words) const;
  void BytePairEncode(const std::string& word, std::vector<TokenId>& out) const;

  std::vector<std::string> tokens_;
  std::vector<int32_t> types_;
  std::unordered_map<std::string, TokenId> token_ids_;
  std::unordered_map<std::string, int32_t> merge_ranks_;  // key "left right"
  std::vector<TokenId> special_;                          // longest text first
  std::vector<TokenId> end_of_generation_;
  bool split_digits_ = false;
  bool add_bos_ = false;
  TokenId bos_ = -1;
  TokenId eos_ = -1;
};

// GPT-2 bytes_to_unicode: the code point standing for byte b in vocabulary strings.
uint32_t ByteToCodepoint(uint8_t b);
// Appends the UTF-8 encoding of cp.
void AppendUtf8(uint32_t cp, std::string& out);
// Number of leading bytes of `s` that form complete UTF-8 sequences (for streaming text out).
size_t CompleteUtf8Prefix(std::string_view s);

}  // namespace cmln::engine
