// Unit tests of seal/hpke.h beyond the RFC 9180 known answers: round trips for every supported suite
// and mode, the 96-bit sequence limit on both sides, export-only contexts, failed opens leaving the
// sequence alone, and the exact refusal for each tampered or malformed input (THREATS.md B2, B6).
#include "seal/hpke.h"

#include <gtest/gtest.h>

#include <string>

#include "testing/test_util.h"

namespace cmln::seal::hpke {
namespace {

using testing::Hex;

constexpr AeadId kSealingAeads[] = {AeadId::kAes128Gcm, AeadId::kAes256Gcm, AeadId::kChaCha20Poly1305};

Suite SuiteFor(AeadId aead) { return Suite{KemId::kX25519HkdfSha256, KdfId::kHkdfSha256, aead}; }

std::string Name(AeadId a) { return "aead " + std::to_string(static_cast<uint16_t>(a)); }

struct Pair {
  Bytes enc;
  Context sender;
  Context recipient;
};

// A base-mode sender/recipient pair for `suite` (fresh keys).
Pair MakeBasePair(Suite suite, ByteView info = AsBytes("info")) {
  const X25519KeyPair r = X25519Generate();
  auto s = SetupBaseSender(suite, r.public_key, info);
  if (!s.ok()) {
    ADD_FAILURE() << s.error().ToString();
    std::abort();
  }
  auto c = SetupBaseRecipient(suite, s->enc, r.private_key.view(), info);
  if (!c.ok()) {
    ADD_FAILURE() << c.error().ToString();
    std::abort();
  }
  return Pair{s->enc, std::move(s->context), std::move(*c)};
}

void ExpectCode(const Status& st, ErrorCode code) {
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), code) << st.error().ToString();
}
template <typename T>
void ExpectCode(const Result<T>& r, ErrorCode code) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), code) << r.error().ToString();
}

// --- round trips -----------------------------------------------------------------------------------

TEST(Hpke, BaseRoundTripAllAeads) {
  for (AeadId aead : kSealingAeads) {
    SCOPED_TRACE(Name(aead));
    Pair p = MakeBasePair(SuiteFor(aead));
    EXPECT_EQ(p.enc.size(), kEncSize);
    EXPECT_EQ(p.sender.role(), Context::Role::kSender);
    EXPECT_EQ(p.recipient.role(), Context::Role::kRecipient);
    EXPECT_EQ(p.sender.suite(), SuiteFor(aead));
    for (int i = 0; i < 5; ++i) {
      const std::string pt = "message " + std::to_string(i);
      const std::string aad = "aad " + std::to_string(i);
      auto ct = p.sender.Seal(AsBytes(aad), AsBytes(pt));
      ASSERT_TRUE(ct.ok());
      EXPECT_EQ(ct->size(), pt.size() + kAeadTagSize);
      auto back = p.recipient.Open(AsBytes(aad), *ct);
      ASSERT_TRUE(back.ok()) << back.error().ToString();
      EXPECT_EQ(AsChars(*back), pt);
    }
    auto es = p.sender.Export(AsBytes("ctx"), 42);
    auto er = p.recipient.Export(AsBytes("ctx"), 42);
    ASSERT_TRUE(es.ok() && er.ok());
    EXPECT_EQ(es->size(), 42u);
    EXPECT_EQ(ToBytes(es->view()), ToBytes(er->view()));
  }
}

