#include "client/sse.h"

#include <nlohmann/json.hpp>

namespace cmln::client {

namespace {

// The data of an event's `data:` lines joined by "\n" (SSE spec), or "" if it has none.
std::string EventData(std::string_view event) {
  std::string data;
  bool any = false;
  size_t pos = 0;
  while (pos < event.size()) {
    size_t eol = event.find('\n', pos);
    if (eol == std::string_view::npos) eol = event.size();
    std::string_view line = event.substr(pos, eol - pos);
    pos = eol + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.substr(0, 5) != "data:") continue;
    std::string_view v = line.substr(5);
    if (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    if (any) data += '\n';
    data += v;
    any = true;
  }
  return data;
}

}  // namespace

std::vector<std::string> SseEventSplitter::Push(ByteView bytes) {
  buffer_.append(AsChars(bytes));
  std::vector<std::string> events;
  for (;;) {
    const size_t lf = buffer_.find("\n\n");
    const size_t crlf = buffer_.find("\r\n\r\n");
    size_t end = std::string::npos;
    if (lf != std::string::npos) end = lf + 2;
    if (crlf != std::string::npos && (end == std::string::npos || crlf + 4 < end)) end = crlf + 4;
    if (end == std::string::npos) break;
    std::string event = buffer_.substr(0, end);
    buffer_.erase(0, end);
    if (EventData(event) == "[DONE]") {
      done_seen_ = true;
      continue;
    }
    events.push_back(std::move(event));
  }
  return events;
}

std::string DeltaContentOfEvent(std::string_view event) {
  const std::string data = EventData(event);
  auto j = nlohmann::json::parse(data, nullptr, false);
  if (!j.is_object() || !j.contains("choices") || !j["choices"].is_array() || j["choices"].empty()) return "";
  const auto& choice = j["choices"][0];
  if (!choice.is_object() || !choice.contains("delta") || !choice["delta"].is_object()) return "";
  const auto& delta = choice["delta"];
  if (!delta.contains("content") || !delta["content"].is_string()) return "";
  return delta["content"].get<std::string>();
}

}  // namespace cmln::client
