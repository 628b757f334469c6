#include "engine/tokenizer.h"

#include <algorithm>
#include <array>
#include <queue>

#include "engine/unicode_data.h"

namespace cmln::engine {

namespace {

constexpr uint32_t kReplacementChar = 0xFFFD;
constexpr uint32_t kOutOfRange = 0xFFFFFFFF;

bool InRanges(const CodepointRange* ranges, size_t count, uint32_t cp) {
  const CodepointRange* end = ranges + count;
  const CodepointRange* it =
      std::upper_bound(ranges, end, cp, [](uint32_t v, const CodepointRange& r) { return v < r.first; });
  if (it == ranges) return false;
  --it;
  return cp <= it->last;
}

bool IsLetter(uint32_t cp) {
  if (cp < 0x80) return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
  return InRanges(kLetterRanges, kLetterRangeCount, cp);
}
bool IsNumber(uint32_t cp) {
  if (cp < 0x80) return cp >= '0' && cp <= '9';
  return InRanges(kNumberRanges, kNumberRangeCount, cp);
}
// llama.cpp's whitespace set (Unicode White_Space).
bool IsWhitespace(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
         cp == 0x3000;
}

// Lenient UTF-8 decoding as llama.cpp does it: a malformed sequence yields U+FFFD and skips one byte.
std::vector<uint32_t> DecodeUtf8(std::string_view s) {
  std::vector<uint32_t> out;
  out.reserve(s.size());
  size_t i = 0;
  const auto cont = [&](size_t k) { return i + k < s.size() && (static_cast<uint8_t>(s[i + k]) & 0xC0) == 0x80; };
  while (i < s.size()) {
    const uint8_t b = static_cast<uint8_t>(s[i]);
    if (b < 0x80) {
      out.push_back(b);
      i += 1;
    } else if ((b & 0xE0) == 0xC0 && cont(1)) {
      out.push_back(((b & 0x1Fu) << 6) | (static_cast<uint8_t>(s[i + 1]) & 0x3Fu));
      i += 2;
    } else if ((b & 0xF0) == 0xE0 && cont(1) && cont(2)) {
      out.push_back(((b & 0x0Fu) << 12) | ((static_cast<uint8_t>(s[i + 1]) & 0x3Fu) << 6) |
                    (static_cast<uint8_t>(s[i + 2]) & 0x3Fu));
      i += 3;
    } else if ((b & 0xF8) == 0xF0 && cont(1) && cont(2) && cont(3)) {
      out.push_back(((b & 0x07u) << 18) | ((static_cast<uint8_t>(s[i + 1]) & 0x3Fu) << 12) |
                    ((static_cast<uint8_t>(s[i + 2]) & 0x3Fu) << 6) | (static_cast<uint8_t>(s[i + 3]) & 0x3Fu));
      i += 4;
    } else {
      out.push_back(kReplacementChar);
      i += 1;
    }
  }
  return out;
}

size_t Utf8Length(uint8_t lead) {
  static constexpr std::array<size_t, 16> kLen = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLen[lead >> 4];
}

// The GPT-2 pre-tokenizer pattern over cps[begin, end), as llama.cpp's hand-written matcher applies it.
void SplitGpt2(const std::vector<uint32_t>& cps, size_t begin, size_t end, std::vector<std::pair<size_t, size_t>>& out) {
  const auto cpt = [&](size_t p) { return p < end ? cps[p] : kOutOfRange; };
  const auto letter = [&](size_t p) { return p < end && IsLetter(cps[p]); };
  const auto number = [&](size_t p) { return p < end && IsNumber(cps[p]); };
  const auto space = [&](size_t p) { return p < end && IsWhitespace(cps[p]); };
  size_t start = begin;
  size_t pos = begin;
  const auto emit = [&](size_t to) {
    if (to > start) out.emplace_back(start, to);
    start = to;
    pos = to;
  };
  while (pos < end) {
    const uint32_t c = cps[pos];
    if (c == '\'' && pos + 1 < end) {
      const uint32_t n1 = cpt(pos + 1);
      if (n1 == 's' || n1 == 't' || n1 == 'm' || n1 == 'd') {
        emit(pos + 2);
        continue;
      }
      if (pos + 2 < end) {
        const uint32_t n2 = cpt(pos + 2);
        if ((n1 == 'r' && n2 == 'e') || (n1 == 'v' && n2 == 'e') || (n1 == 'l' && n2 == 'l')) {
          emit(pos + 3);
          continue;
        }
      }
    }
    const size_t p2 = c == ' ' ? pos + 1 : pos;  // the optional leading space
    if (letter(p2)) {
      size_t p = p2;
      while (letter(p)) ++p;
      emit(p);
      continue;
    }
    if (number(p2)) {
      size_t p = p2;
      while (number(p)) ++p;
      emit(p);
      continue;
    }
    if (p2 < end && !space(p2) && !letter(p2) && !number(p2)) {
      size_t p = p2;
      while (p < end && !space(p) && !letter(p) && !number(p)) ++p;
      emit(p);
      continue;
    }
    size_t n_space = 0;
    while (space(pos + n_space)) ++n_space;
    if (n_space > 1 && pos + n_space < end) {  // \s+(?!\S): leave the last space for the next word
      emit(pos + n_space - 1);
      continue;
    }
    if (n_space > 0) {
      emit(pos + n_space);
      continue;
    }
    emit(pos + 1);
  }
}

struct Symbol {
  size_t text_begin;
  size_t n;
  int prev;
  int next;
};

struct Bigram {
  int left;
  int right;
  int32_t rank;
  std::string text;
  // Priority: lowest rank first, then leftmost.
  bool operator<(const Bigram& o) const { return rank > o.rank || (rank == o.rank && left > o.left); }
};

}  // namespace

uint32_t ByteToCodepoint(uint8_t b) {
  if ((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174) return b;
  // The other 68 bytes map to 256, 257, ... in byte order.
  uint32_t n = 0;
  for (uint32_t x = 0; x < b; ++x) {
    if (!((x >= 33 && x <= 126) || (x >= 161 && x <= 172) || x >= 174)) ++n;
  }
  return 256 + n;
}

void AppendUtf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

size_t CompleteUtf8Prefix(std::string_view s) {
  // Look back at most 3 bytes for a lead byte whose sequence is not yet complete.
  const size_t n = s.size();
  for (size_t back = 1; back <= 3 && back <= n; ++back) {
    const uint8_t b = static_cast<uint8_t>(s[n - back]);
    if ((b & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead
    const size_t need = (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 1;
    return need > back ? n - back : n;
  }
  return n;
}

Result<Tokenizer> Tokenizer::FromGguf(const GgufFile& file) {
  CMLN_ASSIGN_OR_RETURN(std::string model, file.GetString("tokenizer.ggml.model"));
  if (model != "gpt2") return Error(ErrorCode::kUnsupported, "tokenizer.ggml.model " + model + " (want gpt2)");
  Tokenizer t;
  std::string pre = "default";
  if (file.Find("tokenizer.ggml.pre") != nullptr) {
    CMLN_ASSIGN_OR_RETURN(pre, file.GetString("tokenizer.ggml.pre"));
  }
  if (pre == "smollm" || pre == "starcoder" || pre == "refact") {
    t.split_digits_ = true;
  } else if (pre != "default" && pre != "gpt2" && pre != "gpt-2") {
    return Error(ErrorCode::kUnsupported, "tokenizer.ggml.pre " + pre);
  }
  CMLN_ASSIGN_OR_RETURN(const std::vector<std::string>* tokens, file.GetStringArray("tokenizer.ggml.tokens"));
  if (tokens->empty()) return Error(ErrorCode::kMalformed, "tokenizer.ggml.tokens: empty");
  t.tokens_ = *tokens;
  t.types_.assign(t.tokens_.size(), kNormal);
  if (file.Find("tokenizer.ggml.token_type") != nullptr) {
    CMLN_ASSIGN_OR_RETURN(const std::vector<int64_t>* types, file.GetIntArray("tokenizer.ggml.token_type"));
    if (types->size() != t.tokens_.size()) {
      return Error(ErrorCode::kMalformed, "tokenizer.ggml.token_type: " + std::to_string(types->size()) +
                                              " entries for " + std::to_string(t.tokens_.size()) + " tokens");
    }
    for (size_t i = 0; i < types->size(); ++i) t.types_[i] = static_cast<int32_t>((*types)[i]);
  }
  t.token_ids_.reserve(t.tokens_.size());
  for (size_t i = 0; i < t.tokens_.size(); ++i) t.token_ids_.emplace(t.tokens_[i], static_cast<TokenId>(i));

  CMLN_ASSIGN_OR_RETURN(const std::vector<std::string>* merges, file.GetStringArray("tokenizer.ggml.merges"));
  t.merge_ranks_.reserve(merges->size());
  for (size_t i = 0; i < merges->size(); ++i) {
    const std::string& m = (*merges)[i];
    const size_t sp = m.find(' ', 1);
    if (sp == std::string::npos || sp + 1 >= m.size()) {
      return Error(ErrorCode::kMalformed, "tokenizer.ggml.merges[" + std::to_string(i) + "]: not \"left right\"");
    }
    t.merge_ranks_.emplace(m, static_cast<int32_t>(i));
  }

  const auto id_key = [&](const char* key, TokenId& out) -> Status {
    if (file.Find(key) == nullptr) return OkStatus();
    CMLN_ASSIGN_OR_RETURN(uint64_t v, file.GetUInt(key));
    if (v >= t.tokens_.size()) return Error(ErrorCode::kMalformed, std::string(key) + ": id out of range");
    out = static_cast<TokenId>(v);
    return OkStatus();
  };
  CMLN_TRY(id_key("tokenizer.ggml.bos_token_id", t.bos_));
  CMLN_TRY(id_key("tokenizer.ggml.eos_token_id", t.eos_));
  TokenId eot = -1;
  CMLN_TRY(id_key("tokenizer.ggml.eot_token_id", eot));
  if (file.Find("tokenizer.ggml.add_bos_token") != nullptr) {
    CMLN_ASSIGN_OR_RETURN(t.add_bos_, file.GetBool("tokenizer.ggml.add_bos_token"));
  }
  if (t.add_bos_ && t.bos_ < 0) return Error(ErrorCode::kMalformed, "tokenizer.ggml.add_bos_token without bos id");

  for (size_t i = 0; i < t.tokens_.size(); ++i) {
    const int32_t ty = t.types_[i];
    if ((ty == kControl || ty == kUserDefined || ty == kUnknown) && !t.tokens_[i].empty()) {
      t.special_.push_back(static_cast<TokenId>(i));
    }
  }
  std::stable_sort(t.special_.begin(), t.special_.end(), [&](TokenId a, TokenId b) {
    return t.tokens_[static_cast<size_t>(a)].size() > t.tokens_[static_cast<size_t>(b)].size();
  });
  if (t.eos_ >= 0) t.end_of_generation_.push_back(t.eos_);
  if (eot >= 0) t.end_of_generation_.push_back(eot);
  for (const char* text : {"<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end|>", "<end_of_turn>"}) {
    auto it = t.token_ids_.find(text);
    if (it != t.token_ids_.end() && t.types_[static_cast<size_t>(it->second)] == kControl) {
      t.end_of_generation_.push_back(it->second);
    }
  }
  return t;
}

std::optional<TokenId> Tokenizer::Find(std::string_view token_text) const {
  auto it = token_ids_.find(std::string(token_text));
  if (it == token_ids_.end()) return std::nullopt;
  return it->second;
}

bool Tokenizer::IsEndOfGeneration(TokenId id) const {
  return std::find(end_of_generation_.begin(), end_of_generation_.end(), id) != end_of_generation_.end();
}

void Tokenizer::SplitWords(std::string_view fragment, std::vector<std::string>& words) const {
  const std::vector<uint32_t> cps = DecodeUtf8(fragment);
  std::vector<std::pair<size_t, size_t>> pieces;
  if (split_digits_) {
    // First pass \p{N}: every number code point alone; the text between stays together.
    size_t start = 0;
    for (size_t i = 0; i < cps.size(); ++i) {
      if (IsNumber(cps[i])) {
        if (i > start) SplitGpt2(cps, start, i, pieces);
        pieces.emplace_back(i, i + 1);
        start = i + 1;
      }
    }
    if (start < cps.size()) SplitGpt2(cps, start, cps.size(), pieces);
  } else {
    SplitGpt2(cps, 0, cps.size(), pieces);
  }
  for (const auto& [b, e] : pieces) {
    std::string utf8;
    for (size_t i = b; i < e; ++i) AppendUtf8(cps[i], utf8);
    std::string mapped;
    for (unsigned char c : utf8) AppendUtf8(ByteToCodepoint(c), mapped);
    words.push_back(std::move(mapped));
  }
}

void Tokenizer::BytePairEncode(const std::string& word, std::vector<TokenId>& out) const {
  std::vector<Symbol> symbols;
  for (size_t offset = 0; offset < word.size();) {
    const size_t len = std::min(word.size() - offset, Utf8Length(static_cast<uint8_t>(word[offset])));
    const int index = static_cast<int>(symbols.size());
    symbols.push_back(Symbol{offset, len, index - 1, offset + len == word.size() ? -1 : index + 1});
    offset += len;
  }
  std::priority_queue<Bigram> queue;
  const auto add_bigram = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    const Symbol& l = symbols[static_cast<size_t>(left)];
    const Symbol& r = symbols[static_cast<size_t>(right)];
    std::string key = word.substr(l.text_begin, l.n);
    key.push_back(' ');
    key.append(word, r.text_begin, r.n);
    auto it = merge_ranks_.find(key);
    if (it == merge_ranks_.end()) return;
    queue.push(Bigram{left, right, it->second, word.substr(l.text_begin, l.n) + word.substr(r.text_begin, r.n)});
  };
  for (size_t i = 1; i < symbols.size(); ++i) add_bigram(static_cast<int>(i - 1), static_cast<int>(i));
  while (!queue.empty()) {
    const Bigram bg = queue.top();
    queue.pop();
    Symbol& l = symbols[static_cast<size_t>(bg.left)];
    Symbol& r = symbols[static_cast<size_t>(bg.right)];
    if (l.n == 0 || r.n == 0) continue;
    if (l.n + r.n != bg.text.size() || word.compare(l.text_begin, l.n + r.n, bg.text) != 0) continue;  // stale
    if (l.text_begin + l.n != r.text_begin) continue;
    l.n += r.n;
    r.n = 0;
    l.next = r.next;
    if (r.next >= 0) symbols[static_cast<size_t>(r.next)].prev = bg.left;
    add_bigram(l.prev, bg.left);
    add_bigram(bg.left, l.next);
  }
  for (const Symbol& s : symbols) {
    if (s.n == 0) continue;
    const std::string text = word.substr(s.text_begin, s.n);
    auto it = token_ids_.find(text);
    if (it != token_ids_.end()) {
      out.push_back(it->second);
      continue;
    }
    // No token for the merged text: fall back to single bytes that happen to be tokens (llama.cpp).
    for (char c : text) {
      auto b = token_ids_.find(std::string(1, c));
      if (b != token_ids_.end()) out.push_back(b->second);
    }
  }
}

std::vector<TokenId> Tokenizer::Encode(std::string_view text, bool parse_special) const {
  // Fragments: either a special token id or a raw text range.
  struct Fragment {
    TokenId special;  // -1 for raw text
    size_t begin;
    size_t len;
  };
  std::vector<Fragment> fragments{{-1, 0, text.size()}};
  for (TokenId id : special_) {
    const int32_t ty = types_[static_cast<size_t>(id)];
    if (!parse_special && (ty == kControl || ty == kUnknown)) continue;
    const std::string& st = tokens_[static_cast<size_t>(id)];
    std::vector<Fragment> next;
    for (const Fragment& f : fragments) {
      if (f.special >= 0) {
        next.push_back(f);
        continue;
      }
      size_t pos = f.begin;
      const size_t end = f.begin + f.len;
      while (pos < end) {
        const size_t hit = text.substr(0, end).find(st, pos);
        if (hit == std::string_view::npos) break;
        if (hit > pos) next.push_back({-1, pos, hit - pos});
        next.push_back({id, hit, st.size()});
        pos = hit + st.size();
      }
      if (pos < end) next.push_back({-1, pos, end - pos});
    }
    fragments = std::move(next);
  }
  std::vector<TokenId> out;
  if (add_bos_) out.push_back(bos_);
  std::vector<std::string> words;
  for (const Fragment& f : fragments) {
    if (f.special >= 0) {
      out.push_back(f.special);
      continue;
    }
    words.clear();
    SplitWords(text.substr(f.begin, f.len), words);
    for (const std::string& w : words) BytePairEncode(w, out);
  }
  return out;
}

std::string Tokenizer::Piece(TokenId id, bool render_special) const {
  if (id < 0 || static_cast<size_t>(id) >= tokens_.size()) return "";
  const std::string& text = tokens_[static_cast<size_t>(id)];
  const int32_t ty = types_[static_cast<size_t>(id)];
  if (ty == kControl) return render_special ? text : "";
  if (ty == kUserDefined || ty == kUnknown) return text;
  // Byte-level: map each code point back to its byte.
  static const std::array<int, 512> kByteOf = [] {
    std::array<int, 512> m{};
    m.fill(-1);
    for (int b = 0; b < 256; ++b) m[ByteToCodepoint(static_cast<uint8_t>(b))] = b;
    return m;
  }();
  std::string out;
  for (uint32_t cp : DecodeUtf8(text)) {
    if (cp < kByteOf.size() && kByteOf[cp] >= 0) {
      out.push_back(static_cast<char>(kByteOf[cp]));
    } else {
      AppendUtf8(cp, out);
    }
  }
  return out;
}

std::string Tokenizer::Decode(std::span<const TokenId> ids, bool render_special) const {
  std::string out;
  for (TokenId id : ids) out += Piece(id, render_special);
  return out;
}

}  // namespace cmln::engine
