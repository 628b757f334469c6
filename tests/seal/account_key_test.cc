// secp256k1 account keys: RIPEMD-160 and RFC 6979 known answers, low-S signing, strict verification
// with exact error codes, key validation, and concurrent use of the shared context.
#include "seal/account_key.h"

#include <gtest/gtest.h>
#include <secp256k1.h>

#include <string>
#include <thread>
#include <vector>

#include "seal/bech32.h"
#include "testing/test_util.h"

namespace cmln::seal {
namespace {

using testing::Hex;

constexpr char kOrderHex[] = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";
constexpr char kHalfOrderHex[] = "7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0";

// a - b for 32-byte big-endian values with a >= b.
Bytes Sub256(const Bytes& a, const Bytes& b) {
  Bytes out(32);
  int borrow = 0;
  for (int i = 31; i >= 0; --i) {
    int d = a[i] - b[i] - borrow;
    borrow = d < 0 ? 1 : 0;
    out[i] = static_cast<uint8_t>(d + (borrow ? 256 : 0));
  }
  return out;
}

// Lexicographic compare of equal-length big-endian values.
bool LessOrEqual(ByteView a, ByteView b) {
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return a[i] < b[i];
  }
  return true;
}

// RIPEMD-160 test vectors of Dobbertin, Bosselaers and Preneel ("RIPEMD-160: A Strengthened Version
// of RIPEMD", and the authors' page at homes.esat.kuleuven.be/~bosselae/ripemd160.html).
TEST(Ripemd160, PaperVectors) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "9c1185a5c5e9fc54612808977ee8f548b2258d31"},
      {"a", "0bdc9d2d256b3ee9daae347be6f4dc835a467ffe"},
      {"abc", "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc"},
      {"message digest", "5d0689ef49d2fae572b881b123a85ffa21595f36"},
      {"abcdefghijklmnopqrstuvwxyz", "f71c27109c692c1b56bbdceb5b9d2865b3708dbc"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "12a053384a9c0c88e405a06c27dcf49ada62eb2b"},
      {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
       "b0e20b6e3116640286ed3a87a5713079b21f5189"},
      {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
       "9b752e45573d4b39f4dbd3323cab82bf63326bfb"},
      {std::string(1000000, 'a'), "52783243c1697bdbe16d37f97f68f08325dc1528"},
  };
  for (const auto& [msg, want] : cases) {
    EXPECT_EQ(HexEncode(Ripemd160(AsBytes(msg))), want) << "input of " << msg.size() << " bytes";
  }
}

// RFC 6979 deterministic ECDSA on secp256k1 with SHA-256, the community vectors first posted on
// bitcointalk topic 285142 (also in bitcoinj/python-ecdsa/trezor-crypto tests), given there both as
// the raw signature and with S normalized to the lower half. `high_s` is the raw S where it differs.
struct Rfc6979Case {
  const char* private_key;
  std::string message;
  const char* r;
  const char* low_s;
  const char* high_s;  // nullptr when the raw S is already low
};

std::vector<Rfc6979Case> Rfc6979Cases() {
  return {
      {"0000000000000000000000000000000000000000000000000000000000000001", "Satoshi Nakamoto",
       "934b1ea10a4b3c1757e2b0c017d0b6143ce3c9a7e6a4a49860d7a6ab210ee3d8",
       "2442ce9d2b916064108014783e923ec36b49743e2ffa1c4496f01a512aafd9e5",
       "dbbd3162d46e9f9bef7feb87c16dc13b4f6568a87f4e83f728e2443ba586675c"},
      {"0000000000000000000000000000000000000000000000000000000000000001",
       "All those moments will be lost in time, like tears in rain. Time to die...",
       "8600dbd41e348fe5c9465ab92d23e3db8b98b873beecd930736488696438cb6b",
       "547fe64427496db33bf66019dacbf0039c04199abb0122918601db38a72cfc21",
       "ab8019bbd8b6924cc4099fe625340ffb1eaac34bf4477daa39d0835429094520"},
      {"fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140", "Satoshi Nakamoto",
       "fd567d121db66e382991534ada77a6bd3106f0a1098c231e47993447cd6af2d0",
       "6b39cd0eb1bc8603e159ef5c20a5c8ad685a45b06ce9bebed3f153d10d93bed5",
       "94c632f14e4379fc1ea610a3df5a375152549736425ee17cebe10abbc2a2826c"},
      {"f8b8af8ce3c7cca5e300d33939540c10d45ce001b8f252bfbc57ba0342904181", "Alan Turing",
       "7063ae83e7f62bbb171798131b4a0564b956930092b33b07b395615d9ec7e15c",
       "58dfcc1e00a35e1572f366ffe34ba0fc47db1e7189759b9fb233c5b05ab388ea",
       "a72033e1ff5ca1ea8d0c99001cb45f0272d3be7525d3049c0d9e98dc7582b857"},
      {"e91671c46231f833a6406ccbea0e3e392c76c167bac1cb013f6f1013980455c2",
       "There is a computer disease that anybody who works with computers knows about. It's a very serious "
       "disease and it interferes completely with the work. The trouble with computers is that you 'play' "
       "with them!",
       "b552edd27580141f3b2a5463048cb7cd3e047b97c9f98076c32dbdf85a68718b",
       "279fa72dd19bfae05577e06c7c0c1900c371fcd5893f7e1d56a37d30174671f6", nullptr},
  };
}

