// The unified attestation policy file (attest/policy_file.h): defaults, every key mapped onto TdxPolicy /
// SnpPolicy, canonical round trip, and strict refusal (unknown or duplicate keys, types, hex, lengths, ranges,
// empty lists, caps) with the exact ErrorCode and a message naming the key path.
#include "attest/policy_file.h"

#include <gtest/gtest.h>

#include <string>

namespace cmln::attest {
namespace {

const std::string kMr(size_t n, char c) { return std::string(2 * n, c); }

void ExpectDefault(const AttestPolicy& p) {
  EXPECT_FALSE(p.tdx.allow_debug_for_testing);
  EXPECT_FALSE(p.snp.allow_debug_for_testing);
  EXPECT_TRUE(p.tdx.allowed_mrtd.empty());
  for (const auto& r : p.tdx.allowed_rtmr) EXPECT_TRUE(r.empty());
  EXPECT_TRUE(p.tdx.allowed_mrconfigid.empty());
  EXPECT_EQ(p.tdx.accepted_tcb_statuses, (std::vector<TcbStatus>{TcbStatus::kUpToDate, TcbStatus::kSWHardeningNeeded}));
  EXPECT_FALSE(p.tdx.expected_report_data.has_value());
  EXPECT_TRUE(p.snp.allowed_measurements.empty());
  EXPECT_TRUE(p.snp.allowed_host_data.empty());
  EXPECT_FALSE(p.snp.minimum_tcb.has_value());
  EXPECT_FALSE(p.snp.expected_report_data.has_value());
  EXPECT_EQ(p.snp.max_vmpl, 3u);
  EXPECT_FALSE(p.snp.required_vmpl.has_value());
  EXPECT_TRUE(p.snp.allow_migrate_ma);
}

// Parses `text`, expecting failure with `code` and a message containing `needle`.
void ExpectRefused(const std::string& text, ErrorCode code, const std::string& needle) {
  SCOPED_TRACE(text);
  auto p = ParsePolicyJson(text);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code(), code) << p.error().ToString();
  EXPECT_NE(p.error().message().find(needle), std::string::npos) << p.error().message();
}

TEST(PolicyFile, EmptyObjectIsTheDefaultPolicy) {
  auto p = ParsePolicyJson("{}");
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  ExpectDefault(*p);
  ExpectDefault(DefaultAttestPolicy());
  auto v = ParsePolicyJson(" {\"version\": 1}\n");
  ASSERT_TRUE(v.ok());
  ExpectDefault(*v);
}

TEST(PolicyFile, EveryKeyMapsOntoThePlatformPolicies) {
  const std::string text = R"({
    "version": 1,
    "allow_debug_for_testing": true,
    "report_data": ")" + kMr(64, 'a') +
                           R"(",
    "tdx": {
      "mrtd": [")" + kMr(48, '1') +
                           R"(", ")" + kMr(48, '2') + R"("],
      "rtmr0": [")" + kMr(48, '3') +
                           R"("],
      "rtmr3": [")" + std::string(96, 'F') +
                           R"("],
      "mrconfigid": [")" + kMr(48, '4') +
                           R"("],
      "accepted_tcb_statuses": ["UpToDate", "OutOfDate", "TcbNotSupported"]
    },
    "snp": {
      "measurement": [")" + kMr(48, '5') +
                           R"("],
      "host_data": [")" + kMr(32, '6') +
                           R"(", ")" + kMr(32, '7') + R"("],
      "minimum_tcb": {"boot_loader": 3, "tee": 0, "snp": 8, "microcode": 115, "fmc": 255},
      "max_vmpl": 2,
      "required_vmpl": 1,
      "allow_migrate_ma": false
    }
  })";
  auto p = ParsePolicyJson(text);
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  EXPECT_TRUE(p->tdx.allow_debug_for_testing);
  EXPECT_TRUE(p->snp.allow_debug_for_testing);
  ASSERT_TRUE(p->tdx.expected_report_data.has_value());
  EXPECT_EQ(HexEncode(*p->tdx.expected_report_data), kMr(64, 'a'));
  ASSERT_TRUE(p->snp.expected_report_data.has_value());
  EXPECT_EQ(HexEncode(*p->snp.expected_report_data), kMr(64, 'a'));
  ASSERT_EQ(p->tdx.allowed_mrtd.size(), 2u);
  EXPECT_EQ(HexEncode(p->tdx.allowed_mrtd[1]), kMr(48, '2'));
  ASSERT_EQ(p->tdx.allowed_rtmr[0].size(), 1u);
  EXPECT_EQ(HexEncode(p->tdx.allowed_rtmr[0][0]), kMr(48, '3'));
  EXPECT_TRUE(p->tdx.allowed_rtmr[1].empty());
  EXPECT_TRUE(p->tdx.allowed_rtmr[2].empty());
  ASSERT_EQ(p->tdx.allowed_rtmr[3].size(), 1u);
  EXPECT_EQ(HexEncode(p->tdx.allowed_rtmr[3][0]), kMr(48, 'f'));  // upper-case hex accepted
  ASSERT_EQ(p->tdx.allowed_mrconfigid.size(), 1u);
  EXPECT_EQ(p->tdx.accepted_tcb_statuses,
            (std::vector<TcbStatus>{TcbStatus::kUpToDate, TcbStatus::kOutOfDate, TcbStatus::kTcbNotSupported}));
  ASSERT_EQ(p->snp.allowed_measurements.size(), 1u);
  EXPECT_EQ(HexEncode(p->snp.allowed_measurements[0]), kMr(48, '5'));
  ASSERT_EQ(p->snp.allowed_host_data.size(), 2u);
  EXPECT_EQ(HexEncode(p->snp.allowed_host_data[1]), kMr(32, '7'));
  ASSERT_TRUE(p->snp.minimum_tcb.has_value());
  EXPECT_EQ(p->snp.minimum_tcb->boot_loader, 3);
  EXPECT_EQ(p->snp.minimum_tcb->tee, 0);
  EXPECT_EQ(p->snp.minimum_tcb->snp, 8);
  EXPECT_EQ(p->snp.minimum_tcb->microcode, 115);
  EXPECT_EQ(p->snp.minimum_tcb->fmc, 255);
  EXPECT_EQ(p->snp.max_vmpl, 2u);
  ASSERT_TRUE(p->snp.required_vmpl.has_value());
  EXPECT_EQ(*p->snp.required_vmpl, 1u);
  EXPECT_FALSE(p->snp.allow_migrate_ma);

  // Canonical form round-trips to the same policy and the same document.
  const nlohmann::json canonical = PolicyToJson(*p);
  auto again = ParsePolicyJson(canonical.dump());
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_EQ(PolicyToJson(*again), canonical);
  EXPECT_EQ(again->tdx.allowed_rtmr, p->tdx.allowed_rtmr);
  EXPECT_EQ(again->snp.allowed_host_data, p->snp.allowed_host_data);
  EXPECT_EQ(again->snp.minimum_tcb->microcode, 115);
}

