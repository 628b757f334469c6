// The node's HTTP API (docs/node-protocol.md, "Endpoints of a node"): OHTTP and chunked OHTTP on
// POST /v1/ohttp, envelope v1 on /api/v1/encrypted/*, the attestation and key config, /health and
// /metrics; every plaintext inference path answers 403 plaintext_refused (THREATS B1: nothing reaches
// the engine). Decryption and encryption happen here; admission, inference and receipts are the
// InferenceService's.
//
// Errors before decryption are plaintext on the outer response: unknown key id -> 400 problem+json
// stale_key (B4), body over max_request_bytes -> 413 request_too_large (D4), anything else wrong with
// the encapsulation -> 400 bad_encapsulation (one generic answer, no decryption oracle: B2), wrong media
// type -> 415. After decryption every answer is encrypted.
//
// Framing of answers inside the encryption:
//   message/ohttp-req          -> message/ohttp-res with a known-length BHTTP response (receipt header);
//   message/ohttp-chunked-req  -> message/ohttp-chunked-res; a streamed success is an indeterminate-length
//                                 BHTTP response, one chunk per part (head, each SSE event, then the
//                                 trailer with the receipt as the final chunk); every other answer is a
//                                 known-length BHTTP response sealed as the single final chunk.
//
// Bounded: bodies over max_request_bytes are refused before they are read whole; a fixed pool of
// worker threads (max_in_flight + 8); at most max_in_flight requests admitted at once.
// Thread safety: Start/Stop from one thread; handlers run on the pool.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "common/status.h"
#include "node/metrics.h"
#include "node/service.h"

namespace httplib {
class Server;
}

namespace cmln::node {

struct FrontendOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: a free port (see port())
  size_t max_request_bytes = 1 << 20;
  size_t worker_threads = 72;
};

class HttpFrontend {
 public:
  // The keys currently served (null before the first attestation: every encrypted path answers 503).
  using KeyProvider = std::function<std::shared_ptr<const KeySet>()>;

  HttpFrontend(FrontendOptions options, InferenceService& service, Metrics& metrics, KeyProvider keys);
  ~HttpFrontend();  // Stop()

  // Binds (kIoError if the address cannot be bound) and serves on a background thread.
  Status Start();
  void Stop();
  int port() const { return port_; }

 private:
  void Route();

  FrontendOptions options_;
  InferenceService& service_;
  Metrics& metrics_;
  KeyProvider keys_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace cmln::node
