// What a client and a Confidential MLNode exchange inside the encryption, besides the OpenAI request and
// response themselves (DESIGN section 3, step 7): the requester's authorization and the node's receipt.
// Transport, HTTP status codes and error codes: docs/node-protocol.md.
//
// Both are fixed binary layouts (all integers big-endian, strings u16-length-prefixed), so there is
// exactly one encoding of each and a signature can never be re-interpreted. Both travel base64-encoded
// (RFC 4648 with padding, canonical) in a header field of the BHTTP message.
//
//   authorization = version:u8 (=1)
//                   chain_id_len:u16 chain_id        (1..kMaxProtocolIdLen printable ASCII)
//                   node_id_len:u16 node_id          (1..kMaxProtocolIdLen printable ASCII)
//                   escrow_id:u64                    (>= 1)
//                   requester_public_key:33          (compressed secp256k1, the escrow creator's key)
//                   timestamp:u64                    (unix seconds, the requester's clock)
//                   request_digest:32                (SHA-256 of the request content, exactly as sent)
//                   signature:64                     (secp256k1 compact low-S over
//                                                     SHA-256(kAuthorizationDomain ‖ all preceding bytes))
//
//   receipt       = version:u8 (=1)
//                   chain_id_len:u16 chain_id
//                   node_id_len:u16 node_id
//                   escrow_id:u64
//                   requester_key_hash:32            (SHA-256 of requester_public_key, as in usage batches)
//                   request_digest:32                (the authorization's)
//                   response_digest:32               (SHA-256 of the response content the node sent, see
//                                                     docs/node-protocol.md for streams)
//                   prompt_tokens:u64 completion_tokens:u64 cost:u64 (ngonka)
//                   sequence:u64                     (per TEE signing key, from 1, strictly increasing)
//                   signature:64                     (Ed25519 by the node's TEE key over
//                                                     kReceiptDomain ‖ all preceding bytes)
//
// The node id and chain id bind an authorization to one node of one chain: a request cannot be
// replayed to another node to charge the escrow twice (the node also keeps a replay cache).
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/status.h"
#include "seal/account_key.h"
#include "seal/crypto.h"

namespace cmln::seal {

inline constexpr uint8_t kInferenceProtocolVersion = 1;
inline constexpr size_t kMaxProtocolIdLen = 128;
inline constexpr std::string_view kAuthorizationDomain = "gonka/cmln/request-auth/v1";
inline constexpr std::string_view kReceiptDomain = "gonka/cmln/receipt/v1";

// Header fields (lowercase, as BHTTP carries them).
inline constexpr std::string_view kAuthorizationHeader = "gonka-authorization";
inline constexpr std::string_view kReceiptHeader = "gonka-receipt";  // a response header or trailer

struct RequestAuthorization {
  std::string chain_id;
  std::string node_id;
  uint64_t escrow_id = 0;
  AccountPublicKey requester_public_key{};
  uint64_t timestamp = 0;
  Digest32 request_digest{};
  AccountSignature signature{};

  bool operator==(const RequestAuthorization&) const = default;
};

// Builds and signs an authorization for `request_content` (the exact bytes of the request body).
// kInvalidArgument for an empty, too long or non-printable id or escrow_id 0.
Result<RequestAuthorization> SignAuthorization(const AccountPrivateKey& requester, std::string_view chain_id,
                                               std::string_view node_id, uint64_t escrow_id, uint64_t timestamp,
                                               ByteView request_content);
// The encoding, signature included. kInvalidArgument as SignAuthorization.
Result<Bytes> EncodeAuthorization(const RequestAuthorization& auth);
// Strict decode: kTruncated / kTrailingData / kLengthTooLarge / kMalformed (empty or non-printable id,
// escrow 0, invalid public key point) / kUnsupported (version). Does not check the signature.
Result<RequestAuthorization> DecodeAuthorization(ByteView bytes);
// The signature over the fields (kBadSignature / kInvalidKey). Freshness, replay, the node id and the
// escrow's owner are the node's checks, and that request_digest equals SHA-256 of the content received.
Status VerifyAuthorizationSignature(const RequestAuthorization& auth);

struct Receipt {
  std::string chain_id;
  std::string node_id;
  uint64_t escrow_id = 0;
  Digest32 requester_key_hash{};
  Digest32 request_digest{};
  Digest32 response_digest{};
  uint64_t prompt_tokens = 0;
  uint64_t completion_tokens = 0;
  uint64_t cost = 0;
  uint64_t sequence = 0;
  Ed25519Signature signature{};

  bool operator==(const Receipt&) const = default;
};

// Signs `receipt` (its signature field is ignored and set). kInvalidArgument for bad ids / zero sequence.
Result<Receipt> SignReceipt(const Ed25519PrivateKey& key, Receipt receipt);
Result<Bytes> EncodeReceipt(const Receipt& receipt);
// Strict decode, errors as DecodeAuthorization. Does not check the signature.
Result<Receipt> DecodeReceipt(ByteView bytes);
// Ed25519 signature under `sign_public_key` (the key of the node's verified attestation).
Status VerifyReceiptSignature(const Receipt& receipt, ByteView sign_public_key);

// SHA-256 of a requester's compressed public key (the requester_key_hash of receipts and usage batches).
Digest32 RequesterKeyHash(ByteView public_key);

}  // namespace cmln::seal
