// One encrypted exchange with one verified node (docs/node-protocol.md), without the transport:
// sealing the OpenAI request with its authorization, opening the (possibly streamed) response, and
// verifying the receipt.
//
// Request: a BHTTP request `POST /v1/chat/completions`, `content-type: application/json`, header
// `gonka-authorization: base64(authorization)` over SHA-256 of the content exactly as sent; sealed with
// OHTTP (message/ohttp-req) to the attested key config, or, for `"stream": true`, with chunked OHTTP
// (message/ohttp-chunked-req: the known-length BHTTP request as the single, final chunk).
//
// Response: non-streamed, a BHTTP response with the receipt in header `gonka-receipt`; streamed, a chunked
// OHTTP response carrying an indeterminate-length BHTTP response whose content (the SSE bytes) is handed
// out as it arrives and whose trailer carries the receipt. Errors from the node inside the encryption
// (an OpenAI error object, any status) come out as a response like any other.
//
// B5: a dropped, reordered or modified chunk fails with kDecryptFailed as soon as it arrives; a stream
// that ends early fails with kTruncated at Finish(); either way the caller must treat everything it
// received as unconfirmed. The receipt is checked only over the complete content.
//
// Thread safety: none; one object per exchange.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "client/node_verifier.h"
#include "common/bytes.h"
#include "common/status.h"
#include "seal/account_key.h"
#include "seal/bhttp.h"
#include "seal/chunked_ohttp.h"
#include "seal/crypto.h"
#include "seal/inference_protocol.h"
#include "seal/ohttp.h"

namespace cmln::client {

inline constexpr std::string_view kChatCompletionsPath = "/v1/chat/completions";

// The node's answer, decrypted: what the OpenAI client would have received in plaintext.
struct NodeAnswer {
  uint16_t status = 0;
  std::string content_type;
  Bytes content;
  seal::bhttp::Fields headers;
  seal::bhttp::Fields trailers;
};

// A request sealed to one node, with what is needed to open its answer.
class SealedRequest {
 public:
  // Seals `content` (the OpenAI request JSON, exactly as it will be hashed) for `node`, authorized by
  // `requester` for `escrow_id` at `timestamp` (unix seconds). Streamed requests use chunked OHTTP.
  // Errors: kInvalidArgument (ids), the seal library's (kUnsupported suite, kInvalidKey).
  static Result<SealedRequest> Create(const VerifiedNode& node, const seal::AccountPrivateKey& requester,
                                      const std::string& chain_id, uint64_t escrow_id, uint64_t timestamp,
                                      ByteView content, bool stream);

  const Bytes& body() const { return body_; }
  std::string_view media_type() const;
  bool stream() const { return stream_; }
  const seal::Digest32& request_digest() const { return request_digest_; }
  const seal::RequestAuthorization& authorization() const { return authorization_; }

  // Non-streamed: opens the whole encapsulated response (kDecryptFailed, kTruncated, BHTTP codes).
  Result<NodeAnswer> Open(ByteView encapsulated_response) const;

  // Streamed: feed the chunked response as it arrives.
  struct StreamEvents {
    bool head = false;  // status and headers became available
    Bytes content;      // content bytes that arrived
  };
  Result<StreamEvents> PushStream(ByteView fragment);
  // End of the chunked response: kTruncated if the final chunk or the BHTTP message is incomplete.
  Result<StreamEvents> FinishStream();
  // The answer so far (status/headers once `head` was reported; content accumulates; trailers at the end).
  const NodeAnswer& answer() const { return answer_; }

 private:
  SealedRequest() = default;
  Result<StreamEvents> Deliver(std::vector<Bytes> plaintexts, bool final_chunk);

  bool stream_ = false;
  Bytes body_;
  seal::Digest32 request_digest_{};
  seal::RequestAuthorization authorization_;
  std::optional<seal::ohttp::ClientContext> context_;
  std::optional<seal::ohttp::ChunkedResponseOpener> opener_;
  // Inside the chunked response: an indeterminate-length BHTTP response is decoded as it arrives; a
  // known-length one (an error answer) is buffered and decoded at the end.
  std::optional<bool> indeterminate_;
  seal::bhttp::ResponseStreamDecoder stream_decoder_;
  Bytes known_length_buffer_;
  NodeAnswer answer_;
};

// The "usage" object of an OpenAI answer.
struct Usage {
  uint64_t prompt_tokens = 0;
  uint64_t completion_tokens = 0;
};
// From a chat.completion JSON object. kBadEncoding (not JSON) / kMalformed (no usage counts).
Result<Usage> UsageOfCompletion(ByteView json_body);
// From an SSE stream of chat.completion.chunk events: the last event that carries usage.
Result<Usage> UsageOfSseStream(ByteView sse);

// What a receipt must say about the exchange.
struct ReceiptExpectation {
  std::string chain_id;
  std::string node_id;
  uint64_t escrow_id = 0;
  seal::AccountPublicKey requester_public_key{};
  seal::Digest32 request_digest{};
  Bytes response_content;  // its SHA-256 is the response digest
  Usage usage;
  uint64_t price_per_token = 0;
  Bytes sign_public_key;  // of the node's verified bundle
};

// Finds the receipt field in `fields` (headers or trailers), decodes and checks it: signature under the
// verified sign_pk (kBadSignature), chain/node/escrow/requester (kBindingMismatch), request and response
// digests (kChecksumMismatch), token counts equal to the usage and cost = tokens x price (kMalformed).
// kNotFound when there is no receipt; the inference_protocol decode codes for a bad one.
Result<seal::Receipt> VerifyReceiptField(const seal::bhttp::Fields& fields, const ReceiptExpectation& want);

// The value of the first field named `name` (lowercase), or nullopt.
std::optional<std::string> FindField(const seal::bhttp::Fields& fields, std::string_view name);

}  // namespace cmln::client
