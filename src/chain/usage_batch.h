// The canonical usage batch a Confidential MLNode signs with its Ed25519 TEE key (DESIGN section 3,
// step 8) and the chain settles with MsgSettleConfidentialUsage.
//
// Grammar (version 2; fixed-width integers big-endian, varint = QUIC variable-length integer, RFC 9000
// section 16, in its shortest form only, so there is exactly one encoding of each batch):
//   batch        = version:u8 (=2)
//                  chain_id_len:u16 chain_id (1..kMaxChainIdLen bytes)
//                  node_id_len:u16 node_id   (1..kMaxNodeIdLen bytes)
//                  batch_seq:u64             (>= 1)
//                  requesters_digest:32
//                  entry_count:varint        (1..kMaxBatchEntries)
//                  entry{entry_count}
//   entry        = escrow_delta:varint (>= 1) requests:varint prompt_tokens:varint
//                  completion_tokens:varint cost:varint
// escrow_id of entry i = escrow_id of entry i-1 + escrow_delta (entry -1 has escrow_id 0), so entries are
// sorted by strictly increasing escrow_id (one entry per escrow) and escrow ids start at 1. Every value
// (and every escrow_id) is below 2^62, the varint range.
//
// requesters_digest = SHA-256(kUsageRequestersDomain || for each entry in order:
//                             escrow_id:u64 || requester_key_hash:32)
// where requester_key_hash = SHA-256(requester's 33-byte compressed secp256k1 key) as the node saw it on
// chain. One digest per batch instead of one hash per entry: the chain recomputes it from each escrow's
// creator_key_hash and refuses the whole batch (kRequesterMismatch, C8) if it differs, so a host that fed
// the node a false key for any escrow gets the batch refused; the refusal cannot say which entry was wrong.
//
// Signed message = kUsageBatchSigningDomain || batch bytes (domain separation from receipts).
//
// Thread safety: the functions are pure; a RequestersDigest is used by one thread at a time.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "seal/crypto.h"

namespace cmln::chain {

inline constexpr uint8_t kUsageBatchVersion = 2;
inline constexpr size_t kMaxChainIdLen = 64;
inline constexpr size_t kMaxNodeIdLen = 128;
inline constexpr size_t kMaxBatchEntries = 4096;
// Five varints of at most 8 bytes each.
inline constexpr size_t kMaxUsageEntrySize = 5 * 8;
inline constexpr size_t kMinUsageEntrySize = 5;
// Upper bound of an encoded batch (for callers that cap stored batches before decoding).
inline constexpr size_t kMaxUsageBatchSize =
    1 + 2 + kMaxChainIdLen + 2 + kMaxNodeIdLen + 8 + 32 + 2 + kMaxBatchEntries * kMaxUsageEntrySize;
// The fixed entry size of layout version 1 (escrow_id:u64 requester_key_hash:32 four u64s). Kept only
// because 1+2+64+2+128+8+4 + kMaxBatchEntries*kUsageEntrySize is still an upper bound of a version-2
// batch; new code uses kMaxUsageBatchSize.
inline constexpr size_t kUsageEntrySize = 8 + 32 + 8 + 8 + 8 + 8;
static_assert(1 + 2 + kMaxChainIdLen + 2 + kMaxNodeIdLen + 8 + 4 + kMaxBatchEntries * kUsageEntrySize >=
              kMaxUsageBatchSize);
inline constexpr std::string_view kUsageBatchSigningDomain = "gonka/cmln/usage-batch/v1";
inline constexpr std::string_view kUsageRequestersDomain = "gonka/cmln/usage-requesters/v1";

struct UsageEntry {
  uint64_t escrow_id = 0;
  // Input to EncodeUsageBatch (folded into requesters_digest); all zero after DecodeUsageBatch, which
  // cannot recover it from the digest.
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
  // Ignored by EncodeUsageBatch (which computes it from the entries); filled by DecodeUsageBatch.
  seal::Digest32 requesters_digest{};
};

// Incremental requesters_digest: Add each entry's (escrow_id, requester key hash) in batch order.
// The encoder uses it over the entries' requester_key_hash, the chain over each escrow's creator key hash.
class RequestersDigest {
 public:
  RequestersDigest();
  // key_hash must be 32 bytes (the caller's on-chain or entry hash); other lengths are hashed as given and
  // therefore never match a digest built from 32-byte hashes.
  void Add(uint64_t escrow_id, ByteView key_hash);
  seal::Digest32 Finish();

 private:
  seal::Sha256Hasher hasher_;
};

// kInvalidArgument if the batch breaks the grammar (empty ids, zero seq, no entries, escrow_id 0, unsorted
// entries, a value >= 2^62). batch.requesters_digest is not read; the encoding carries the digest of the
// entries' requester_key_hash.
Result<Bytes> EncodeUsageBatch(const UsageBatch& batch);
// kTruncated / kTrailingData / kLengthTooLarge / kMalformed (non-minimal varint, zero escrow delta, escrow_id
// >= 2^62, zero seq, empty ids) / kUnsupported (version) with the offset. On success the entries'
// requester_key_hash are zero and requesters_digest is the digest carried by the batch.
Result<UsageBatch> DecodeUsageBatch(ByteView bytes);
// The bytes the TEE key signs.
Bytes UsageBatchSigningMessage(ByteView batch_bytes);
// Signs with the node's TEE key (used by the node and by tests).
Result<seal::Ed25519Signature> SignUsageBatch(const seal::Ed25519PrivateKey& key, ByteView batch_bytes);
// kBadSignature / kInvalidKey as seal::Ed25519Verify.
Status VerifyUsageBatch(ByteView public_key, ByteView batch_bytes, ByteView signature);

}  // namespace cmln::chain
