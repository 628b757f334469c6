#include "chain/rest_records.h"

#include <gtest/gtest.h>

namespace cmln::chain {
namespace {

template <typename T>
ErrorCode CodeOf(const Result<T>& r) {
  return r.ok() ? ErrorCode::kOk : r.error().code();
}

const std::string kHash32 = std::string(64, 'a');

TEST(RestRecords, AttestationParsesAndRefuses) {
  nlohmann::json a = {{"node_id", "n"}, {"participant", "p"}, {"model_id", "m"}, {"endpoint", "http://x"},
                      {"release_id", "r"}, {"platform", "sim-tdx"}, {"simulated", true},
                      {"status", "ATTESTATION_STATUS_VERIFIED"}, {"sign_public_key", "00ff"},
                      {"ohttp_key_config", "01"}, {"bundle", Base64Encode(AsBytes(std::string("{}")))},
                      {"bundle_hash", "ab"}, {"attested_epoch", "3"}, {"expires_after_epoch", "5"},
                      {"last_batch_seq", "7"}, {"status_reason", ""}};
  auto r = ParseAttestationRecord(a);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->bundle_json, "{}");
  EXPECT_EQ(r->expires_after_epoch, 5u);
  EXPECT_EQ(r->last_batch_seq, 7u);
  EXPECT_EQ(r->sign_public_key, (Bytes{0x00, 0xff}));
  nlohmann::json missing = a;
  missing.erase("endpoint");
  EXPECT_EQ(CodeOf(ParseAttestationRecord(missing)), ErrorCode::kMalformed);
  nlohmann::json no_seq = a;
  no_seq.erase("last_batch_seq");
  EXPECT_EQ(CodeOf(ParseAttestationRecord(no_seq)), ErrorCode::kMalformed);
  nlohmann::json bad_hex = a;
  bad_hex["sign_public_key"] = "zz";
  EXPECT_EQ(CodeOf(ParseAttestationRecord(bad_hex)), ErrorCode::kBadEncoding);
  nlohmann::json bad_u64 = a;
  bad_u64["attested_epoch"] = "-1";
  EXPECT_EQ(CodeOf(ParseAttestationRecord(bad_u64)), ErrorCode::kMalformed);
}

TEST(RestRecords, StatusCarriesTheEpochNonce) {
  nlohmann::json s = {{"chain_id", "c"}, {"height", "12"}, {"epoch", "2"}, {"epoch_nonce", kHash32}};
  auto r = ParseChainStatus(s);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->epoch, 2u);
  EXPECT_EQ(r->epoch_nonce.size(), 32u);
  nlohmann::json short_nonce = s;
  short_nonce["epoch_nonce"] = "abcd";
  EXPECT_EQ(CodeOf(ParseChainStatus(short_nonce)), ErrorCode::kMalformed);
  nlohmann::json no_nonce = s;
  no_nonce.erase("epoch_nonce");
  EXPECT_EQ(CodeOf(ParseChainStatus(no_nonce)), ErrorCode::kMalformed);
}

TEST(RestRecords, EscrowCarriesTheCreatorKeyHash) {
  nlohmann::json e = {{"id", "4"},        {"creator", "gonka1x"}, {"model_id", "m"},
                      {"amount", "100"},  {"remaining", "60"},    {"settled", "40"},
                      {"refunded", "0"},  {"status", "ESCROW_STATUS_OPEN"},
                      {"created_epoch", "1"}, {"creator_key_hash", kHash32}};
  auto r = ParseEscrow(e);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->remaining, 60u);
  EXPECT_EQ(r->status, kEscrowStatusOpen);
  EXPECT_EQ(r->creator_key_hash, Bytes(32, 0xaa));
  nlohmann::json short_hash = e;
  short_hash["creator_key_hash"] = "aa";
  EXPECT_EQ(CodeOf(ParseEscrow(short_hash)), ErrorCode::kMalformed);
}

}  // namespace
}  // namespace cmln::chain
