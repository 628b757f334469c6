// An Engine that forwards to an OpenAI-compatible server on this machine (vLLM or llama.cpp's server
// inside the CVM), over plain HTTP to a loopback address only: the request plaintext must never leave
// the confidential VM.
//
// Complete() always streams (POST /v1/chat/completions with "stream": true and
// "stream_options": {"include_usage": true}), hands each content delta to on_text, and takes usage
// from the server's final `usage` object; a stream without one is kMalformed (no usage, no bill).
// Token ids in the chunks' choices ("token_ids") are collected into Completion::token_ids.
// CountTokens() asks the server's tokenizer (POST /tokenize as vLLM and llama.cpp's server offer it,
// else llama-cpp-python's /extras/tokenize/count).
// Cancellation closes the connection; the server's usage for a cancelled request is unknown, so the
// result reports the deltas received as completion_tokens and the last known prompt count (0).
// Thread safety: all methods are thread-safe (one HTTP client per call).
#pragma once

#include <memory>
#include <string>

#include "engine/engine.h"

namespace cmln::engine {

struct UpstreamOptions {
  std::string host = "127.0.0.1";  // must be a loopback address or "localhost"
  int port = 8000;
  std::string model;               // sent as "model"; required
  std::string weights_path;        // the weights the server loaded, hashed for ModelDigest (optional)
  std::string api_key;             // sent as a bearer token when not empty
  int timeout_seconds = 600;
  // Ask for the generated token ids (vLLM's `return_token_ids`, also served by `cmln engine serve`);
  // servers that ignore it leave Completion::token_ids empty.
  bool request_token_ids = true;
};

class UpstreamEngine : public Engine {
 public:
  // kInvalidArgument for a non-loopback host or an empty model; kIoError if weights_path is unreadable.
  static Result<std::unique_ptr<UpstreamEngine>> Create(const UpstreamOptions& options);

  std::string model_name() const override { return options_.model; }
  Result<seal::Digest32> ModelDigest() const override;
  Result<uint32_t> CountTokens(std::string_view text) override;
  Result<Completion> Complete(const CompletionRequest& request) override;

 private:
  explicit UpstreamEngine(UpstreamOptions o) : options_(std::move(o)) {}
  UpstreamOptions options_;
  bool has_digest_ = false;
  seal::Digest32 digest_{};
};

}  // namespace cmln::engine