TEST(Hpke, AuthRoundTripAllAeads) {
  for (AeadId aead : kSealingAeads) {
    SCOPED_TRACE(Name(aead));
    const X25519KeyPair r = X25519Generate();
    const X25519KeyPair s = X25519Generate();
    auto sender = SetupAuthSender(SuiteFor(aead), r.public_key, AsBytes("info"), s.private_key.view());
    ASSERT_TRUE(sender.ok()) << sender.error().ToString();
    auto recipient = SetupAuthRecipient(SuiteFor(aead), sender->enc, r.private_key.view(), AsBytes("info"),
                                        s.public_key);
    ASSERT_TRUE(recipient.ok()) << recipient.error().ToString();
    for (int i = 0; i < 3; ++i) {
      auto ct = sender->context.Seal(AsBytes("aad"), AsBytes("authenticated"));
      ASSERT_TRUE(ct.ok());
      auto back = recipient->Open(AsBytes("aad"), *ct);
      ASSERT_TRUE(back.ok()) << back.error().ToString();
      EXPECT_EQ(AsChars(*back), "authenticated");
    }

    // The prepared-key overloads interoperate with the byte overloads.
    auto rk = X25519PrivateKey::FromBytes(r.private_key.view());
    auto sk = X25519PrivateKey::FromBytes(s.private_key.view());
    ASSERT_TRUE(rk.ok() && sk.ok());
    auto sender2 = SetupAuthSender(SuiteFor(aead), r.public_key, AsBytes("info"), *sk);
    ASSERT_TRUE(sender2.ok());
    auto recipient2 = SetupAuthRecipient(SuiteFor(aead), sender2->enc, *rk, AsBytes("info"), s.public_key);
    ASSERT_TRUE(recipient2.ok());
    auto ct = sender2->context.Seal({}, AsBytes("x"));
    ASSERT_TRUE(ct.ok());
    auto back = recipient2->Open({}, *ct);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(AsChars(*back), "x");
  }
}

TEST(Hpke, BaseRecipientWithPreparedKey) {
  const X25519PrivateKey rk = X25519PrivateKey::Generate();
  auto s = SetupBaseSender(SuiteFor(AeadId::kChaCha20Poly1305), rk.public_key(), AsBytes("i"));
  ASSERT_TRUE(s.ok());
  auto r = SetupBaseRecipient(SuiteFor(AeadId::kChaCha20Poly1305), s->enc, rk, AsBytes("i"));
  ASSERT_TRUE(r.ok());
  auto ct = s->context.Seal(AsBytes("a"), AsBytes("p"));
  ASSERT_TRUE(ct.ok());
  auto pt = r->Open(AsBytes("a"), *ct);
  ASSERT_TRUE(pt.ok());
  EXPECT_EQ(AsChars(*pt), "p");
}

TEST(Hpke, FreshEphemeralKeyPerSetup) {
  const X25519KeyPair r = X25519Generate();
  auto a = SetupBaseSender(SuiteFor(AeadId::kAes128Gcm), r.public_key, {});
  auto b = SetupBaseSender(SuiteFor(AeadId::kAes128Gcm), r.public_key, {});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->enc, b->enc);
}

// --- sequence numbers ------------------------------------------------------------------------------

constexpr uint64_t kHiMax = 0xffffffffu;
constexpr uint64_t kLoMax = ~uint64_t{0};

TEST(Hpke, SequenceOverflowOnSealAndOpen) {
  for (AeadId aead : kSealingAeads) {
    SCOPED_TRACE(Name(aead));
    Pair p = MakeBasePair(SuiteFor(aead));
    // 2^96 - 2: the last sequence number that may be used.
    p.sender.SetSequenceForTesting(kHiMax, kLoMax - 1);
    p.recipient.SetSequenceForTesting(kHiMax, kLoMax - 1);
    auto last = p.sender.Seal(AsBytes("aad"), AsBytes("last"));
    ASSERT_TRUE(last.ok()) << last.error().ToString();
    // Now at 2^96 - 1: refused, and refused again (the counter does not wrap to 0).
    ExpectCode(p.sender.Seal(AsBytes("aad"), AsBytes("one too many")), ErrorCode::kSequenceOverflow);
    ExpectCode(p.sender.Seal(AsBytes("aad"), AsBytes("one too many")), ErrorCode::kSequenceOverflow);

    auto opened = p.recipient.Open(AsBytes("aad"), *last);
    ASSERT_TRUE(opened.ok()) << opened.error().ToString();
    EXPECT_EQ(AsChars(*opened), "last");
    ExpectCode(p.recipient.Open(AsBytes("aad"), *last), ErrorCode::kSequenceOverflow);
    ExpectCode(p.recipient.Open(AsBytes("aad"), *last), ErrorCode::kSequenceOverflow);

    // Export does not depend on the sequence number and still works.
    auto x = p.sender.Export(AsBytes("e"), 16);
    auto y = p.recipient.Export(AsBytes("e"), 16);
    ASSERT_TRUE(x.ok() && y.ok());
    EXPECT_EQ(ToBytes(x->view()), ToBytes(y->view()));
  }
}

