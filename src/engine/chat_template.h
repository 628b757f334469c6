// Chat templates: turning messages into the prompt text a model was trained on.
//
// Only ChatML is implemented (SmolLM2, Qwen, ...): each message becomes
//   "<|im_start|>" role "\n" content "<|im_end|>\n"
// followed by "<|im_start|>assistant\n". When the GGUF template inserts a default system message
// for conversations that start without one (SmolLM2 does), that message is taken from the template.
// Thread safety: immutable; safe to share.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "engine/engine.h"
#include "engine/gguf.h"

namespace cmln::engine {

class ChatTemplate {
 public:
  // From tokenizer.chat_template; kUnsupported for templates that are not ChatML.
  static Result<ChatTemplate> FromGguf(const GgufFile& file);
  static ChatTemplate ChatMl(std::string default_system = "");

  std::string Apply(const std::vector<ChatMessage>& messages) const;
  const std::string& default_system() const { return default_system_; }

 private:
  std::string default_system_;
};

}  // namespace cmln::engine
