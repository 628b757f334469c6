// BIP-173 known answers for bech32: the valid and invalid test strings of the BIP's "Test vectors"
// section, the valid segwit addresses (scriptPubKeys as the BIP lists them) and the invalid ones that
// fail at the bech32 level (checksum, case, padding, hrp). The strings are as published in
// bitcoin/bips bip-0173.mediawiki (also carried by Bitcoin Core src/test/bech32_tests.cpp and
// sipa/bech32 ref/python/tests.py).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "seal/account_key.h"
#include "seal/bech32.h"
#include "testing/test_util.h"

namespace cmln::seal::bech32 {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// BIP-173 "The following strings are valid Bech32".
const std::vector<std::string> kValid = {
    "A12UEL5L",
    "a12uel5l",
    "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
    "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
    "11qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqc8247j",
    "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
    "?1ezyfcl",
};

TEST(Bech32Vectors, ValidStringsPassChecksumAndReencode) {
  for (const auto& s : kValid) {
    SCOPED_TRACE(s);
    auto d = DecodeFiveBit(s);
    ASSERT_TRUE(d.ok()) << d.error().ToString();
    auto again = EncodeFiveBit(d->hrp, d->data);
    ASSERT_TRUE(again.ok()) << again.error().ToString();
    EXPECT_EQ(*again, Lower(s));
  }
}

TEST(Bech32Vectors, ValidStringsKnownParts) {
  auto a = DecodeFiveBit("A12UEL5L");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->hrp, "a");
  EXPECT_TRUE(a->data.empty());

  // "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7l" + checksum: the data part is the charset in order.
  auto b = DecodeFiveBit("abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->hrp, "abcdef");
  ASSERT_EQ(b->data.size(), 32u);
  for (size_t i = 0; i < 32; ++i) EXPECT_EQ(b->data[i], i);

  auto c = DecodeFiveBit("11qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqc8247j");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->hrp, "1");  // the separator is the last '1'
  EXPECT_EQ(c->data.size(), 82u);
}

TEST(Bech32Vectors, EveryValidStringWithOneDataCharacterChangedFailsChecksum) {
  for (const auto& s : kValid) {
    const size_t sep = s.rfind('1');
    for (size_t i = sep + 1; i < s.size(); ++i) {
      std::string t = Lower(s);
      t[i] = (t[i] == 'q') ? 'p' : 'q';
      auto d = DecodeFiveBit(t);
      ASSERT_FALSE(d.ok()) << t;
      EXPECT_EQ(d.error().code(), ErrorCode::kChecksumMismatch) << t;
    }
  }
}

struct InvalidCase {
  std::string text;
  ErrorCode code;
  const char* reason;  // as BIP-173 gives it
};

TEST(Bech32Vectors, InvalidStringsRejectedWithExactCode) {
  const std::vector<InvalidCase> cases = {
      {std::string("\x20") + "1nwldj5", ErrorCode::kBadEncoding, "HRP character out of range"},
      {std::string("\x7f") + "1axkwrx", ErrorCode::kBadEncoding, "HRP character out of range"},
      {std::string("\x80") + "1eym55h", ErrorCode::kBadEncoding, "HRP character out of range"},
      {"an84characterslonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1569pvx",
       ErrorCode::kBadEncoding, "overall max length exceeded"},
      {"pzry9x0s0muk", ErrorCode::kBadEncoding, "No separator character"},
      {"1pzry9x0s0muk", ErrorCode::kBadEncoding, "Empty HRP"},
      {"x1b4n0q5v", ErrorCode::kBadEncoding, "Invalid data character"},
      {"li1dgmt3", ErrorCode::kBadEncoding, "Too short checksum"},
      {std::string("de1lg7wt") + "\xff", ErrorCode::kBadEncoding, "Invalid character in checksum"},
      {"A1G7SGD8", ErrorCode::kChecksumMismatch, "checksum calculated with uppercase form of HRP"},
      {"10a06t8", ErrorCode::kBadEncoding, "empty HRP"},
      {"1qzzfhee", ErrorCode::kBadEncoding, "empty HRP"},
  };
  ASSERT_EQ(cases.size(), 12u);
  for (const auto& c : cases) {
    SCOPED_TRACE(c.reason);
    auto d = DecodeFiveBit(c.text);
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.error().code(), c.code) << d.error().ToString();
    // The byte-level decoder rejects them the same way, whatever hrp it expects.
    auto b = Decode(c.text, "a");
    ASSERT_FALSE(b.ok());
    EXPECT_EQ(b.error().code(), c.code) << b.error().ToString();
  }
}