TEST(AccountKey, Rfc6979KnownAnswersAreLowS) {
  for (const auto& c : Rfc6979Cases()) {
    SCOPED_TRACE(c.message.substr(0, 20));
    auto key = AccountPrivateKey::FromBytes(Hex(c.private_key));
    ASSERT_TRUE(key.ok()) << key.error().ToString();
    auto sig = key->SignMessage(AsBytes(c.message));
    ASSERT_TRUE(sig.ok());
    EXPECT_EQ(HexEncode(*sig), std::string(c.r) + c.low_s);
    EXPECT_TRUE(Secp256k1VerifyMessage(key->public_key(), AsBytes(c.message), *sig).ok());
    // Sign(SHA-256(m)) is the same thing.
    auto sig2 = key->Sign(Sha256(AsBytes(c.message)));
    ASSERT_TRUE(sig2.ok());
    EXPECT_EQ(*sig2, *sig);
  }
}

TEST(AccountKey, HighSTwinIsRejectedByLibsecp256k1AndByVerify) {
  const Bytes n = Hex(kOrderHex);
  size_t high_cases = 0;
  for (const auto& c : Rfc6979Cases()) {
    SCOPED_TRACE(c.message.substr(0, 20));
    auto key = AccountPrivateKey::FromBytes(Hex(c.private_key));
    ASSERT_TRUE(key.ok());
    const Bytes low_s = Hex(c.low_s);
    const Bytes high_s = Sub256(n, low_s);
    if (c.high_s != nullptr) {
      EXPECT_EQ(HexEncode(high_s), c.high_s);  // the published raw S is n - low S
      ++high_cases;
    }
    const Bytes high_sig = Concat(Hex(c.r), high_s);
    const Digest32 digest = Sha256(AsBytes(c.message));

    // libsecp256k1 itself: verify refuses the high-S form, normalize maps it to the low form.
    secp256k1_context* ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    secp256k1_pubkey pk;
    ASSERT_EQ(secp256k1_ec_pubkey_parse(ctx, &pk, key->public_key().data(), key->public_key().size()), 1);
    secp256k1_ecdsa_signature sig;
    ASSERT_EQ(secp256k1_ecdsa_signature_parse_compact(ctx, &sig, high_sig.data()), 1);
    EXPECT_EQ(secp256k1_ecdsa_verify(ctx, &sig, digest.data(), &pk), 0);
    EXPECT_EQ(secp256k1_ecdsa_signature_normalize(ctx, &sig, &sig), 1);  // 1 = it was high
    EXPECT_EQ(secp256k1_ecdsa_verify(ctx, &sig, digest.data(), &pk), 1);
    secp256k1_context_destroy(ctx);

    auto st = Secp256k1Verify(key->public_key(), digest, high_sig);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code(), ErrorCode::kBadSignature);
  }
  EXPECT_EQ(high_cases, 4u);
}

TEST(AccountKey, FromBytesValidatesRange) {
  const Bytes n = Hex(kOrderHex);
  Bytes one(32, 0);
  one[31] = 1;
  const Bytes n_minus_1 = Sub256(n, one);
  EXPECT_TRUE(AccountPrivateKey::FromBytes(one).ok());
  EXPECT_TRUE(AccountPrivateKey::FromBytes(n_minus_1).ok());
  for (const Bytes& bad : {Bytes(32, 0), n, Bytes(32, 0xff), Bytes(31, 1), Bytes(33, 1), Bytes()}) {
    auto k = AccountPrivateKey::FromBytes(bad);
    ASSERT_FALSE(k.ok()) << HexEncode(bad);
    EXPECT_EQ(k.error().code(), ErrorCode::kInvalidKey);
  }
  // Key 1 has the generator as its public key.
  EXPECT_EQ(HexEncode(AccountPrivateKey::FromBytes(one)->public_key()),
            "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
}

TEST(AccountKey, GenerateGivesDistinctWorkingKeys) {
  auto a = AccountPrivateKey::Generate();
  auto b = AccountPrivateKey::Generate();
  EXPECT_NE(HexEncode(a.scalar()), HexEncode(b.scalar()));
  EXPECT_NE(a.public_key(), b.public_key());
  EXPECT_TRUE(a.public_key()[0] == 0x02 || a.public_key()[0] == 0x03);
  // The public key is the one FromBytes derives from the same scalar.
  auto again = AccountPrivateKey::FromBytes(a.scalar());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->public_key(), a.public_key());
  auto sig = a.SignMessage(AsBytes("hello"));
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(Secp256k1VerifyMessage(a.public_key(), AsBytes("hello"), *sig).ok());
  auto wrong_key = Secp256k1VerifyMessage(b.public_key(), AsBytes("hello"), *sig);
  ASSERT_FALSE(wrong_key.ok());
  EXPECT_EQ(wrong_key.error().code(), ErrorCode::kBadSignature);
}