TEST(Hpke, SequenceCarriesFromLow64IntoHigh32) {
  Pair p = MakeBasePair(SuiteFor(AeadId::kAes256Gcm));
  p.sender.SetSequenceForTesting(0, kLoMax);
  auto at_2_64_minus_1 = p.sender.Seal({}, AsBytes("a"));
  auto at_2_64 = p.sender.Seal({}, AsBytes("b"));
  ASSERT_TRUE(at_2_64_minus_1.ok() && at_2_64.ok());
  // A recipient placed directly at 2^64 = (1, 0) opens the second message, so the sender carried.
  p.recipient.SetSequenceForTesting(1, 0);
  auto b = p.recipient.Open({}, *at_2_64);
  ASSERT_TRUE(b.ok()) << b.error().ToString();
  EXPECT_EQ(AsChars(*b), "b");
  // ... and the first message is not valid at that position.
  ExpectCode(p.recipient.Open({}, *at_2_64_minus_1), ErrorCode::kDecryptFailed);
}

TEST(Hpke, FailedOpenDoesNotAdvanceSequence) {
  for (AeadId aead : kSealingAeads) {
    SCOPED_TRACE(Name(aead));
    Pair p = MakeBasePair(SuiteFor(aead));
    auto c0 = p.sender.Seal(AsBytes("0"), AsBytes("zero"));
    auto c1 = p.sender.Seal(AsBytes("1"), AsBytes("one"));
    ASSERT_TRUE(c0.ok() && c1.ok());

    ExpectCode(p.recipient.Open(AsBytes("0"), Bytes(40, 0x5a)), ErrorCode::kDecryptFailed);  // garbage
    ExpectCode(p.recipient.Open(AsBytes("0"), Bytes(3, 0)), ErrorCode::kDecryptFailed);      // shorter than a tag
    ExpectCode(p.recipient.Open(AsBytes("1"), *c1), ErrorCode::kDecryptFailed);  // out of order
    auto p0 = p.recipient.Open(AsBytes("0"), *c0);
    ASSERT_TRUE(p0.ok()) << p0.error().ToString();
    EXPECT_EQ(AsChars(*p0), "zero");

    Bytes tampered = *c1;
    tampered.back() ^= 0x80;
    ExpectCode(p.recipient.Open(AsBytes("1"), tampered), ErrorCode::kDecryptFailed);
    ExpectCode(p.recipient.Open(AsBytes("x"), *c1), ErrorCode::kDecryptFailed);
    auto p1 = p.recipient.Open(AsBytes("1"), *c1);
    ASSERT_TRUE(p1.ok()) << p1.error().ToString();
    EXPECT_EQ(AsChars(*p1), "one");
    // Replaying a message already opened fails: its sequence number has passed.
    ExpectCode(p.recipient.Open(AsBytes("1"), *c1), ErrorCode::kDecryptFailed);
  }
}

// --- export-only and role misuse -------------------------------------------------------------------

TEST(Hpke, ExportOnlySuiteRefusesSealAndOpen) {
  const Suite suite = SuiteFor(AeadId::kExportOnly);
  const X25519KeyPair r = X25519Generate();
  auto s = SetupBaseSender(suite, r.public_key, AsBytes("info"));
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  auto c = SetupBaseRecipient(suite, s->enc, r.private_key.view(), AsBytes("info"));
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  ExpectCode(s->context.Seal({}, AsBytes("m")), ErrorCode::kInvalidArgument);
  ExpectCode(c->Open({}, Bytes(16, 0)), ErrorCode::kInvalidArgument);
  auto x = s->context.Export(AsBytes("label"), 32);
  auto y = c->Export(AsBytes("label"), 32);
  ASSERT_TRUE(x.ok() && y.ok());
  EXPECT_EQ(ToBytes(x->view()), ToBytes(y->view()));
  auto z = c->Export(AsBytes("other"), 32);
  ASSERT_TRUE(z.ok());
  EXPECT_NE(ToBytes(z->view()), ToBytes(y->view()));
}

