// The canonical usage batch codec (layout version 2): round trip, requesters digest, signature domain,
// the size per entry, and every malformed-input code (one encoding per batch: no padded varints).
#include <gtest/gtest.h>

#include "chain/usage_batch.h"
#include "common/byte_reader.h"

namespace cmln::chain {
namespace {

UsageBatch Sample() {
  UsageBatch b{"cmln-test", "node-1", 7, {}};
  for (uint64_t id : {3u, 9u}) {
    UsageEntry e;
    e.escrow_id = id;
    e.requester_key_hash.fill(static_cast<uint8_t>(id));
    e.requests = 2;
    e.prompt_tokens = 100;
    e.completion_tokens = 50;
    e.cost = 150;
    b.entries.push_back(e);
  }
  return b;
}

// Offsets in Sample()'s encoding.
constexpr size_t kDigestAt = 1 + 2 + 9 + 2 + 6 + 8;
constexpr size_t kCountAt = kDigestAt + 32;
constexpr size_t kFirstEntryAt = kCountAt + 1;
// Each Sample() entry: delta (1 byte) requests (1) prompt_tokens 100 (2) completion_tokens 50 (1) cost 150 (2).
constexpr size_t kSampleEntrySize = 1 + 1 + 2 + 1 + 2;

seal::Digest32 ExpectedDigest(const UsageBatch& b) {
  Bytes pre = ToBytes(AsBytes(kUsageRequestersDomain));
  for (const UsageEntry& e : b.entries) {
    uint8_t id[8];
    StoreU64BE(id, e.escrow_id);
    Append(pre, ByteView(id, 8));
    Append(pre, ByteView(e.requester_key_hash));
  }
  return seal::Sha256(pre);
}

TEST(UsageBatch, RoundTripAndLayout) {
  Bytes bytes = *EncodeUsageBatch(Sample());
  EXPECT_EQ(bytes.size(), kFirstEntryAt + 2 * kSampleEntrySize);
  EXPECT_EQ(bytes[0], 2);
  EXPECT_EQ(bytes[kCountAt], 2);  // entry_count varint
  // Entries: delta 3 then 6, each followed by requests 2, 100 (0x4064), 50, 150 (0x4096).
  const Bytes entries(bytes.begin() + kFirstEntryAt, bytes.end());
  EXPECT_EQ(entries, (Bytes{3, 2, 0x40, 100, 50, 0x40, 150, 6, 2, 0x40, 100, 50, 0x40, 150}));
  auto d = DecodeUsageBatch(bytes);
  ASSERT_TRUE(d.ok()) << d.error().ToString();
  EXPECT_EQ(d->chain_id, "cmln-test");
  EXPECT_EQ(d->node_id, "node-1");
  EXPECT_EQ(d->batch_seq, 7u);
  ASSERT_EQ(d->entries.size(), 2u);
  EXPECT_EQ(d->entries[0].escrow_id, 3u);
  EXPECT_EQ(d->entries[1].escrow_id, 9u);
  EXPECT_EQ(d->entries[1].requests, 2u);
  EXPECT_EQ(d->entries[1].prompt_tokens, 100u);
  EXPECT_EQ(d->entries[1].completion_tokens, 50u);
  EXPECT_EQ(d->entries[1].cost, 150u);
  // The key hashes are folded into one digest; decoding cannot recover them.
  EXPECT_EQ(d->entries[0].requester_key_hash, seal::Digest32{});
  EXPECT_EQ(d->requesters_digest, ExpectedDigest(Sample()));
  EXPECT_EQ(ToBytes(ByteView(bytes).subspan(kDigestAt, 32)), ToBytes(ByteView(d->requesters_digest)));
  // Re-encoding the decoded batch with the original key hashes gives the same bytes.
  UsageBatch again = *d;
  again.entries[0].requester_key_hash.fill(3);
  again.entries[1].requester_key_hash.fill(9);
  EXPECT_EQ(*EncodeUsageBatch(again), bytes);
}

TEST(UsageBatch, DigestBindsEveryKeyHashAndItsEscrow) {
  const seal::Digest32 base = DecodeUsageBatch(*EncodeUsageBatch(Sample()))->requesters_digest;
  UsageBatch other_key = Sample();
  other_key.entries[1].requester_key_hash[31] ^= 1;
  EXPECT_NE(DecodeUsageBatch(*EncodeUsageBatch(other_key))->requesters_digest, base);
  // Same keys, swapped between the escrows: a different digest.
  UsageBatch swapped = Sample();
  std::swap(swapped.entries[0].requester_key_hash, swapped.entries[1].requester_key_hash);
  EXPECT_NE(DecodeUsageBatch(*EncodeUsageBatch(swapped))->requesters_digest, base);
  // The digest field of the input struct is ignored by the encoder.
  UsageBatch stale = Sample();
  stale.requesters_digest.fill(0xAB);
  EXPECT_EQ(*EncodeUsageBatch(stale), *EncodeUsageBatch(Sample()));
  // RequestersDigest is the same function the chain runs over its escrows' creator key hashes.
  RequestersDigest rd;
  for (const UsageEntry& e : Sample().entries) rd.Add(e.escrow_id, ByteView(e.requester_key_hash));
  EXPECT_EQ(rd.Finish(), base);
}

TEST(UsageBatch, WorstCaseEntryIsSmall) {
  // One inference per escrow, consecutive escrows, realistic counts: 1 + 1 + 2 + 2 + 4 bytes per entry.
  UsageBatch b{"gonka-mainnet", "node-1", 1, {}};
  for (uint64_t i = 0; i < kMaxBatchEntries; ++i) {
    UsageEntry e;
    e.escrow_id = 1000 + i;
    e.requests = 1;
    e.prompt_tokens = 500;
    e.completion_tokens = 300;
    e.cost = 800'000;
    b.entries.push_back(e);
  }
  Bytes bytes = *EncodeUsageBatch(b);
  const size_t header = 1 + 2 + 13 + 2 + 6 + 8 + 32 + 2;  // entry_count 4096 is a 2-byte varint
  EXPECT_EQ(bytes.size(), header + kMaxBatchEntries * 10 + 1);  // + 1: the first delta (1000) takes 2 bytes
  EXPECT_LE(bytes.size(), kMaxUsageBatchSize);
  auto d = DecodeUsageBatch(bytes);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->entries.back().escrow_id, 1000 + kMaxBatchEntries - 1);
}

TEST(UsageBatch, LargestValuesRoundTrip) {
  UsageBatch b = Sample();
  const uint64_t max = (uint64_t{1} << 62) - 1;
  b.entries[1].escrow_id = max;
  b.entries[1].requests = max;
  b.entries[1].prompt_tokens = max;
  b.entries[1].completion_tokens = max;
  b.entries[1].cost = max;
  Bytes bytes = *EncodeUsageBatch(b);
  auto d = DecodeUsageBatch(bytes);
  ASSERT_TRUE(d.ok()) << d.error().ToString();
  EXPECT_EQ(d->entries[1].escrow_id, max);
  EXPECT_EQ(d->entries[1].cost, max);
}

TEST(UsageBatch, SignatureCoversEveryByteWithDomain) {
  auto key = *seal::Ed25519PrivateKey::FromSeed(Bytes(32, 1));
  Bytes bytes = *EncodeUsageBatch(Sample());
  auto sig = *SignUsageBatch(key, bytes);
  EXPECT_TRUE(VerifyUsageBatch(key.public_key(), bytes, sig).ok());
  // A signature over the bare bytes (no domain) does not verify.
  auto bare = *key.Sign(bytes);
  EXPECT_EQ(VerifyUsageBatch(key.public_key(), bytes, bare).error().code(), ErrorCode::kBadSignature);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    Bytes t = bytes;
    t[i] ^= 0x80;
    EXPECT_EQ(VerifyUsageBatch(key.public_key(), t, sig).error().code(), ErrorCode::kBadSignature) << i;
  }
}

