#include "chain/usage_batch.h"

#include "common/byte_reader.h"

namespace cmln::chain {

namespace {
// Largest value a QUIC varint holds; escrow ids and counters at or above it are not encodable.
constexpr uint64_t kVarintLimit = uint64_t{1} << 62;
}  // namespace

RequestersDigest::RequestersDigest() { hasher_.Update(AsBytes(kUsageRequestersDomain)); }

void RequestersDigest::Add(uint64_t escrow_id, ByteView key_hash) {
  uint8_t id[8];
  StoreU64BE(id, escrow_id);
  hasher_.Update(ByteView(id, sizeof(id)));
  hasher_.Update(key_hash);
}

seal::Digest32 RequestersDigest::Finish() { return hasher_.Finish(); }

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
  RequestersDigest digest;
  uint64_t prev = 0;
  for (size_t i = 0; i < b.entries.size(); ++i) {
    const UsageEntry& e = b.entries[i];
    if (e.escrow_id <= prev) {
      return Error(ErrorCode::kInvalidArgument, "usage batch: entry " + std::to_string(i) +
                                                    " escrow_id is 0 or not strictly increasing");
    }
    if (e.escrow_id >= kVarintLimit) {
      return Error(ErrorCode::kInvalidArgument, "usage batch: entry " + std::to_string(i) + " escrow_id >= 2^62");
    }
    prev = e.escrow_id;
    digest.Add(e.escrow_id, ByteView(e.requester_key_hash));
  }
  ByteWriter w(1 + 2 + b.chain_id.size() + 2 + b.node_id.size() + 8 + 32 + 2 + b.entries.size() * 12);
  w.U8(kUsageBatchVersion);
  w.U16BE(static_cast<uint16_t>(b.chain_id.size()));
  w.Bytes(b.chain_id);
  w.U16BE(static_cast<uint16_t>(b.node_id.size()));
  w.Bytes(b.node_id);
  w.U64BE(b.batch_seq);
  const seal::Digest32 requesters = digest.Finish();
  w.Bytes(ByteView(requesters));
  CMLN_TRY(w.QuicVarint(b.entries.size()));
  prev = 0;
  for (size_t i = 0; i < b.entries.size(); ++i) {
    const UsageEntry& e = b.entries[i];
    Status st = w.QuicVarint(e.escrow_id - prev);
    if (st.ok()) st = w.QuicVarint(e.requests);
    if (st.ok()) st = w.QuicVarint(e.prompt_tokens);
    if (st.ok()) st = w.QuicVarint(e.completion_tokens);
    if (st.ok()) st = w.QuicVarint(e.cost);
    if (!st.ok()) {
      return Error(ErrorCode::kInvalidArgument, "usage batch: entry " + std::to_string(i) + " has a value >= 2^62");
    }
    prev = e.escrow_id;
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

// A varint in its shortest form: ByteReader accepts padded forms (RFC 9000 permits them), but a signed
// batch must have exactly one encoding, so a padded varint is kMalformed.
Result<uint64_t> ReadMinimalVarint(ByteReader& r, const char* field) {
  const size_t at = r.offset();
  CMLN_ASSIGN_OR_RETURN(uint64_t v, r.QuicVarint(field));
  if (r.offset() - at != QuicVarintSize(v)) {
    return Error(ErrorCode::kMalformed,
                 std::string("usage batch: ") + field + " varint at offset " + std::to_string(at) + " is not minimal");
  }
  return v;
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
  CMLN_TRY(r.Array(b.requesters_digest, "requesters_digest"));
  size_t count_offset = r.offset();
  CMLN_ASSIGN_OR_RETURN(uint64_t count, ReadMinimalVarint(r, "entry_count"));
  if (count == 0) {
    return Error(ErrorCode::kMalformed, "usage batch: no entries at offset " + std::to_string(count_offset));
  }
  if (count > kMaxBatchEntries) {
    return Error(ErrorCode::kLengthTooLarge, "usage batch: entry_count " + std::to_string(count) + " at offset " +
                                                 std::to_string(count_offset) + " exceeds cap");
  }
  if (r.remaining() < static_cast<size_t>(count) * kMinUsageEntrySize) {
    return Error(ErrorCode::kTruncated, "usage batch: entries truncated at offset " + std::to_string(r.offset()));
  }
  b.entries.resize(static_cast<size_t>(count));
  uint64_t prev = 0;
  for (UsageEntry& e : b.entries) {
    const size_t at = r.offset();
    CMLN_ASSIGN_OR_RETURN(uint64_t delta, ReadMinimalVarint(r, "escrow_delta"));
    if (delta == 0) {
      return Error(ErrorCode::kMalformed, "usage batch: escrow_delta 0 at offset " + std::to_string(at));
    }
    if (delta >= kVarintLimit - prev) {
      return Error(ErrorCode::kMalformed, "usage batch: escrow_id >= 2^62 at offset " + std::to_string(at));
    }
    e.escrow_id = prev + delta;
    prev = e.escrow_id;
    CMLN_ASSIGN_OR_RETURN(e.requests, ReadMinimalVarint(r, "requests"));
    CMLN_ASSIGN_OR_RETURN(e.prompt_tokens, ReadMinimalVarint(r, "prompt_tokens"));
    CMLN_ASSIGN_OR_RETURN(e.completion_tokens, ReadMinimalVarint(r, "completion_tokens"));
    CMLN_ASSIGN_OR_RETURN(e.cost, ReadMinimalVarint(r, "cost"));
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