TEST(PolicyFile, MinimumTcbKeysDefaultToZero) {
  auto p = ParsePolicyJson(R"({"snp": {"minimum_tcb": {"snp": 9}}})");
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  ASSERT_TRUE(p->snp.minimum_tcb.has_value());
  EXPECT_EQ(p->snp.minimum_tcb->snp, 9);
  EXPECT_EQ(p->snp.minimum_tcb->boot_loader, 0);
  EXPECT_EQ(p->snp.minimum_tcb->microcode, 0);
}

TEST(PolicyFile, UnknownKeysAreRefusedWithTheirPath) {
  ExpectRefused(R"({"colour": 1})", ErrorCode::kMalformed, "colour: unknown key");
  ExpectRefused(R"({"tdx": {"mrtdd": []}})", ErrorCode::kMalformed, "tdx.mrtdd: unknown key");
  ExpectRefused(R"({"snp": {"vmpl": 0}})", ErrorCode::kMalformed, "snp.vmpl: unknown key");
  ExpectRefused(R"({"snp": {"minimum_tcb": {"ucode": 1}}})", ErrorCode::kMalformed, "snp.minimum_tcb.ucode");
  // A TDX key under snp is unknown there.
  ExpectRefused(R"({"snp": {"mrtd": []}})", ErrorCode::kMalformed, "snp.mrtd");
}

