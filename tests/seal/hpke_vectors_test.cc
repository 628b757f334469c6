// RFC 9180 known answers: every encryption and export of BoringSSL's HPKE vector file for
// DHKEM(X25519, HKDF-SHA256) with HKDF-SHA256 and the three AEADs, modes base and auth.
#include <gtest/gtest.h>

#include "seal/hpke.h"
#include "testing/test_util.h"

namespace cmln::seal::hpke {
namespace {

using testing::ReadVectorFile;

TEST(HpkeVectors, AllEncryptionsAndExports) {
  auto cases = ReadVectorFile(testing::DataPath("vectors/hpke_rfc9180_boringssl_subset.txt"));
  ASSERT_EQ(cases.size(), 6u);
  size_t encryptions = 0;
  size_t exports = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE("vector at line " + std::to_string(c.line));
    const uint64_t mode = c.attrs.GetInt("mode");
    auto suite = MakeSuite(0x0020, static_cast<uint16_t>(c.attrs.GetInt("kdf_id")),
                           static_cast<uint16_t>(c.attrs.GetInt("aead_id")));
    ASSERT_TRUE(suite.ok());
    const Bytes info = c.attrs.GetHex("info");
    const Bytes sk_r = c.attrs.GetHex("skRm");
    const Bytes sk_e = c.attrs.GetHex("skEm");
    const Bytes pk_r = c.attrs.GetHex("pkRm");
    const Bytes pk_e = c.attrs.GetHex("pkEm");

    // Public keys derive from the private ones.
    auto kp_r = X25519FromPrivate(sk_r);
    ASSERT_TRUE(kp_r.ok());
    EXPECT_EQ(Bytes(kp_r->public_key.begin(), kp_r->public_key.end()), pk_r);

    Result<SenderSetup> sender = Error(ErrorCode::kInternal, "unset");
    Result<Context> recipient = Error(ErrorCode::kInternal, "unset");
    if (mode == 0) {
      sender = SetupBaseSenderForTesting(*suite, pk_r, info, sk_e);
      ASSERT_TRUE(sender.ok()) << sender.error().ToString();
      recipient = SetupBaseRecipient(*suite, sender->enc, sk_r, info);
    } else {
      ASSERT_EQ(mode, 2u);
      const Bytes sk_s = c.attrs.GetHex("skSm");
      const Bytes pk_s = c.attrs.GetHex("pkSm");
      sender = SetupAuthSenderForTesting(*suite, pk_r, info, sk_s, sk_e);
      ASSERT_TRUE(sender.ok()) << sender.error().ToString();
      recipient = SetupAuthRecipient(*suite, sender->enc, sk_r, info, pk_s);
    }
    ASSERT_TRUE(recipient.ok()) << recipient.error().ToString();
    EXPECT_EQ(sender->enc, pk_e);

    for (const auto& e : c.groups.at("encryptions")) {
      const Bytes aad = e.GetHex("aad");
      const Bytes pt = e.GetHex("pt");
      const Bytes ct = e.GetHex("ct");
      auto sealed = sender->context.Seal(aad, pt);
      ASSERT_TRUE(sealed.ok());
      ASSERT_EQ(*sealed, ct) << "encryption " << encryptions;
      auto opened = recipient->Open(aad, ct);
      ASSERT_TRUE(opened.ok()) << opened.error().ToString();
      ASSERT_EQ(*opened, pt);
      ++encryptions;
    }
    for (const auto& x : c.groups.at("exports")) {
      const Bytes ctx = x.GetHex("exporter_context");
      const size_t len = x.GetInt("L");
      const Bytes want = x.GetHex("exported_value");
      auto s = sender->context.Export(ctx, len);
      auto r = recipient->Export(ctx, len);
      ASSERT_TRUE(s.ok() && r.ok());
      EXPECT_EQ(ToBytes(s->view()), want);
      EXPECT_EQ(ToBytes(r->view()), want);
      ++exports;
    }
    EXPECT_TRUE(c.Unused().empty()) << "unused vector attributes: " << ::testing::PrintToString(c.Unused());
  }
  EXPECT_EQ(encryptions, 1542u);
  EXPECT_EQ(exports, 18u);
}

}  // namespace
}  // namespace cmln::seal::hpke
