// Transactions: decoding with size caps, the sign document, signing and verification (DESIGN section 4).
//
//   wire tx   = TxRaw{body_bytes, signature}            (protobuf, at most Params.max_tx_bytes)
//   body      = TxBody{messages[1..kMaxMessagesPerTx], sequence, fee, signer_public_key(33), memo(<=256)}
//   sign doc  = SignDoc{chain_id, sequence, body_bytes} serialized (fields in number order, so the
//               encoding is unique); signature = secp256k1 compact low-S over SHA-256(sign doc)
//   tx hash   = SHA-256(wire tx), shown as lowercase hex
// A wrong chain id therefore shows up as a bad signature (C9), and a sequence is bound twice (body and
// sign doc) so neither can be swapped. Thread safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "chain/proto/tx.pb.h"
#include "common/bytes.h"
#include "common/status.h"
#include "seal/account_key.h"

namespace cmln::chain {

inline constexpr size_t kMaxMessagesPerTx = 64;
inline constexpr size_t kMaxMemoLen = 256;
inline constexpr size_t kAbsoluteMaxTxBytes = 4 << 20;  // before params are known (mempool, fuzz)

struct DecodedTx {
  Bytes raw;
  std::string hash_hex;
  v1::TxRaw tx_raw;
  v1::TxBody body;
  seal::AccountPublicKey signer_public_key{};
  std::string signer;  // bech32 address of signer_public_key
};

// kLengthTooLarge above max_bytes; kMalformed for protobuf that does not parse or carries a field unknown
// to this build (anywhere in TxRaw or TxBody, messages included), a public key that is
// not 33 bytes (kInvalidKey if not a curve point), no or too many messages, an empty message, a long memo.
Result<DecodedTx> DecodeTx(ByteView raw, size_t max_bytes);

Bytes SignDocBytes(std::string_view chain_id, uint64_t sequence, std::string_view body_bytes);

// kBadSignature unless the signature verifies over the sign doc for `chain_id`.
Status VerifyTxSignature(const DecodedTx& tx, std::string_view chain_id);

// Builds, signs and serializes a transaction (used by the CLI and tests).
Result<Bytes> BuildSignedTx(const seal::AccountPrivateKey& key, std::string_view chain_id, uint64_t sequence,
                            uint64_t fee, const std::vector<v1::Msg>& messages, std::string_view memo = "");

std::string TxHashHex(ByteView raw);

}  // namespace cmln::chain