// BIP-173 valid segwit addresses: data[0] is the witness version, the rest the witness program as
// 5-bit groups; the BIP gives scriptPubKey = OP_version (0x00 or 0x50+v) || len || program.
TEST(Bech32Vectors, SegwitAddressesDecodeToTheirPrograms) {
  struct Case {
    std::string address;
    std::string script_pubkey_hex;
  };
  const std::vector<Case> cases = {
      {"BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "0014751e76e8199196d454941c45d1b3a323f1433bd6"},
      {"tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
       "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262"},
      {"bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7k7grplx",
       "5128751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a323f1433bd6"},
      {"BC1SW50QA3JX3S", "6002751e"},
      {"bc1zw508d6qejxtdg4y5r3zarvaryvg6kdaj", "5210751e76e8199196d454941c45d1b3a323"},
      {"tb1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesrxh6hy",
       "0020000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.address);
    auto d = DecodeFiveBit(c.address);
    ASSERT_TRUE(d.ok()) << d.error().ToString();
    ASSERT_FALSE(d->data.empty());
    const uint8_t version = d->data[0];
    auto program = FiveBitToBytes(ByteView(d->data).subspan(1));
    ASSERT_TRUE(program.ok()) << program.error().ToString();
    Bytes script;
    script.push_back(version == 0 ? 0 : static_cast<uint8_t>(0x50 + version));
    script.push_back(static_cast<uint8_t>(program->size()));
    Append(script, *program);
    EXPECT_EQ(HexEncode(script), c.script_pubkey_hex);

    // And back: version + regrouped program re-encodes to the lowercase address.
    std::vector<uint8_t> values = {version};
    const auto five = BytesToFiveBit(*program);
    values.insert(values.end(), five.begin(), five.end());
    auto again = EncodeFiveBit(d->hrp, values);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, Lower(c.address));
  }
}

// BIP-173 invalid segwit addresses whose defect is at the bech32 level (the others are invalid only
// for segwit rules: witness version and program length).
TEST(Bech32Vectors, SegwitInvalidAddressesAtTheBech32Level) {
  // Invalid human-readable part.
  auto hrp = Decode("tc1qw508d6qejxtdg4y5r3zarvary0c5xw7kg3g4ty", "bc");
  ASSERT_FALSE(hrp.ok());
  EXPECT_EQ(hrp.error().code(), ErrorCode::kMalformed);
  // Invalid checksum.
  auto sum = DecodeFiveBit("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5");
  ASSERT_FALSE(sum.ok());
  EXPECT_EQ(sum.error().code(), ErrorCode::kChecksumMismatch);
  // Mixed case.
  auto mixed = DecodeFiveBit("tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sL5k7");
  ASSERT_FALSE(mixed.ok());
  EXPECT_EQ(mixed.error().code(), ErrorCode::kBadEncoding);
  // Zero padding of more than 4 bits; non-zero padding in 8-to-5 conversion. Both pass the checksum.
  for (const char* s : {"bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du",
                        "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3pjxtptv"}) {
    SCOPED_TRACE(s);
    auto d = DecodeFiveBit(s);
    ASSERT_TRUE(d.ok()) << d.error().ToString();
    auto program = FiveBitToBytes(ByteView(d->data).subspan(1));
    ASSERT_FALSE(program.ok());
    EXPECT_EQ(program.error().code(), ErrorCode::kBadEncoding);
  }
}

TEST(Bech32Vectors, EncodeRejectsWhatDecodeWouldReject) {
  EXPECT_EQ(Encode("", Bytes{1}).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(Encode("Gonka", Bytes{1}).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(Encode("a b", Bytes{1}).error().code(), ErrorCode::kInvalidArgument);
  // 1 + 1 + 83 + 6 = 91 characters.
  EXPECT_EQ(EncodeFiveBit("a", std::vector<uint8_t>(83, 0)).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(EncodeFiveBit("a", std::vector<uint8_t>(82, 0)).ok());
  EXPECT_EQ(EncodeFiveBit("a", std::vector<uint8_t>{32}).error().code(), ErrorCode::kInvalidArgument);
}

TEST(Bech32Vectors, ByteRoundTripAndUppercase) {
  const Bytes data = testing::Hex("bc2da90c84049370d1b7c528bc164bc588833f21");
  auto s = Encode("gonka", data);
  ASSERT_TRUE(s.ok());
  auto back = Decode(*s, "gonka");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, data);
  std::string upper = *s;
  for (char& c : upper) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  auto up = Decode(upper, "gonka");
  ASSERT_TRUE(up.ok()) << up.error().ToString();
  EXPECT_EQ(*up, data);
  auto wrong = Decode(*s, "cosmos");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code(), ErrorCode::kMalformed);
}

}  // namespace
}  // namespace cmln::seal::bech32