TEST(Hpke, RoleMisuseIsInvalidArgument) {
  Pair p = MakeBasePair(SuiteFor(AeadId::kAes128Gcm));
  auto ct = p.sender.Seal({}, AsBytes("m"));
  ASSERT_TRUE(ct.ok());
  ExpectCode(p.sender.Open({}, *ct), ErrorCode::kInvalidArgument);
  ExpectCode(p.recipient.Seal({}, AsBytes("m")), ErrorCode::kInvalidArgument);
  // Neither misuse consumed a sequence number on the recipient.
  auto pt = p.recipient.Open({}, *ct);
  ASSERT_TRUE(pt.ok());
  EXPECT_EQ(AsChars(*pt), "m");
}

TEST(Hpke, ExportLengthBound) {
  Pair p = MakeBasePair(SuiteFor(AeadId::kAes128Gcm));
  auto max = p.sender.Export({}, 255 * 32);
  ASSERT_TRUE(max.ok());
  EXPECT_EQ(max->size(), 255u * 32u);
  ExpectCode(p.sender.Export({}, 255 * 32 + 1), ErrorCode::kInvalidArgument);
  ExpectCode(p.recipient.Export({}, 1u << 20), ErrorCode::kInvalidArgument);
}

// --- tampering (B2) --------------------------------------------------------------------------------

TEST(Hpke, B2_WrongInfoRejected) {
  const X25519KeyPair r = X25519Generate();
  const Suite suite = SuiteFor(AeadId::kAes128Gcm);
  auto s = SetupBaseSender(suite, r.public_key, AsBytes("info A"));
  ASSERT_TRUE(s.ok());
  auto ct = s->context.Seal({}, AsBytes("m"));
  ASSERT_TRUE(ct.ok());
  auto c = SetupBaseRecipient(suite, s->enc, r.private_key.view(), AsBytes("info B"));
  ASSERT_TRUE(c.ok());  // setup cannot tell; the first Open does
  ExpectCode(c->Open({}, *ct), ErrorCode::kDecryptFailed);
}

TEST(Hpke, B2_WrongRecipientKeyRejected) {
  const X25519KeyPair r = X25519Generate();
  const X25519KeyPair wrong = X25519Generate();
  const Suite suite = SuiteFor(AeadId::kChaCha20Poly1305);
  auto s = SetupBaseSender(suite, r.public_key, AsBytes("info"));
  ASSERT_TRUE(s.ok());
  auto ct = s->context.Seal({}, AsBytes("m"));
  ASSERT_TRUE(ct.ok());
  auto c = SetupBaseRecipient(suite, s->enc, wrong.private_key.view(), AsBytes("info"));
  ASSERT_TRUE(c.ok());
  ExpectCode(c->Open({}, *ct), ErrorCode::kDecryptFailed);
}

