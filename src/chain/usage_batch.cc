#include "chain/usage_batch.h"

#include "common/byte_reader.h"

namespace cmln::chain {

Result<Bytes> EncodeUsageBatch(const UsageBatch& b) {
  if (b.chain_id.empty() || b.chain_id.size() > kMaxChainIdLen) {
    return Error(ErrorCode::kInvalidArgument, "usage batch: chain_id length out of range");
  }
  if (b.node_id.empty() || b.node_id.size() > kMaxNodeIdLen) {
    return Error(ErrorCode::kInvalidArgument, "usage batch: node_id length out of range");
  }
  if (b.batch_seq == 0) return Error(ErrorCode::kInvalidArgument, "usage batch: batch_seq must be >= 1");
  if (b.entries.empty() || b.entries.size() > kMaxBatchEntries) {
    return Error(ErrorCode::kInvalidArgument, "usage batch: entry count out of range");
  }
  ByteWriter w(32 + b.chain_id.size() + b.node_id.size() + b.entries.size() * kUsageEntrySize);
  w.U8(kUsageBatchVersion);
  w.U16BE(static_cast<uint16_t>(b.chain_id.size()));
  w.Bytes(b.chain_id);
  w.U16BE(static_cast<uint16_t>(b.node_id.size()));
  w.Bytes(b.node_id);
  w.U64BE(b.batch_seq);
  w.U32BE(static_cast<uint32_t>(b.entries.size()));
  for (size_t i = 0; i < b.entries.size(); ++i) {
    const UsageEntry& e = b.entries[i];
    if (i > 0 && e.escrow_id <= b.entries[i - 1].escrow_id) {
      return Error(ErrorCode::kInvalidArgument, "usage batch: entries not strictly increasing by escrow_id");
    }
    w.U64BE(e.escrow_id);
    w.Bytes(ByteView(e.requester_key_hash));
    w.U64BE(e.requests);
    w.U64BE(e.prompt_tokens);
    w.U64BE(e.completion_tokens);
    w.U64BE(e.cost);
  }
  return w.Take();
}

namespace {
Result<std::string> ReadId(ByteReader& r, size_t max_len, const char* field) {
  CMLN_ASSIGN_OR_RETURN(uint16_t len, r.U16BE(field));
  if (len == 0) return Error(ErrorCode::kMalformed, std::string("usage batch: empty ") + field);
  if (len > max_len) {
    return Error(ErrorCode::kLengthTooLarge,
                 std::string("usage batch: ") + field + " length " + std::to_string(len) + " exceeds cap");
  }
  CMLN_ASSIGN_OR_RETURN(ByteView v, r.Bytes(len, field));
  return std::string(AsChars(v));
}
}  // namespace

Result<UsageBatch> DecodeUsageBatch(ByteView bytes) {
  ByteReader r(bytes);
  UsageBatch b;
  CMLN_ASSIGN_OR_RETURN(uint8_t version, r.U8("version"));
  if (version != kUsageBatchVersion) {
    return Error(ErrorCode::kUnsupported, "usage batch: version " + std::to_string(version) + " at offset 0");
  }
  CMLN_ASSIGN_OR_RETURN(b.chain_id, ReadId(r, kMaxChainIdLen, "chain_id"));
  CMLN_ASSIGN_OR_RETURN(b.node_id, ReadId(r, kMaxNodeIdLen, "node_id"));
  size_t seq_offset = r.offset();
  CMLN_ASSIGN_OR_RETURN(b.batch_seq, r.U64BE("batch_seq"));
  if (b.batch_seq == 0) {
    return Error(ErrorCode::kMalformed, "usage batch: batch_seq 0 at offset " + std::to_string(seq_offset));
  }
  size_t count_offset = r.offset();
  CMLN_ASSIGN_OR_RETURN(uint32_t count, r.U32BE("entry_count"));
  if (count == 0) {
    return Error(ErrorCode::kMalformed, "usage batch: no entries at offset " + std::to_string(count_offset));
  }
  if (count > kMaxBatchEntries) {
    return Error(ErrorCode::kLengthTooLarge, "usage batch: entry_count " + std::to_string(count) + " at offset " +
                                                 std::to_string(count_offset) + " exceeds cap");
  }
  if (r.remaining() < static_cast<size_t>(count) * kUsageEntrySize) {
    return Error(ErrorCode::kTruncated, "usage batch: entries truncated at offset " + std::to_string(r.offset()));
  }
  b.entries.resize(count);
  for (uint32_t i = 0; i < count; ++i) {
    UsageEntry& e = b.entries[i];
    size_t at = r.offset();
    CMLN_ASSIGN_OR_RETURN(e.escrow_id, r.U64BE("escrow_id"));
    if (i > 0 && e.escrow_id <= b.entries[i - 1].escrow_id) {
      return Error(ErrorCode::kMalformed,
                   "usage batch: escrow_id not strictly increasing at offset " + std::to_string(at));
    }
    CMLN_ASSIGN_OR_RETURN(ByteView h, r.Bytes(32, "requester_key_hash"));
    std::copy(h.begin(), h.end(), e.requester_key_hash.begin());
    CMLN_ASSIGN_OR_RETURN(e.requests, r.U64BE("requests"));
    CMLN_ASSIGN_OR_RETURN(e.prompt_tokens, r.U64BE("prompt_tokens"));
    CMLN_ASSIGN_OR_RETURN(e.completion_tokens, r.U64BE("completion_tokens"));
    CMLN_ASSIGN_OR_RETURN(e.cost, r.U64BE("cost"));
  }
  CMLN_TRY(r.ExpectEnd("usage batch"));
  return b;
}

Bytes UsageBatchSigningMessage(ByteView batch_bytes) {
  return Concat(kUsageBatchSigningDomain, batch_bytes);
}

Result<seal::Ed25519Signature> SignUsageBatch(const seal::Ed25519PrivateKey& key, ByteView batch_bytes) {
  return key.Sign(UsageBatchSigningMessage(batch_bytes));
}

Status VerifyUsageBatch(ByteView public_key, ByteView batch_bytes, ByteView signature) {
  return seal::Ed25519Verify(public_key, UsageBatchSigningMessage(batch_bytes), signature);
}

}  // namespace cmln::chain