// Account addresses end to end (private key -> compressed public key -> RIPEMD-160(SHA-256) ->
// bech32), against published Cosmos-family addresses, then re-encoded under the gonka prefix.
// Sources: trustwallet/wallet-core tests/chains/Cosmos/AddressTests.cpp (Cosmos_FromPublicKey);
// cosmos/cosmjs packages/amino pubkeyToAddress test (secp256k1 compressed); mrtnetwork/blockchain_utils
// test/address/atom/test_vector.dart (Terra, Band).
namespace cmln::seal {
namespace {

TEST(AccountAddressVectors, TrustWalletCosmosPrivateKeyToAddress) {
  auto key = AccountPrivateKey::FromBytes(testing::Hex("80e81ea269e66a0a05b11236df7919fb7fbeedba87452d667489d7403a02f005"));
  ASSERT_TRUE(key.ok()) << key.error().ToString();
  EXPECT_EQ(HexEncode(key->public_key()), "0257286ec3f37d33557bbbaa000b27744ac9023aa9967cae75a181d1ff91fa9dc5");
  const AccountAddress addr = AccountAddressFromPublicKey(key->public_key());
  EXPECT_EQ(HexEncode(addr), "bc2da90c84049370d1b7c528bc164bc588833f21");
  auto cosmos = bech32::Encode("cosmos", addr);
  ASSERT_TRUE(cosmos.ok());
  EXPECT_EQ(*cosmos, "cosmos1hsk6jryyqjfhp5dhc55tc9jtckygx0eph6dd02");
  // The same 20 bytes under the gonka prefix, and back.
  const std::string gonka = AccountAddressToString(addr);
  // Derived, not published: the published 20 bytes re-encoded (cross-checked with an independent
  // script implementation of BIP-173).
  EXPECT_EQ(gonka, "gonka1hsk6jryyqjfhp5dhc55tc9jtckygx0ep802ngg");
  auto from_cosmos = bech32::Decode("cosmos1hsk6jryyqjfhp5dhc55tc9jtckygx0eph6dd02", "cosmos");
  ASSERT_TRUE(from_cosmos.ok());
  auto from_gonka = AccountAddressFromString(gonka);
  ASSERT_TRUE(from_gonka.ok());
  EXPECT_EQ(Bytes(from_gonka->begin(), from_gonka->end()), *from_cosmos);
  // A cosmos1 address is not a gonka address.
  auto wrong = AccountAddressFromString("cosmos1hsk6jryyqjfhp5dhc55tc9jtckygx0eph6dd02");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code(), ErrorCode::kMalformed);
}

TEST(AccountAddressVectors, PublishedPublicKeysToAddresses) {
  struct Case {
    Bytes public_key;
    std::string hrp;
    std::string address;
  };
  auto cosmjs_key = Base64Decode("AtQaCqFnshaZQp6rIkvAPyzThvCvXSDO+9AzbxVErqJP");
  ASSERT_TRUE(cosmjs_key.ok());
  const std::vector<Case> cases = {
      {*cosmjs_key, "cosmos", "cosmos1h806c7khnvmjlywdrkdgk2vrayy2mmvf9rxk2r"},
      {testing::Hex("022a8752ce8480844725834ddc8b62ab42b05ff4f220336ea41c15a8ad0d155a0a"), "terra",
       "terra1dz5atdvdmfugpgum0mj0flq3asruycfyzh2waa"},
      {testing::Hex("03c749da3b0e419662625f6438d631e126ec86fee785e853fc695ba50c1e54a750"), "band",
       "band1tpedaeatr9qsv5sg38dmhnuwpvhjmuesql2rn9"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.address);
    ASSERT_EQ(c.public_key.size(), kAccountPublicKeySize);
    AccountPublicKey pk{};
    std::copy(c.public_key.begin(), c.public_key.end(), pk.begin());
    const AccountAddress addr = AccountAddressFromPublicKey(pk);
    auto encoded = bech32::Encode(c.hrp, addr);
    ASSERT_TRUE(encoded.ok());
    EXPECT_EQ(*encoded, c.address);
    auto gonka = AccountAddressFromString(AccountAddressToString(addr));
    ASSERT_TRUE(gonka.ok());
    EXPECT_EQ(*gonka, addr);
  }
}

}  // namespace
}  // namespace cmln::seal