TEST(PolicyFile, DuplicateKeysAreRefused) {
  ExpectRefused(R"({"allow_debug_for_testing": false, "allow_debug_for_testing": true})", ErrorCode::kMalformed,
                "duplicate key \"allow_debug_for_testing\"");
  ExpectRefused(R"({"tdx": {"mrtd": ["00"], "mrtd": ["11"]}})", ErrorCode::kMalformed, "duplicate key \"mrtd\"");
}

TEST(PolicyFile, NotJsonNamesTheByteOffset) {
  ExpectRefused("{\"tdx\": }", ErrorCode::kBadEncoding, "not JSON at byte 9");
  ExpectRefused("", ErrorCode::kBadEncoding, "not JSON");
  ExpectRefused("{} {}", ErrorCode::kBadEncoding, "not JSON");
  ExpectRefused("[]", ErrorCode::kMalformed, "want an object, got array");
  ExpectRefused(R"({"tdx": []})", ErrorCode::kMalformed, "tdx: want an object, got array");
  ExpectRefused(R"({"snp": {"minimum_tcb": [[[[[[[[[]]]]]]]]]}})", ErrorCode::kMalformed, "nested deeper");
}

TEST(PolicyFile, TypesAreChecked) {
  ExpectRefused(R"({"allow_debug_for_testing": "yes"})", ErrorCode::kMalformed,
                "allow_debug_for_testing: want true or false, got string");
  ExpectRefused(R"({"allow_debug_for_testing": 0})", ErrorCode::kMalformed, "allow_debug_for_testing");
  ExpectRefused(R"({"tdx": {"mrtd": ")" + kMr(48, '0') + R"("}})", ErrorCode::kMalformed,
                "tdx.mrtd: want a list of hex strings, got string");
  ExpectRefused(R"({"tdx": {"rtmr2": [1]}})", ErrorCode::kMalformed, "tdx.rtmr2[0]: want a hex string of 48 bytes");
  ExpectRefused(R"({"snp": {"max_vmpl": "1"}})", ErrorCode::kMalformed,
                "snp.max_vmpl: want an integer 0..3, got string");
  ExpectRefused(R"({"snp": {"max_vmpl": 1.0}})", ErrorCode::kMalformed, "snp.max_vmpl: want an integer");
  ExpectRefused(R"({"snp": {"allow_migrate_ma": null}})", ErrorCode::kMalformed, "snp.allow_migrate_ma");
  ExpectRefused(R"({"tdx": {"accepted_tcb_statuses": [2]}})", ErrorCode::kMalformed,
                "tdx.accepted_tcb_statuses[0]: want a TCB status name");
}

TEST(PolicyFile, HexAndLengthsAreChecked) {
  ExpectRefused(R"({"tdx": {"rtmr1": [")" + kMr(48, '0') + R"(", ")" + std::string(95, '0') + R"(g"]}})",
                ErrorCode::kBadEncoding, "tdx.rtmr1[1]: not hex");
  ExpectRefused(R"({"report_data": ")" + kMr(64, '0') + R"(0"})", ErrorCode::kBadEncoding, "report_data: not hex");
  ExpectRefused(R"({"report_data": "0x)" + kMr(63, '0') + R"(00"})", ErrorCode::kBadEncoding, "report_data: not hex");
  ExpectRefused(R"({"tdx": {"mrconfigid": [")" + kMr(47, '0') + R"("]}})", ErrorCode::kMalformed,
                "tdx.mrconfigid[0]: 47 bytes, want 48");
  ExpectRefused(R"({"snp": {"host_data": [")" + kMr(48, '0') + R"("]}})", ErrorCode::kMalformed,
                "snp.host_data[0]: 48 bytes, want 32");
  ExpectRefused(R"({"snp": {"measurement": [")" + kMr(32, '0') + R"("]}})", ErrorCode::kMalformed,
                "snp.measurement[0]: 32 bytes, want 48");
  ExpectRefused(R"({"report_data": ")" + kMr(32, '0') + R"("})", ErrorCode::kMalformed,
                "report_data: 32 bytes, want 64");
}

