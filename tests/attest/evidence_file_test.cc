// Evidence files (attest/evidence_file.h): binary or hex detection, bounded reads, and platform detection
// from the first bytes, on the real MANIFEST evidence and on crafted headers.
#include "attest/evidence_file.h"

#include <gtest/gtest.h>

#include <string>

#include "testing/test_util.h"

namespace cmln::attest {
namespace {

using testing::DataPath;
using testing::ReadFileOrDie;

TEST(EvidenceFile, HexTextIsDecodedAndBinaryKept) {
  const std::string quote = ReadFileOrDie(DataPath("attestation/tdx/dcapqvl_tdx_quote"));
  // Binary stays binary.
  DecodedEvidence bin = DecodeEvidence(AsBytes(quote));
  EXPECT_FALSE(bin.hex);
  EXPECT_EQ(bin.bytes, ToBytes(quote));
  // Hex, in either case, with surrounding whitespace, decodes to the same bytes.
  std::string hex = HexEncode(AsBytes(quote));
  for (const std::string& text : {hex, "  \n" + hex + "\r\n", std::string(hex.begin(), hex.end())}) {
    DecodedEvidence d = DecodeEvidence(AsBytes(text));
    EXPECT_TRUE(d.hex);
    EXPECT_EQ(d.bytes, ToBytes(quote));
  }
  for (auto& c : hex) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(DecodeEvidence(AsBytes(hex)).bytes, ToBytes(quote));
  // T8's checked-in hex file.
  DecodedEvidence t8 = DecodeEvidence(AsBytes(ReadFileOrDie(DataPath("attestation/tdx/dcapqvl_near_quote_hex.txt"))));
  EXPECT_TRUE(t8.hex);
  EXPECT_EQ(t8.bytes.size(), 5006u);
}

TEST(EvidenceFile, NotQuiteHexIsBinary) {
  for (const std::string& text : {std::string("abc"), std::string("ab cd"), std::string("abcg"), std::string("0xabcd"),
                                  std::string("   "), std::string()}) {
    SCOPED_TRACE(text);
    DecodedEvidence d = DecodeEvidence(AsBytes(text));
    EXPECT_FALSE(d.hex);
    EXPECT_EQ(d.bytes, ToBytes(text));
  }
}

TEST(EvidenceFile, PlatformOfEveryManifestEvidence) {
  for (const char* f : {"tdx/dcapqvl_tdx_quote", "tdx/dcapqvl_tdx_quote_outdated",
                        "tdx/gotdx_tdx_prod_quote_SPR_E4.dat", "tdx/gotdx_ccel_cos-113-tdx-quote.dat"}) {
    SCOPED_TRACE(f);
    auto p = DetectEvidencePlatform(AsBytes(ReadFileOrDie(DataPath(std::string("attestation/") + f))));
    ASSERT_TRUE(p.ok()) << p.error().ToString();
    EXPECT_EQ(*p, EvidencePlatform::kTdx);
  }
  for (const char* f : {"snp/gosev_attestation.bin", "snp/trustee_snp_test-vlek-report.bin"}) {
    SCOPED_TRACE(f);
    auto p = DetectEvidencePlatform(AsBytes(ReadFileOrDie(DataPath(std::string("attestation/") + f))));
    ASSERT_TRUE(p.ok()) << p.error().ToString();
    EXPECT_EQ(*p, EvidencePlatform::kSnp);
  }
  EXPECT_STREQ(EvidencePlatformName(EvidencePlatform::kTdx), "tdx");
  EXPECT_STREQ(EvidencePlatformName(EvidencePlatform::kSnp), "snp");
}

TEST(EvidenceFile, CraftedHeaders) {
  // SNP v5 whose GUEST_SVN happens to be 0x81 is still SNP: the upper half of VERSION is zero.
  const Bytes snp_v5 = testing::Hex("0500000081000000");
  EXPECT_EQ(*DetectEvidencePlatform(snp_v5), EvidencePlatform::kSnp);
  // TDX v5 header (key type 2, TEE 0x81).
  EXPECT_EQ(*DetectEvidencePlatform(testing::Hex("0500020081000000")), EvidencePlatform::kTdx);
  // A v4 quote with another TEE type is still routed to the quote parser, which names the TEE type.
  EXPECT_EQ(*DetectEvidencePlatform(testing::Hex("0400020000000000")), EvidencePlatform::kTdx);

  auto sgx = DetectEvidencePlatform(testing::Hex("0300020000000000"));
  ASSERT_FALSE(sgx.ok());
  EXPECT_EQ(sgx.error().code(), ErrorCode::kUnsupported);
  EXPECT_NE(sgx.error().message().find("SGX quote"), std::string::npos);

  auto junk = DetectEvidencePlatform(AsBytes(std::string("hello, world")));
  ASSERT_FALSE(junk.ok());
  EXPECT_EQ(junk.error().code(), ErrorCode::kMalformed);
  EXPECT_NE(junk.error().message().find("68656c6c6f2c2077"), std::string::npos) << junk.error().message();

  auto zero = DetectEvidencePlatform(Bytes(16, 0));
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.error().code(), ErrorCode::kMalformed);

  for (size_t n = 0; n < 8; ++n) {
    auto t = DetectEvidencePlatform(Bytes(n, 4));
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.error().code(), ErrorCode::kTruncated) << n;
  }
}

TEST(EvidenceFile, ReadFileCappedBoundsTheRead) {
  const std::string path = ::testing::TempDir() + "/evidence_file_test.bin";
  FILE* f = fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  fputs("0123456789", f);
  fclose(f);
  auto ok = ReadFileCapped(path, 10);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->size(), 10u);
  auto big = ReadFileCapped(path, 9);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().code(), ErrorCode::kLengthTooLarge);
  EXPECT_NE(big.error().message().find("10 bytes, at most 9"), std::string::npos);

  auto missing = ReadFileCapped("/nonexistent/evidence", 10);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  auto dir = ReadFileCapped(::testing::TempDir(), 10);
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.error().code(), ErrorCode::kIoError);

  auto ev = ReadEvidenceFile(DataPath("attestation/tdx/dcapqvl_near_quote_hex.txt"));
  ASSERT_TRUE(ev.ok());
  EXPECT_TRUE(ev->hex);
}

}  // namespace
}  // namespace cmln::attest