TEST(Hpke, B2_WrongSenderKeyOrModeRejected) {
  const X25519KeyPair r = X25519Generate();
  const X25519KeyPair s = X25519Generate();
  const X25519KeyPair impostor = X25519Generate();
  const Suite suite = SuiteFor(AeadId::kAes256Gcm);
  auto sender = SetupAuthSender(suite, r.public_key, AsBytes("info"), s.private_key.view());
  ASSERT_TRUE(sender.ok());
  auto ct = sender->context.Seal({}, AsBytes("m"));
  ASSERT_TRUE(ct.ok());
  // Recipient expecting another sender.
  auto c1 = SetupAuthRecipient(suite, sender->enc, r.private_key.view(), AsBytes("info"), impostor.public_key);
  ASSERT_TRUE(c1.ok());
  ExpectCode(c1->Open({}, *ct), ErrorCode::kDecryptFailed);
  // Recipient in base mode for an auth-mode message.
  auto c2 = SetupBaseRecipient(suite, sender->enc, r.private_key.view(), AsBytes("info"));
  ASSERT_TRUE(c2.ok());
  ExpectCode(c2->Open({}, *ct), ErrorCode::kDecryptFailed);
  // And the right one opens it.
  auto c3 = SetupAuthRecipient(suite, sender->enc, r.private_key.view(), AsBytes("info"), s.public_key);
  ASSERT_TRUE(c3.ok());
  EXPECT_TRUE(c3->Open({}, *ct).ok());
}

