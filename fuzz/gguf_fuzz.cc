// Fuzzes the GGUF reader and everything that reads its metadata: the tokenizer (including encoding a
// string with the fuzzed vocabulary and merges), the chat template and the llama model validation.
#include <cstddef>
#include <cstdint>

#include "engine/chat_template.h"
#include "engine/gguf.h"
#include "engine/llama_model.h"
#include "engine/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cmln::engine;
  GgufLimits limits;
  limits.max_array_elems = 1u << 16;  // keep single inputs fast
  auto file = GgufFile::Parse(cmln::ByteView(data, size), limits);
  if (!file.ok()) return 0;
  for (const GgufTensor& t : file->tensors()) {
    // Every tensor view must lie inside the input.
    if (t.data.data() < data || t.data.data() + t.data.size() > data + size) __builtin_trap();
  }
  auto tok = Tokenizer::FromGguf(*file);
  if (tok.ok()) {
    const auto ids = tok->Encode("Hello <|im_start|>wörld 123 😀  \n", true);
    (void)tok->Decode(ids, true);
  }
  auto tmpl = ChatTemplate::FromGguf(*file);
  if (tmpl.ok()) (void)tmpl->Apply({{"user", "hi"}});
  auto model = LlamaModel::Load(*file);
  (void)model;
  return 0;
}