TEST(UsageBatch, EncoderRefusesWhatHasNoEncoding) {
  UsageBatch empty = Sample();
  empty.entries.clear();
  EXPECT_EQ(EncodeUsageBatch(empty).error().code(), ErrorCode::kInvalidArgument);
  UsageBatch zero_id = Sample();
  zero_id.entries[0].escrow_id = 0;  // the first delta is from 0 and must be >= 1
  EXPECT_EQ(EncodeUsageBatch(zero_id).error().code(), ErrorCode::kInvalidArgument);
  UsageBatch dup = Sample();
  dup.entries[1].escrow_id = 3;
  EXPECT_EQ(EncodeUsageBatch(dup).error().code(), ErrorCode::kInvalidArgument);
  UsageBatch unsorted = Sample();
  unsorted.entries[1].escrow_id = 2;
  EXPECT_EQ(EncodeUsageBatch(unsorted).error().code(), ErrorCode::kInvalidArgument);
  UsageBatch huge_id = Sample();
  huge_id.entries[1].escrow_id = uint64_t{1} << 62;
  EXPECT_EQ(EncodeUsageBatch(huge_id).error().code(), ErrorCode::kInvalidArgument);
  UsageBatch huge_cost = Sample();
  huge_cost.entries[0].cost = uint64_t{1} << 62;
  EXPECT_EQ(EncodeUsageBatch(huge_cost).error().code(), ErrorCode::kInvalidArgument);
  UsageBatch too_many = Sample();
  too_many.entries.clear();
  for (uint64_t i = 1; i <= kMaxBatchEntries + 1; ++i) too_many.entries.push_back(UsageEntry{i, {}, 1, 1, 1, 1});
  EXPECT_EQ(EncodeUsageBatch(too_many).error().code(), ErrorCode::kInvalidArgument);
}