TEST(Hpke, B2_TamperedEncRejected) {
  const X25519KeyPair r = X25519Generate();
  const Suite suite = SuiteFor(AeadId::kAes128Gcm);
  auto s = SetupBaseSender(suite, r.public_key, AsBytes("info"));
  ASSERT_TRUE(s.ok());
  auto ct = s->context.Seal(AsBytes("aad"), AsBytes("m"));
  ASSERT_TRUE(ct.ok());
  // Every single-bit change of enc, including bit 255 which X25519 itself ignores (RFC 7748 section 5):
  // the KEM context binds the exact enc bytes.
  for (size_t bit = 0; bit < 8 * kEncSize; ++bit) {
    Bytes enc = s->enc;
    enc[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    auto c = SetupBaseRecipient(suite, enc, r.private_key.view(), AsBytes("info"));
    if (!c.ok()) {
      // Only a low-order result may fail at setup, and then with kInvalidKey.
      EXPECT_EQ(c.error().code(), ErrorCode::kInvalidKey) << "bit " << bit;
      continue;
    }
    ExpectCode(c->Open(AsBytes("aad"), *ct), ErrorCode::kDecryptFailed);
  }
}

TEST(Hpke, B2_TamperedCiphertextOrAadRejected) {
  for (AeadId aead : kSealingAeads) {
    SCOPED_TRACE(Name(aead));
    Pair p = MakeBasePair(SuiteFor(aead));
    auto ct = p.sender.Seal(AsBytes("aad"), AsBytes("payload"));
    ASSERT_TRUE(ct.ok());
    for (size_t bit = 0; bit < 8 * ct->size(); ++bit) {
      Bytes t = *ct;
      t[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
      ExpectCode(p.recipient.Open(AsBytes("aad"), t), ErrorCode::kDecryptFailed);
    }
    ExpectCode(p.recipient.Open(AsBytes("aae"), *ct), ErrorCode::kDecryptFailed);
    ExpectCode(p.recipient.Open(AsBytes("aad"), ByteView(*ct).first(ct->size() - 1)), ErrorCode::kDecryptFailed);
    Bytes longer = *ct;
    longer.push_back(0);
    ExpectCode(p.recipient.Open(AsBytes("aad"), longer), ErrorCode::kDecryptFailed);
    // None of the failures advanced the sequence.
    EXPECT_TRUE(p.recipient.Open(AsBytes("aad"), *ct).ok());
  }
}

// --- malformed keys --------------------------------------------------------------------------------

TEST(Hpke, EncOfWrongSizeIsInvalidKey) {
  const X25519KeyPair r = X25519Generate();
  const X25519KeyPair s = X25519Generate();
  const Suite suite = SuiteFor(AeadId::kAes128Gcm);
  for (size_t len : {0u, 1u, 31u, 33u, 64u, 65u}) {
    SCOPED_TRACE("enc length " + std::to_string(len));
    const Bytes enc(len, 0x09);
    ExpectCode(SetupBaseRecipient(suite, enc, r.private_key.view(), {}), ErrorCode::kInvalidKey);
    ExpectCode(SetupAuthRecipient(suite, enc, r.private_key.view(), {}, s.public_key), ErrorCode::kInvalidKey);
  }
}

TEST(Hpke, LowOrderEncOrKeysAreInvalidKey) {
  const X25519KeyPair r = X25519Generate();
  const X25519KeyPair s = X25519Generate();
  const Suite suite = SuiteFor(AeadId::kAes128Gcm);
  const Bytes zero(32, 0);
  const Bytes one = Hex("0100000000000000000000000000000000000000000000000000000000000000");
  for (const Bytes* bad : {&zero, &one}) {
    ExpectCode(SetupBaseRecipient(suite, *bad, r.private_key.view(), {}), ErrorCode::kInvalidKey);
    ExpectCode(SetupBaseSender(suite, *bad, {}), ErrorCode::kInvalidKey);
    ExpectCode(SetupAuthSender(suite, *bad, {}, s.private_key.view()), ErrorCode::kInvalidKey);
    auto good = SetupAuthSender(suite, r.public_key, {}, s.private_key.view());
    ASSERT_TRUE(good.ok());
    ExpectCode(SetupAuthRecipient(suite, good->enc, r.private_key.view(), {}, *bad), ErrorCode::kInvalidKey);
  }
}

TEST(Hpke, KeysOfWrongSizeAreInvalidKey) {
  const X25519KeyPair r = X25519Generate();
  const X25519KeyPair s = X25519Generate();
  const Suite suite = SuiteFor(AeadId::kAes128Gcm);
  auto good = SetupBaseSender(suite, r.public_key, {});
  ASSERT_TRUE(good.ok());
  for (size_t len : {0u, 31u, 33u}) {
    SCOPED_TRACE("length " + std::to_string(len));
    const Bytes bad(len, 0x09);
    ExpectCode(SetupBaseSender(suite, bad, {}), ErrorCode::kInvalidKey);
    ExpectCode(SetupAuthSender(suite, r.public_key, {}, bad), ErrorCode::kInvalidKey);
    ExpectCode(SetupBaseRecipient(suite, good->enc, bad, {}), ErrorCode::kInvalidKey);
    ExpectCode(SetupAuthRecipient(suite, good->enc, r.private_key.view(), {}, bad), ErrorCode::kInvalidKey);
    ExpectCode(SetupBaseSenderForTesting(suite, r.public_key, {}, bad), ErrorCode::kInvalidKey);
    ExpectCode(SetupAuthSenderForTesting(suite, r.public_key, {}, bad, s.private_key.view()), ErrorCode::kInvalidKey);
  }
}

// --- suites (B6) -----------------------------------------------------------------------------------

TEST(Hpke, B6_UnsupportedSuiteIdsRejected) {
  EXPECT_TRUE(CheckSuite(0x0020, 0x0001, 0x0001).ok());
  EXPECT_TRUE(CheckSuite(0x0020, 0x0001, 0x0002).ok());
  EXPECT_TRUE(CheckSuite(0x0020, 0x0001, 0x0003).ok());
  EXPECT_TRUE(CheckSuite(0x0020, 0x0001, 0xFFFF).ok());
  // KEMs P-256, P-384, P-521, X448, and an unassigned id; KDFs SHA-384, SHA-512, unassigned; AEADs
  // reserved 0, unassigned ids.
  for (uint16_t kem : {0x0000, 0x0010, 0x0011, 0x0012, 0x0021, 0x0030}) {
    ExpectCode(CheckSuite(kem, 0x0001, 0x0001), ErrorCode::kUnsupported);
    ExpectCode(MakeSuite(kem, 0x0001, 0x0001), ErrorCode::kUnsupported);
  }
  for (uint16_t kdf : {0x0000, 0x0002, 0x0003, 0x0004}) {
    ExpectCode(CheckSuite(0x0020, kdf, 0x0001), ErrorCode::kUnsupported);
    ExpectCode(MakeSuite(0x0020, kdf, 0x0001), ErrorCode::kUnsupported);
  }
  for (uint16_t aead : {0x0000, 0x0004, 0x00ff, 0xfffe}) {
    ExpectCode(CheckSuite(0x0020, 0x0001, aead), ErrorCode::kUnsupported);
    ExpectCode(MakeSuite(0x0020, 0x0001, aead), ErrorCode::kUnsupported);
  }
  auto ok = MakeSuite(0x0020, 0x0001, 0x0003);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, SuiteFor(AeadId::kChaCha20Poly1305));
}

TEST(Hpke, B6_SetupWithUnsupportedSuiteRejected) {
  const X25519KeyPair r = X25519Generate();
  const X25519KeyPair s = X25519Generate();
  auto good = SetupBaseSender(SuiteFor(AeadId::kAes128Gcm), r.public_key, {});
  ASSERT_TRUE(good.ok());
  const Suite bad_suites[] = {
      Suite{KemId::kX25519HkdfSha256, KdfId::kHkdfSha256, static_cast<AeadId>(0x0004)},
      Suite{KemId::kX25519HkdfSha256, static_cast<KdfId>(0x0002), AeadId::kAes128Gcm},
      Suite{static_cast<KemId>(0x0010), KdfId::kHkdfSha256, AeadId::kAes128Gcm},
  };
  for (const Suite& suite : bad_suites) {
    ExpectCode(SetupBaseSender(suite, r.public_key, {}), ErrorCode::kUnsupported);
    ExpectCode(SetupAuthSender(suite, r.public_key, {}, s.private_key.view()), ErrorCode::kUnsupported);
    ExpectCode(SetupBaseRecipient(suite, good->enc, r.private_key.view(), {}), ErrorCode::kUnsupported);
    ExpectCode(SetupAuthRecipient(suite, good->enc, r.private_key.view(), {}, s.public_key), ErrorCode::kUnsupported);
  }
}

TEST(Hpke, B6_SuiteMismatchBetweenSenderAndRecipientRejected) {
  // The suite id is bound into the key schedule: a recipient set up for another AEAD of the same key
  // size (AES-256-GCM vs ChaCha20-Poly1305) cannot open.
  const X25519KeyPair r = X25519Generate();
  auto s = SetupBaseSender(SuiteFor(AeadId::kAes256Gcm), r.public_key, {});
  ASSERT_TRUE(s.ok());
  auto ct = s->context.Seal({}, AsBytes("m"));
  ASSERT_TRUE(ct.ok());
  auto c = SetupBaseRecipient(SuiteFor(AeadId::kChaCha20Poly1305), s->enc, r.private_key.view(), {});
  ASSERT_TRUE(c.ok());
  ExpectCode(c->Open({}, *ct), ErrorCode::kDecryptFailed);
}

// --- DeriveKeyPair ---------------------------------------------------------------------------------

TEST(Hpke, DeriveKeyPairMatchesRfc9180A1) {
  // RFC 9180 appendix A.1.1 (DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, base mode).
  auto r = DeriveKeyPair(Hex("6db9df30aa07dd42ee5e8181afdb977e538f5e1fec8a06223f33f7013e525037"));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(HexEncode(r->private_key.view()), "4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8");
  EXPECT_EQ(HexEncode(r->public_key), "3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d");
  auto e = DeriveKeyPair(Hex("7268600d403fce431561aef583ee1613527cff655c1343f29812e66706df3234"));
  ASSERT_TRUE(e.ok()) << e.error().ToString();
  EXPECT_EQ(HexEncode(e->private_key.view()), "52c4a758a802cd8b936eceea314432798d5baf2d7e9235dc084ab1b9cfa2f736");
  EXPECT_EQ(HexEncode(e->public_key), "37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431");

  // Deterministic, and any ikm length is accepted (RFC 9180 asks only for Nsk bytes of entropy).
  auto again = DeriveKeyPair(Hex("6db9df30aa07dd42ee5e8181afdb977e538f5e1fec8a06223f33f7013e525037"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->public_key, r->public_key);
  auto empty = DeriveKeyPair({});
  ASSERT_TRUE(empty.ok());
  EXPECT_NE(empty->public_key, r->public_key);
}

}  // namespace
}  // namespace cmln::seal::hpke
