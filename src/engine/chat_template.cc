#include "engine/chat_template.h"

namespace cmln::engine {

namespace {
constexpr std::string_view kImStart = "<|im_start|>";
constexpr std::string_view kImEnd = "<|im_end|>";
// The Jinja clause SmolLM2's template uses to add a system message when there is none.
constexpr std::string_view kNoSystemClause = "messages[0]['role'] != 'system'";
constexpr std::string_view kDefaultSystemStart = "<|im_start|>system\n";
}  // namespace

ChatTemplate ChatTemplate::ChatMl(std::string default_system) {
  ChatTemplate t;
  t.default_system_ = std::move(default_system);
  return t;
}

Result<ChatTemplate> ChatTemplate::FromGguf(const GgufFile& file) {
  CMLN_ASSIGN_OR_RETURN(std::string tmpl, file.GetString("tokenizer.chat_template"));
  if (tmpl.find(kImStart) == std::string::npos || tmpl.find(kImEnd) == std::string::npos) {
    return Error(ErrorCode::kUnsupported, "tokenizer.chat_template: only ChatML templates are supported");
  }
  std::string default_system;
  const size_t clause = tmpl.find(kNoSystemClause);
  if (clause != std::string::npos) {
    const size_t start = tmpl.find(kDefaultSystemStart, clause);
    const size_t end = start == std::string::npos ? start : tmpl.find(kImEnd, start);
    if (start == std::string::npos || end == std::string::npos) {
      return Error(ErrorCode::kUnsupported, "tokenizer.chat_template: default system message not found");
    }
    default_system = tmpl.substr(start + kDefaultSystemStart.size(), end - start - kDefaultSystemStart.size());
  }
  return ChatMl(std::move(default_system));
}

std::string ChatTemplate::Apply(const std::vector<ChatMessage>& messages) const {
  std::string out;
  if (!default_system_.empty() && (messages.empty() || messages[0].role != "system")) {
    out.append(kImStart).append("system\n").append(default_system_).append(kImEnd).append("\n");
  }
  for (const ChatMessage& m : messages) {
    out.append(kImStart).append(m.role).append("\n").append(m.content).append(kImEnd).append("\n");
  }
  out.append(kImStart).append("assistant\n");
  return out;
}

}  // namespace cmln::engine