TEST(PolicyFile, RangesAndEmptyListsAreRefused) {
  ExpectRefused(R"({"snp": {"max_vmpl": 4}})", ErrorCode::kMalformed, "snp.max_vmpl: value 4 out of range 0..3");
  ExpectRefused(R"({"snp": {"required_vmpl": -1}})", ErrorCode::kMalformed, "snp.required_vmpl: value -1 out of range");
  ExpectRefused(R"({"snp": {"minimum_tcb": {"microcode": 256}}})", ErrorCode::kMalformed,
                "snp.minimum_tcb.microcode: value 256 out of range 0..255");
  ExpectRefused(R"({"snp": {"max_vmpl": 0, "required_vmpl": 1}})", ErrorCode::kMalformed,
                "snp.required_vmpl: 1 is above snp.max_vmpl 0");
  ExpectRefused(R"({"tdx": {"mrtd": []}})", ErrorCode::kMalformed, "tdx.mrtd: empty list");
  ExpectRefused(R"({"snp": {"host_data": []}})", ErrorCode::kMalformed, "snp.host_data: empty list");
  ExpectRefused(R"({"tdx": {"accepted_tcb_statuses": []}})", ErrorCode::kMalformed, "empty list");
  ExpectRefused(R"({"version": 2})", ErrorCode::kMalformed, "version: is 2, want 1");
  ExpectRefused(R"({"version": "1"})", ErrorCode::kMalformed, "version");
}

TEST(PolicyFile, TcbStatusNamesAreIntelsSpelling) {
  ExpectRefused(R"({"tdx": {"accepted_tcb_statuses": ["uptodate"]}})", ErrorCode::kMalformed,
                "tdx.accepted_tcb_statuses[0]: unknown TCB status \"uptodate\"");
  // "Unknown" is the verdict's word for "not evaluated", never a status a policy can accept.
  ExpectRefused(R"({"tdx": {"accepted_tcb_statuses": ["Unknown"]}})", ErrorCode::kMalformed, "unknown TCB status");
  ExpectRefused(R"({"tdx": {"accepted_tcb_statuses": ["UpToDate", "UpToDate"]}})", ErrorCode::kMalformed,
                "tdx.accepted_tcb_statuses[1]: \"UpToDate\" listed twice");
  auto all = ParsePolicyJson(R"({"tdx": {"accepted_tcb_statuses": ["UpToDate", "SWHardeningNeeded",
      "ConfigurationNeeded", "ConfigurationAndSWHardeningNeeded", "OutOfDate", "OutOfDateConfigurationNeeded",
      "Revoked", "TcbNotSupported"]}})");
  ASSERT_TRUE(all.ok()) << all.error().ToString();
  EXPECT_EQ(all->tdx.accepted_tcb_statuses.size(), 8u);
}

TEST(PolicyFile, CapsAreEnforced) {
  std::string big = "{\"tdx\": {\"mrtd\": [";
  for (size_t i = 0; i <= kMaxPolicyListEntries; ++i) big += (i ? ",\"" : "\"") + kMr(48, '0') + "\"";
  big += "]}}";
  ASSERT_LT(big.size(), kMaxPolicyFileSize);
  ExpectRefused(big, ErrorCode::kLengthTooLarge, "tdx.mrtd: 257 entries, at most 256");
  ExpectRefused(std::string(kMaxPolicyFileSize + 1, ' '), ErrorCode::kLengthTooLarge, "at most 65536");
}

TEST(PolicyFile, ReadPolicyFileNamesThePath) {
  auto missing = ReadPolicyFile("/nonexistent/cmln-policy.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message().find("/nonexistent/cmln-policy.json"), std::string::npos);

  const std::string path = ::testing::TempDir() + "/policy_file_test.json";
  FILE* f = fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  fputs("{\"snp\": {\"bogus\": true}}", f);
  fclose(f);
  auto bad = ReadPolicyFile(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::kMalformed);
  EXPECT_NE(bad.error().message().find(path + ": snp.bogus"), std::string::npos) << bad.error().message();
}

}  // namespace
}  // namespace cmln::attest
