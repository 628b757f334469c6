// Server-sent events passthrough for `cmln proxy` (and the terminal printer of `cmln chat`).
//
// The decrypted SSE bytes of a node's stream arrive in arbitrary pieces. SseEventSplitter cuts them into
// complete events (each ending with a blank line, "\n\n" or "\r\n\r\n") and holds back the terminal
// `data: [DONE]` event: the proxy forwards every event at once, but sends [DONE] only after the stream
// ended with a verified receipt (B5: an OpenAI SDK reading a truncated or tampered stream sees an error
// event and a closed connection, never a clean end).
//
// Thread safety: none; one splitter per stream.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"

namespace cmln::client {

inline constexpr std::string_view kSseDone = "data: [DONE]\n\n";

class SseEventSplitter {
 public:
  // Complete events that `bytes` finishes, in order, each with its terminating blank line; the
  // [DONE] event is never among them (see done_seen()).
  std::vector<std::string> Push(ByteView bytes);
  // True once a `data: [DONE]` event was held back.
  bool done_seen() const { return done_seen_; }
  // Bytes of an incomplete last event (a well-formed stream ends with none).
  const std::string& pending() const { return buffer_; }

 private:
  std::string buffer_;
  bool done_seen_ = false;
};

// The `choices[0].delta.content` text of one chat.completion.chunk event ("" when it has none).
std::string DeltaContentOfEvent(std::string_view event);

}  // namespace cmln::client