Bytes Splice(const Bytes& b, size_t at, size_t erase, const Bytes& insert) {
  Bytes out(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(at));
  Append(out, insert);
  out.insert(out.end(), b.begin() + static_cast<std::ptrdiff_t>(at + erase), b.end());
  return out;
}

TEST(UsageBatch, MalformedInputsHaveStableCodes) {
  Bytes good = *EncodeUsageBatch(Sample());
  for (size_t n = 0; n < good.size(); ++n) {
    auto r = DecodeUsageBatch(ByteView(good.data(), n));
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.error().code(), ErrorCode::kTruncated) << n;
  }
  Bytes trailing = good;
  trailing.push_back(0);
  EXPECT_EQ(DecodeUsageBatch(trailing).error().code(), ErrorCode::kTrailingData);
  Bytes v1 = good;
  v1[0] = 1;  // the fixed-width layout of version 1 is no longer accepted
  EXPECT_EQ(DecodeUsageBatch(v1).error().code(), ErrorCode::kUnsupported);
  Bytes v3 = good;
  v3[0] = 3;
  EXPECT_EQ(DecodeUsageBatch(v3).error().code(), ErrorCode::kUnsupported);
  // entry_count 4097 (2-byte varint 0x5001) exceeds the cap.
  EXPECT_EQ(DecodeUsageBatch(Splice(good, kCountAt, 1, {0x50, 0x01})).error().code(), ErrorCode::kLengthTooLarge);
  // entry_count 0.
  EXPECT_EQ(DecodeUsageBatch(Splice(good, kCountAt, 1, {0x00})).error().code(), ErrorCode::kMalformed);
  // entry_count 3 with only two entries' bytes.
  EXPECT_EQ(DecodeUsageBatch(Splice(good, kCountAt, 1, {0x03})).error().code(), ErrorCode::kTruncated);
  // A huge count in a long varint is refused by the cap before anything is allocated.
  EXPECT_EQ(DecodeUsageBatch(Splice(good, kCountAt, 1, {0xbf, 0xff, 0xff, 0xff})).error().code(),
            ErrorCode::kLengthTooLarge);
  // Zero escrow delta (a repeated escrow) in the second entry, and in the first (escrow_id 0).
  Bytes dup = good;
  dup[kFirstEntryAt + kSampleEntrySize] = 0;
  EXPECT_EQ(DecodeUsageBatch(dup).error().code(), ErrorCode::kMalformed);
  Bytes zero_first = good;
  zero_first[kFirstEntryAt] = 0;
  EXPECT_EQ(DecodeUsageBatch(zero_first).error().code(), ErrorCode::kMalformed);
  // escrow_id past 2^62 - 1: first delta 2^62 - 1 (max varint) then any delta >= 1.
  EXPECT_EQ(DecodeUsageBatch(Splice(good, kFirstEntryAt, 1, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}))
                .error()
                .code(),
            ErrorCode::kMalformed);
  // Non-minimal varints: same values, padded forms, in every varint position.
  EXPECT_EQ(DecodeUsageBatch(Splice(good, kCountAt, 1, {0x40, 0x02})).error().code(), ErrorCode::kMalformed);
  for (size_t field = 0; field < 5; ++field) {
    // Positions of the five varints of the first entry and their minimal bytes.
    const size_t at[5] = {0, 1, 2, 4, 5};
    const size_t len[5] = {1, 1, 2, 1, 2};
    const size_t pos = kFirstEntryAt + at[field];
    uint64_t v = 0;
    for (size_t i = 0; i < len[field]; ++i) v = (v << 8) | (good[pos + i] & (i == 0 ? 0x3f : 0xff));
    Bytes padded{0x80, 0, static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};  // 4-byte form
    EXPECT_EQ(DecodeUsageBatch(Splice(good, pos, len[field], padded)).error().code(), ErrorCode::kMalformed) << field;
  }
  Bytes zero_seq = good;
  zero_seq[kDigestAt - 1] = 0;  // batch_seq 7 -> 0
  EXPECT_EQ(DecodeUsageBatch(zero_seq).error().code(), ErrorCode::kMalformed);
  Bytes long_id = good;
  long_id[1] = 0x01;  // chain_id length 265 > 64
  EXPECT_EQ(DecodeUsageBatch(long_id).error().code(), ErrorCode::kLengthTooLarge);
  Bytes empty_id = good;
  empty_id[1] = 0;
  empty_id[2] = 0;
  EXPECT_EQ(DecodeUsageBatch(empty_id).error().code(), ErrorCode::kMalformed);
}

}  // namespace
}  // namespace cmln::chain
