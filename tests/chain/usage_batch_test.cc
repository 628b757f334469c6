// The canonical usage batch codec: round trip, signature domain, and every malformed-input code.
#include <gtest/gtest.h>

#include "chain/usage_batch.h"

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

TEST(UsageBatch, RoundTripAndLayout) {
  Bytes bytes = *EncodeUsageBatch(Sample());
  EXPECT_EQ(bytes.size(), 1 + 2 + 9 + 2 + 6 + 8 + 4 + 2 * kUsageEntrySize);
  auto d = DecodeUsageBatch(bytes);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->chain_id, "cmln-test");
  EXPECT_EQ(d->node_id, "node-1");
  EXPECT_EQ(d->batch_seq, 7u);
  ASSERT_EQ(d->entries.size(), 2u);
  EXPECT_EQ(d->entries[1].escrow_id, 9u);
  EXPECT_EQ(*EncodeUsageBatch(*d), bytes);
}

TEST(UsageBatch, SignatureCoversEveryByteWithDomain) {
  auto key = *seal::Ed25519PrivateKey::FromSeed(Bytes(32, 1));
  Bytes bytes = *EncodeUsageBatch(Sample());
  auto sig = *SignUsageBatch(key, bytes);
  EXPECT_TRUE(VerifyUsageBatch(key.public_key(), bytes, sig).ok());
  // A signature over the bare bytes (no domain) does not verify.
  auto bare = *key.Sign(bytes);
  EXPECT_EQ(VerifyUsageBatch(key.public_key(), bytes, bare).error().code(), ErrorCode::kBadSignature);
  for (size_t i = 0; i < bytes.size(); i += 7) {
    Bytes t = bytes;
    t[i] ^= 0x80;
    EXPECT_EQ(VerifyUsageBatch(key.public_key(), t, sig).error().code(), ErrorCode::kBadSignature) << i;
  }
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
  Bytes version = good;
  version[0] = 2;
  EXPECT_EQ(DecodeUsageBatch(version).error().code(), ErrorCode::kUnsupported);
  Bytes huge_count = good;
  const size_t count_at = 1 + 2 + 9 + 2 + 6 + 8;
  huge_count[count_at] = 0xff;
  EXPECT_EQ(DecodeUsageBatch(huge_count).error().code(), ErrorCode::kLengthTooLarge);
  Bytes unsorted = good;
  unsorted[count_at + 4 + kUsageEntrySize + 7] = 2;  // second escrow id 9 -> 2 < 3
  EXPECT_EQ(DecodeUsageBatch(unsorted).error().code(), ErrorCode::kMalformed);
  Bytes zero_seq = good;
  zero_seq[count_at - 1] = 0;  // batch_seq 7 -> 0
  EXPECT_EQ(DecodeUsageBatch(zero_seq).error().code(), ErrorCode::kMalformed);
  Bytes long_id = good;
  long_id[1] = 0x01;  // chain_id length 265 > 64
  EXPECT_EQ(DecodeUsageBatch(long_id).error().code(), ErrorCode::kLengthTooLarge);
  UsageBatch empty = Sample();
  empty.entries.clear();
  EXPECT_EQ(EncodeUsageBatch(empty).error().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace cmln::chain
