// Unit tests of seal/crypto.h: the error contract of each primitive (exact ErrorCodes for bad input)
// and properties the known-answer files do not reach (every tag bit, truncation, incremental hashing,
// HKDF output bounds, prepared X25519 keys).
#include "seal/crypto.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "testing/test_util.h"

namespace cmln::seal {
namespace {

using testing::Hex;

constexpr AeadAlgorithm kAllAeads[] = {AeadAlgorithm::kAes128Gcm, AeadAlgorithm::kAes256Gcm,
                                       AeadAlgorithm::kChaCha20Poly1305};

std::string AeadName(AeadAlgorithm a) {
  switch (a) {
    case AeadAlgorithm::kAes128Gcm: return "AES-128-GCM";
    case AeadAlgorithm::kAes256Gcm: return "AES-256-GCM";
    case AeadAlgorithm::kChaCha20Poly1305: return "ChaCha20-Poly1305";
  }
  return "?";
}

Bytes Pattern(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + 7 * i);
  return b;
}

// --- hashes, HMAC, HKDF ------------------------------------------------------------------------

TEST(Sha, KnownAnswersForAbc) {
  // FIPS 180-2 appendix examples. SHA-512("abc") is also the message of RFC 8032's "TEST SHA(abc)".
  const Digest32 d256 = Sha256(AsBytes("abc"));
  EXPECT_EQ(HexEncode(d256), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const Digest64 d512 = Sha512(AsBytes("abc"));
  EXPECT_EQ(HexEncode(d512),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
  EXPECT_EQ(HexEncode(Sha256({})), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256Hasher, IncrementalEqualsOneShotAtEverySplit) {
  const Bytes data = Pattern(300, 3);
  const Digest32 want = Sha256(data);
  for (size_t split = 0; split <= data.size(); ++split) {
    Sha256Hasher h;
    h.Update(ByteView(data).first(split));
    h.Update({});  // empty updates change nothing
    h.Update(ByteView(data).subspan(split));
    ASSERT_EQ(h.Finish(), want) << "split at " << split;
  }
}

TEST(Sha256Hasher, ByteAtATimeAndBlockBoundaries) {
  for (size_t len : {0u, 1u, 55u, 56u, 63u, 64u, 65u, 119u, 128u, 1000u}) {
    const Bytes data = Pattern(len, static_cast<uint8_t>(len));
    Sha256Hasher h;
    for (uint8_t b : data) h.Update(ByteView(&b, 1));
    EXPECT_EQ(h.Finish(), Sha256(data)) << "length " << len;
  }
}

TEST(Hmac, Rfc4231KnownAnswers) {
  // RFC 4231 test cases 1, 2, 6 (key longer than the block) and 7 (key and data longer than the block).
  EXPECT_EQ(HexEncode(HmacSha256(Bytes(20, 0x0b), AsBytes("Hi There"))),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(HexEncode(HmacSha256(AsBytes("Jefe"), AsBytes("what do ya want for nothing?"))),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(HexEncode(HmacSha256(Bytes(131, 0xaa), AsBytes("Test Using Larger Than Block-Size Key - Hash Key First"))),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  EXPECT_EQ(HexEncode(HmacSha256(Bytes(131, 0xaa),
                                 AsBytes("This is a test using a larger than block-size key and a larger than "
                                         "block-size data. The key needs to be hashed before being used by the "
                                         "HMAC algorithm."))),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

TEST(Hmac, KeysAroundTheBlockSize) {
  // A key longer than 64 bytes is hashed first; a key of exactly 64 bytes is used as is.
  const Bytes data = ToBytes(std::string_view("data"));
  const Bytes long_key = Pattern(65, 1);
  const Digest32 hashed = Sha256(long_key);
  EXPECT_EQ(HmacSha256(long_key, data), HmacSha256(hashed, data));
  const Bytes block_key = Pattern(64, 2);
  EXPECT_NE(HmacSha256(block_key, data), HmacSha256(Sha256(block_key), data));
  // Trailing zero bytes pad to the same block: HMAC's documented key equivalence.
  EXPECT_EQ(HmacSha256(Bytes{}, data), HmacSha256(Bytes(32, 0), data));
}

TEST(Hkdf, ExpandLengthBounds) {
  const SecretBytes prk = HkdfExtract(AsBytes("salt"), AsBytes("ikm"));
  ASSERT_EQ(prk.size(), 32u);

  auto max = HkdfExpand(prk.view(), AsBytes("info"), 255 * 32);
  ASSERT_TRUE(max.ok());
  EXPECT_EQ(max->size(), 255u * 32u);

  for (size_t len : {size_t{255 * 32 + 1}, size_t{255 * 32 + 32}, size_t{1} << 20, ~size_t{0}}) {
    auto over = HkdfExpand(prk.view(), AsBytes("info"), len);
    ASSERT_FALSE(over.ok()) << len;
    EXPECT_EQ(over.error().code(), ErrorCode::kInvalidArgument);
  }

  auto empty = HkdfExpand(prk.view(), AsBytes("info"), 0);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(Hkdf, ShorterOutputsArePrefixes) {
  const SecretBytes prk = HkdfExtract({}, AsBytes("input keying material"));
  auto full = HkdfExpand(prk.view(), AsBytes("ctx"), 100);
  ASSERT_TRUE(full.ok());
  for (size_t len : {1u, 31u, 32u, 33u, 64u, 99u}) {
    auto part = HkdfExpand(prk.view(), AsBytes("ctx"), len);
    ASSERT_TRUE(part.ok());
    EXPECT_EQ(ToBytes(part->view()), ToBytes(full->view().first(len))) << len;
  }
  auto other_info = HkdfExpand(prk.view(), AsBytes("cty"), 32);
  ASSERT_TRUE(other_info.ok());
  EXPECT_NE(ToBytes(other_info->view()), ToBytes(full->view().first(32)));
}

TEST(Random, FillsAndDiffers) {
  std::set<Bytes> seen;
  for (int i = 0; i < 16; ++i) {
    Bytes b(32, 0);
    RandomBytes(b);
    seen.insert(b);
  }
  EXPECT_EQ(seen.size(), 16u);
  RandomBytes(std::span<uint8_t>());  // empty: no-op, no abort
}

// --- AEAD ----------------------------------------------------------------------------------------

TEST(Aead, KeySizes) {
  EXPECT_EQ(AeadKeySize(AeadAlgorithm::kAes128Gcm), 16u);
  EXPECT_EQ(AeadKeySize(AeadAlgorithm::kAes256Gcm), 32u);
  EXPECT_EQ(AeadKeySize(AeadAlgorithm::kChaCha20Poly1305), 32u);
}

TEST(Aead, WrongKeySizeIsInvalidKey) {
  for (AeadAlgorithm alg : kAllAeads) {
    SCOPED_TRACE(AeadName(alg));
    for (size_t len : {0u, 1u, 15u, 17u, 24u, 31u, 33u, 64u}) {
      if (len == AeadKeySize(alg)) continue;
      auto a = Aead::Create(alg, Bytes(len, 0x42));
      ASSERT_FALSE(a.ok()) << len;
      EXPECT_EQ(a.error().code(), ErrorCode::kInvalidKey) << len;
    }
    auto good = Aead::Create(alg, Bytes(AeadKeySize(alg), 0x42));
    ASSERT_TRUE(good.ok());
    EXPECT_EQ(good->algorithm(), alg);
  }
}

TEST(Aead, RoundTripIncludingEmptyParts) {
  for (AeadAlgorithm alg : kAllAeads) {
    SCOPED_TRACE(AeadName(alg));
    auto a = Aead::Create(alg, Pattern(AeadKeySize(alg), 9));
    ASSERT_TRUE(a.ok());
    const Bytes nonce = Pattern(kAeadNonceSize, 1);
    for (size_t pt_len : {0u, 1u, 15u, 16u, 17u, 1000u}) {
      for (size_t aad_len : {0u, 5u, 64u}) {
        const Bytes pt = Pattern(pt_len, 4);
        const Bytes aad = Pattern(aad_len, 5);
        auto ct = a->Seal(nonce, aad, pt);
        ASSERT_TRUE(ct.ok());
        ASSERT_EQ(ct->size(), pt_len + kAeadTagSize);
        auto back = a->Open(nonce, aad, *ct);
        ASSERT_TRUE(back.ok()) << back.error().ToString();
        EXPECT_EQ(*back, pt);
      }
    }
  }
}

TEST(Aead, ObjectIsReusableAcrossNoncesInAnyOrder) {
  for (AeadAlgorithm alg : kAllAeads) {
    SCOPED_TRACE(AeadName(alg));
    auto a = Aead::Create(alg, Pattern(AeadKeySize(alg), 2));
    ASSERT_TRUE(a.ok());
    const Bytes n1 = Pattern(12, 1);
    const Bytes n2 = Pattern(12, 2);
    auto c1 = a->Seal(n1, AsBytes("a"), AsBytes("first"));
    auto c2 = a->Seal(n2, AsBytes("a"), AsBytes("second"));
    ASSERT_TRUE(c1.ok() && c2.ok());
    EXPECT_NE(*c1, *c2);
    // A failed open in between must not poison the context.
    auto bad = a->Open(n1, AsBytes("a"), *c2);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code(), ErrorCode::kDecryptFailed);
    auto p2 = a->Open(n2, AsBytes("a"), *c2);
    auto p1 = a->Open(n1, AsBytes("a"), *c1);
    ASSERT_TRUE(p1.ok() && p2.ok());
    EXPECT_EQ(AsChars(*p1), "first");
    EXPECT_EQ(AsChars(*p2), "second");
    // Sealing again with the same inputs is deterministic.
    auto again = a->Seal(n1, AsBytes("a"), AsBytes("first"));
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *c1);
  }
}

TEST(Aead, TruncatedCiphertextIsDecryptFailed) {
  for (AeadAlgorithm alg : kAllAeads) {
    SCOPED_TRACE(AeadName(alg));
    auto a = Aead::Create(alg, Pattern(AeadKeySize(alg), 3));
    ASSERT_TRUE(a.ok());
    const Bytes nonce = Pattern(12, 0);
    auto ct = a->Seal(nonce, {}, AsBytes("x"));
    ASSERT_TRUE(ct.ok());
    // Everything shorter than a tag, and every proper prefix of a real ciphertext.
    for (size_t len = 0; len < ct->size(); ++len) {
      auto r = a->Open(nonce, {}, ByteView(*ct).first(len));
      ASSERT_FALSE(r.ok()) << len;
      EXPECT_EQ(r.error().code(), ErrorCode::kDecryptFailed) << len;
    }
    for (size_t len = 0; len < kAeadTagSize; ++len) {
      auto r = a->Open(nonce, {}, Bytes(len, 0));
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.error().code(), ErrorCode::kDecryptFailed);
    }
  }
}

TEST(Aead, EveryTagBitFlipIsDecryptFailed) {
  for (AeadAlgorithm alg : kAllAeads) {
    SCOPED_TRACE(AeadName(alg));
    auto a = Aead::Create(alg, Pattern(AeadKeySize(alg), 4));
    ASSERT_TRUE(a.ok());
    const Bytes nonce = Pattern(12, 6);
    const Bytes aad = ToBytes(std::string_view("header"));
    for (size_t pt_len : {0u, 20u}) {
      auto ct = a->Seal(nonce, aad, Pattern(pt_len, 1));
      ASSERT_TRUE(ct.ok());
      for (size_t bit = 0; bit < 8 * ct->size(); ++bit) {
        Bytes t = *ct;
        t[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
        auto r = a->Open(nonce, aad, t);
        ASSERT_FALSE(r.ok()) << "bit " << bit;
        EXPECT_EQ(r.error().code(), ErrorCode::kDecryptFailed);
      }
      ASSERT_TRUE(a->Open(nonce, aad, *ct).ok());
    }
  }
}

TEST(Aead, WrongAadNonceOrKeyIsDecryptFailed) {
  for (AeadAlgorithm alg : kAllAeads) {
    SCOPED_TRACE(AeadName(alg));
    auto a = Aead::Create(alg, Pattern(AeadKeySize(alg), 5));
    auto other = Aead::Create(alg, Pattern(AeadKeySize(alg), 6));
    ASSERT_TRUE(a.ok() && other.ok());
    const Bytes nonce = Pattern(12, 7);
    auto ct = a->Seal(nonce, AsBytes("aad"), AsBytes("plaintext"));
    ASSERT_TRUE(ct.ok());
    auto wrong_aad = a->Open(nonce, AsBytes("aae"), *ct);
    auto no_aad = a->Open(nonce, {}, *ct);
    Bytes nonce2 = nonce;
    nonce2[11] ^= 1;
    auto wrong_nonce = a->Open(nonce2, AsBytes("aad"), *ct);
    auto wrong_key = other->Open(nonce, AsBytes("aad"), *ct);
    for (const auto* r : {&wrong_aad, &no_aad, &wrong_nonce, &wrong_key}) {
      ASSERT_FALSE(r->ok());
      EXPECT_EQ(r->error().code(), ErrorCode::kDecryptFailed);
    }
  }
}

TEST(Aead, NonceOfWrongSizeIsInvalidArgument) {
  for (AeadAlgorithm alg : kAllAeads) {
    SCOPED_TRACE(AeadName(alg));
    auto a = Aead::Create(alg, Pattern(AeadKeySize(alg), 8));
    ASSERT_TRUE(a.ok());
    auto ct = a->Seal(Pattern(12, 0), {}, AsBytes("m"));
    ASSERT_TRUE(ct.ok());
    for (size_t n : {0u, 8u, 11u, 13u, 16u, 24u}) {
      auto s = a->Seal(Pattern(n, 0), {}, AsBytes("m"));
      ASSERT_FALSE(s.ok());
      EXPECT_EQ(s.error().code(), ErrorCode::kInvalidArgument);
      auto o = a->Open(Pattern(n, 0), {}, *ct);
      ASSERT_FALSE(o.ok());
      EXPECT_EQ(o.error().code(), ErrorCode::kInvalidArgument);
    }
  }
}

// --- X25519 --------------------------------------------------------------------------------------

TEST(X25519, AllZeroAndOtherLowOrderPeerKeysAreInvalidKey) {
  const X25519KeyPair kp = X25519Generate();
  // u = 0 and u = 1 (order 1 and 4 points), u = p - 1 (order 2), u = p and u = p + 1 (non-canonical
  // encodings of 0 and 1), and the order-8 point of RFC 7748's list: all give the all-zero secret.
  const char* low_order[] = {
      "0000000000000000000000000000000000000000000000000000000000000000",
      "0100000000000000000000000000000000000000000000000000000000000000",
      "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
      "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
      "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
      "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
      "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
  };
  for (const char* hex : low_order) {
    auto r = X25519(kp.private_key.view(), Hex(hex));
    ASSERT_FALSE(r.ok()) << hex;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidKey) << hex;
  }
  auto prepared = X25519PrivateKey::FromBytes(kp.private_key.view());
  ASSERT_TRUE(prepared.ok());
  auto r = prepared->SharedSecret(Bytes(32, 0));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidKey);
}

TEST(X25519, WrongSizesAreInvalidKey) {
  const X25519KeyPair kp = X25519Generate();
  for (size_t len : {0u, 31u, 33u, 64u}) {
    auto a = X25519(Bytes(len, 1), kp.public_key);
    ASSERT_FALSE(a.ok());
    EXPECT_EQ(a.error().code(), ErrorCode::kInvalidKey);
    auto b = X25519(kp.private_key.view(), Bytes(len, 9));
    ASSERT_FALSE(b.ok());
    EXPECT_EQ(b.error().code(), ErrorCode::kInvalidKey);
    auto c = X25519FromPrivate(Bytes(len, 1));
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().code(), ErrorCode::kInvalidKey);
    auto d = X25519PrivateKey::FromBytes(Bytes(len, 1));
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.error().code(), ErrorCode::kInvalidKey);
  }
}

TEST(X25519, AgreementAndPreparedKeyConsistency) {
  const X25519KeyPair a = X25519Generate();
  const X25519KeyPair b = X25519Generate();
  EXPECT_NE(a.public_key, b.public_key);
  auto ab = X25519(a.private_key.view(), b.public_key);
  auto ba = X25519(b.private_key.view(), a.public_key);
  ASSERT_TRUE(ab.ok() && ba.ok());
  EXPECT_EQ(ToBytes(ab->view()), ToBytes(ba->view()));

  auto pa = X25519PrivateKey::FromBytes(a.private_key.view());
  ASSERT_TRUE(pa.ok());
  EXPECT_EQ(pa->public_key(), a.public_key);
  EXPECT_EQ(ToBytes(pa->PrivateBytes().view()), ToBytes(a.private_key.view()));
  auto pab = pa->SharedSecret(b.public_key);
  ASSERT_TRUE(pab.ok());
  EXPECT_EQ(ToBytes(pab->view()), ToBytes(ab->view()));

  // A generated prepared key round-trips through its raw bytes.
  X25519PrivateKey g = X25519PrivateKey::Generate();
  auto from_raw = X25519FromPrivate(g.PrivateBytes().view());
  ASSERT_TRUE(from_raw.ok());
  EXPECT_EQ(from_raw->public_key, g.public_key());
}

// --- Ed25519 -------------------------------------------------------------------------------------

TEST(Ed25519, SignVerifyAndRejections) {
  const Ed25519PrivateKey key = Ed25519PrivateKey::Generate();
  const Bytes msg = ToBytes(std::string_view("receipt"));
  auto sig = key.Sign(msg);
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(Ed25519Verify(key.public_key(), msg, *sig).ok());

  // Deterministic (RFC 8032): the same key and message give the same signature.
  auto again = Ed25519PrivateKey::FromSeed(key.seed());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->public_key(), key.public_key());
  auto sig2 = again->Sign(msg);
  ASSERT_TRUE(sig2.ok());
  EXPECT_EQ(*sig2, *sig);

  for (size_t bit = 0; bit < 8 * kEd25519SignatureSize; ++bit) {
    Ed25519Signature t = *sig;
    t[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    Status st = Ed25519Verify(key.public_key(), msg, t);
    ASSERT_FALSE(st.ok()) << "bit " << bit;
    EXPECT_EQ(st.error().code(), ErrorCode::kBadSignature);
  }
  const Ed25519PrivateKey other = Ed25519PrivateKey::Generate();
  Status wrong_key = Ed25519Verify(other.public_key(), msg, *sig);
  ASSERT_FALSE(wrong_key.ok());
  EXPECT_EQ(wrong_key.error().code(), ErrorCode::kBadSignature);
}

TEST(Ed25519, WrongSizes) {
  const Ed25519PrivateKey key = Ed25519PrivateKey::Generate();
  auto sig = key.Sign(AsBytes("m"));
  ASSERT_TRUE(sig.ok());
  for (size_t len : {0u, 31u, 33u, 64u}) {
    auto k = Ed25519PrivateKey::FromSeed(Bytes(len, 1));
    ASSERT_FALSE(k.ok());
    EXPECT_EQ(k.error().code(), ErrorCode::kInvalidKey);
    Status pk = Ed25519Verify(Bytes(len, 1), AsBytes("m"), *sig);
    ASSERT_FALSE(pk.ok());
    EXPECT_EQ(pk.error().code(), ErrorCode::kInvalidKey);
  }
  Bytes long_sig(sig->begin(), sig->end());
  long_sig.push_back(0);
  for (size_t len : {0u, 32u, 63u}) {
    Status st = Ed25519Verify(key.public_key(), AsBytes("m"), ByteView(*sig).first(len));
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code(), ErrorCode::kBadSignature);
  }
  Status st = Ed25519Verify(key.public_key(), AsBytes("m"), long_sig);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kBadSignature);
}

}  // namespace
}  // namespace cmln::seal
