#include "seal/inference_protocol.h"

#include <gtest/gtest.h>

namespace cmln::seal {
namespace {

constexpr std::string_view kContent = R"({"model":"m","messages":[{"role":"user","content":"hi"}]})";

AccountPrivateKey Requester() {
  Bytes scalar(32, 0);
  scalar[31] = 7;
  return std::move(AccountPrivateKey::FromBytes(scalar).value());
}

RequestAuthorization MakeAuth() {
  return SignAuthorization(Requester(), "cmln-devnet", "node-1", 3, 1700000000, AsBytes(kContent)).value();
}

TEST(InferenceProtocol, AuthorizationRoundTripsAndVerifies) {
  const RequestAuthorization auth = MakeAuth();
  EXPECT_EQ(auth.request_digest, Sha256(AsBytes(kContent)));
  Bytes wire = EncodeAuthorization(auth).value();
  EXPECT_EQ(wire.size(), 1u + 2 + 11 + 2 + 6 + 8 + 33 + 8 + 32 + 64);
  auto decoded = DecodeAuthorization(wire);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  EXPECT_EQ(*decoded, auth);
  EXPECT_TRUE(VerifyAuthorizationSignature(*decoded).ok());
}

TEST(InferenceProtocol, C1_AuthorizationFieldChangeBreaksSignature) {
  // Every signed field is covered: changing the node, escrow, time or digest invalidates the signature.
  for (int field = 0; field < 5; ++field) {
    RequestAuthorization auth = MakeAuth();
    switch (field) {
      case 0: auth.node_id = "node-2"; break;
      case 1: auth.escrow_id = 4; break;
      case 2: auth.timestamp += 1; break;
      case 3: auth.request_digest[0] ^= 1; break;
      case 4: auth.chain_id = "other-chain"; break;
    }
    EXPECT_EQ(VerifyAuthorizationSignature(auth).error().code(), ErrorCode::kBadSignature) << "field " << field;
  }
}

TEST(InferenceProtocol, C1_AuthorizationSignedBySomeoneElseFailsUnderTheClaimedKey) {
  RequestAuthorization auth = MakeAuth();
  Bytes other(32, 0);
  other[31] = 9;
  auth.requester_public_key = AccountPrivateKey::FromBytes(other).value().public_key();
  EXPECT_EQ(VerifyAuthorizationSignature(auth).error().code(), ErrorCode::kBadSignature);
}

TEST(InferenceProtocol, AuthorizationDecodeErrors) {
  Bytes wire = EncodeAuthorization(MakeAuth()).value();
  for (size_t n = 0; n < wire.size(); ++n) {
    auto r = DecodeAuthorization(ByteView(wire).first(n));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::kTruncated) << n;
  }
  Bytes longer = wire;
  longer.push_back(0);
  EXPECT_EQ(DecodeAuthorization(longer).error().code(), ErrorCode::kTrailingData);
  Bytes version = wire;
  version[0] = 2;
  EXPECT_EQ(DecodeAuthorization(version).error().code(), ErrorCode::kUnsupported);
  Bytes huge_id = wire;
  huge_id[1] = 0x01;  // chain_id length 256 + 11
  EXPECT_EQ(DecodeAuthorization(huge_id).error().code(), ErrorCode::kLengthTooLarge);
  Bytes space = wire;
  space[3] = ' ';
  EXPECT_EQ(DecodeAuthorization(space).error().code(), ErrorCode::kMalformed);
  Bytes zero_escrow = wire;
  for (size_t i = 0; i < 8; ++i) zero_escrow[1 + 2 + 11 + 2 + 6 + i] = 0;
  EXPECT_EQ(DecodeAuthorization(zero_escrow).error().code(), ErrorCode::kMalformed);
  Bytes bad_point = wire;
  bad_point[1 + 2 + 11 + 2 + 6 + 8] = 0x04;
  EXPECT_EQ(DecodeAuthorization(bad_point).error().code(), ErrorCode::kMalformed);
}

TEST(InferenceProtocol, SignAuthorizationRefusesBadIds) {
  EXPECT_EQ(SignAuthorization(Requester(), "", "n", 1, 0, {}).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(SignAuthorization(Requester(), "c", "has space", 1, 0, {}).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(SignAuthorization(Requester(), "c", "n", 0, 0, {}).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(SignAuthorization(Requester(), std::string(129, 'c'), "n", 1, 0, {}).error().code(),
            ErrorCode::kInvalidArgument);
}

Receipt MakeReceipt(const Ed25519PrivateKey& key) {
  Receipt r;
  r.chain_id = "cmln-devnet";
  r.node_id = "node-1";
  r.escrow_id = 3;
  r.requester_key_hash = RequesterKeyHash(Requester().public_key());
  r.request_digest = Sha256(AsBytes(kContent));
  r.response_digest = Sha256(AsBytes("answer"));
  r.prompt_tokens = 12;
  r.completion_tokens = 30;
  r.cost = 42;
  r.sequence = 1;
  return SignReceipt(key, r).value();
}

TEST(InferenceProtocol, ReceiptRoundTripsAndVerifies) {
  const Ed25519PrivateKey key = Ed25519PrivateKey::Generate();
  const Receipt receipt = MakeReceipt(key);
  Bytes wire = EncodeReceipt(receipt).value();
  auto decoded = DecodeReceipt(wire);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  EXPECT_EQ(*decoded, receipt);
  EXPECT_TRUE(VerifyReceiptSignature(*decoded, ByteView(key.public_key())).ok());
  EXPECT_EQ(RequesterKeyHash(Requester().public_key()), Sha256(ByteView(Requester().public_key())));
}

TEST(InferenceProtocol, B5_TamperedReceiptOrOtherKeyFails) {
  const Ed25519PrivateKey key = Ed25519PrivateKey::Generate();
  Receipt receipt = MakeReceipt(key);
  receipt.cost += 1;
  EXPECT_EQ(VerifyReceiptSignature(receipt, ByteView(key.public_key())).error().code(), ErrorCode::kBadSignature);
  const Receipt good = MakeReceipt(key);
  const Ed25519PrivateKey other = Ed25519PrivateKey::Generate();
  EXPECT_EQ(VerifyReceiptSignature(good, ByteView(other.public_key())).error().code(), ErrorCode::kBadSignature);
}

TEST(InferenceProtocol, ReceiptDecodeErrors) {
  const Ed25519PrivateKey key = Ed25519PrivateKey::Generate();
  Bytes wire = EncodeReceipt(MakeReceipt(key)).value();
  for (size_t n = 0; n < wire.size(); ++n) {
    EXPECT_EQ(DecodeReceipt(ByteView(wire).first(n)).error().code(), ErrorCode::kTruncated) << n;
  }
  Bytes zero_seq = wire;
  for (size_t i = 0; i < 8; ++i) zero_seq[wire.size() - 64 - 8 + i] = 0;
  EXPECT_EQ(DecodeReceipt(zero_seq).error().code(), ErrorCode::kMalformed);
  Receipt unsigned_receipt = MakeReceipt(key);
  unsigned_receipt.sequence = 0;
  EXPECT_EQ(SignReceipt(key, unsigned_receipt).error().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace cmln::seal
