// The canonical usage batch a Confidential MLNode signs with its Ed25519 TEE key (DESIGN section 3,
// step 8) and the chain settles with MsgSettleConfidentialUsage.
//
// Grammar (all integers big-endian; there is exactly one encoding of each batch):
//   batch        = version:u8 (=1)
//                  chain_id_len:u16 chain_id (1..kMaxChainIdLen bytes)
//                  node_id_len:u16 node_id   (1..kMaxNodeIdLen bytes)
//                  batch_seq:u64             (>= 1)
//                  entry_count:u32           (1..kMaxBatchEntries)
//                  entry{entry_count}
//   entry        = escrow_id:u64 requester_key_hash:32 requests:u64 prompt_tokens:u64
//                  completion_tokens:u64 cost:u64
// Entries are sorted by strictly increasing escrow_id (one entry per escrow), so two encodings of the
// same usage cannot differ. requester_key_hash = SHA-256(requester's 33-byte compressed secp256k1 key)
// as the node saw it on chain; the chain refuses the batch if it is not the escrow creator's key (C8).
//
// Signed message = kUsageBatchSigningDomain || batch bytes (domain separation from receipts).
//
// Thread safety: pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "seal/crypto.h"

namespace cmln::chain {

inline constexpr uint8_t kUsageBatchVersion = 1;
inline constexpr size_t kMaxChainIdLen = 64;
inline constexpr size_t kMaxNodeIdLen = 128;
inline constexpr size_t kMaxBatchEntries = 4096;
inline constexpr size_t kUsageEntrySize = 8 + 32 + 8 + 8 + 8 + 8;
inline constexpr std::string_view kUsageBatchSigningDomain = "gonka/cmln/usage-batch/v1";

struct UsageEntry {
  uint64_t escrow_id = 0;
  seal::Digest32 requester_key_hash{};
  uint64_t requests = 0;
  uint64_t prompt_tokens = 0;
  uint64_t completion_tokens = 0;
  uint64_t cost = 0;  // ngonka
};

struct UsageBatch {
  std::string chain_id;
  std::string node_id;
  uint64_t batch_seq = 0;
  std::vector<UsageEntry> entries;
};

// kInvalidArgument if the batch breaks the grammar (empty ids, zero seq, no entries, unsorted entries).
Result<Bytes> EncodeUsageBatch(const UsageBatch& batch);
// kTruncated / kTrailingData / kLengthTooLarge / kMalformed / kUnsupported (version) with the offset.
Result<UsageBatch> DecodeUsageBatch(ByteView bytes);
// The bytes the TEE key signs.
Bytes UsageBatchSigningMessage(ByteView batch_bytes);
// Signs with the node's TEE key (used by the node and by tests).
Result<seal::Ed25519Signature> SignUsageBatch(const seal::Ed25519PrivateKey& key, ByteView batch_bytes);
// kBadSignature / kInvalidKey as seal::Ed25519Verify.
Status VerifyUsageBatch(ByteView public_key, ByteView batch_bytes, ByteView signature);

}  // namespace cmln::chain