TEST(AccountKey, SigningIsDeterministicAndAlwaysLowS) {
  const Bytes half = Hex(kHalfOrderHex);
  for (int i = 0; i < 64; ++i) {
    auto key = AccountPrivateKey::Generate();
    const std::string msg = "message " + std::to_string(i);
    auto s1 = key.SignMessage(AsBytes(msg));
    auto s2 = key.SignMessage(AsBytes(msg));
    ASSERT_TRUE(s1.ok() && s2.ok());
    EXPECT_EQ(*s1, *s2);
    EXPECT_TRUE(LessOrEqual(ByteView(*s1).subspan(32), half)) << HexEncode(*s1);
  }
}

TEST(AccountKey, VerifyRejectsWithExactCodes) {
  auto key = AccountPrivateKey::FromBytes(Hex("f8b8af8ce3c7cca5e300d33939540c10d45ce001b8f252bfbc57ba0342904181"));
  ASSERT_TRUE(key.ok());
  const Digest32 digest = Sha256(AsBytes("Alan Turing"));
  auto sig = key->Sign(digest);
  ASSERT_TRUE(sig.ok());
  const Bytes pub(key->public_key().begin(), key->public_key().end());
  ASSERT_TRUE(Secp256k1Verify(pub, digest, *sig).ok());

  auto code = [](const Status& s) { return s.ok() ? ErrorCode::kOk : s.error().code(); };
  // Public key: wrong size, uncompressed prefix in 33 bytes, x not below p.
  EXPECT_EQ(code(Secp256k1Verify(ByteView(pub).subspan(1), digest, *sig)), ErrorCode::kInvalidKey);
  Bytes prefix04 = pub;
  prefix04[0] = 0x04;
  EXPECT_EQ(code(Secp256k1Verify(prefix04, digest, *sig)), ErrorCode::kInvalidKey);
  Bytes x_too_big(33, 0xff);
  x_too_big[0] = 0x02;
  EXPECT_EQ(code(Secp256k1Verify(x_too_big, digest, *sig)), ErrorCode::kInvalidKey);
  // Digest size.
  EXPECT_EQ(code(Secp256k1Verify(pub, ByteView(digest).subspan(1), *sig)), ErrorCode::kInvalidArgument);
  // Signature: wrong size, r = n (overflow), flipped bits in r, s and digest.
  EXPECT_EQ(code(Secp256k1Verify(pub, digest, ByteView(*sig).subspan(1))), ErrorCode::kBadSignature);
  const Bytes overflow = Concat(Hex(kOrderHex), ByteView(*sig).subspan(32));
  EXPECT_EQ(code(Secp256k1Verify(pub, digest, overflow)), ErrorCode::kBadSignature);
  for (size_t i : {size_t{0}, size_t{31}, size_t{32}, size_t{63}}) {
    Bytes flipped(sig->begin(), sig->end());
    flipped[i] ^= 0x01;
    EXPECT_EQ(code(Secp256k1Verify(pub, digest, flipped)), ErrorCode::kBadSignature) << "byte " << i;
  }
  Digest32 other = digest;
  other[0] ^= 0x80;
  EXPECT_EQ(code(Secp256k1Verify(pub, other, *sig)), ErrorCode::kBadSignature);
  // All-zero signature.
  EXPECT_EQ(code(Secp256k1Verify(pub, digest, Bytes(64, 0))), ErrorCode::kBadSignature);
}

TEST(AccountKey, AddressParsingErrors) {
  auto key = AccountPrivateKey::Generate();
  const AccountAddress addr = AccountAddressFromPublicKey(key.public_key());
  const std::string text = AccountAddressToString(addr);
  auto back = AccountAddressFromString(text);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, addr);
  // 32 data bytes under the right prefix.
  auto long_data = bech32::Encode("gonka", Bytes(32, 7));
  ASSERT_TRUE(long_data.ok());
  EXPECT_EQ(AccountAddressFromString(*long_data).error().code(), ErrorCode::kMalformed);
  std::string typo = text;
  typo[10] = (typo[10] == 'q') ? 'p' : 'q';
  EXPECT_EQ(AccountAddressFromString(typo).error().code(), ErrorCode::kChecksumMismatch);
  EXPECT_EQ(AccountAddressFromString("gonka").error().code(), ErrorCode::kBadEncoding);
}

TEST(AccountKey, ConcurrentSignAndVerifyShareTheContext) {
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &failures] {
      for (int i = 0; i < 50; ++i) {
        auto key = AccountPrivateKey::Generate();
        const std::string msg = std::to_string(t) + ":" + std::to_string(i);
        auto sig = key.SignMessage(AsBytes(msg));
        if (!sig.ok() || !Secp256k1VerifyMessage(key.public_key(), AsBytes(msg), *sig).ok()) ++failures[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

}  // namespace
}  // namespace cmln::seal
