// AMD SEV-SNP ATTESTATION_REPORT: bytes -> struct (the parse step; knows no cryptography and no policy).
//
// Source: AMD SEV Secure Nested Paging Firmware ABI Specification, pub. 56860, "ATTESTATION_REPORT
// Structure" (report versions 2, 3 and 5). All integers are little-endian. The report is exactly
// 0x4A0 bytes; the signature covers bytes 0x000..0x29F.
//
//   offset  size  field
//   0x000   4     VERSION              2, 3 or 5 (anything else: kUnsupported)
//   0x004   4     GUEST_SVN
//   0x008   8     POLICY               bits 0-7 ABI_MINOR, 8-15 ABI_MAJOR, 16 SMT, 17 reserved (must be 1),
//                                      18 MIGRATE_MA, 19 DEBUG, 20 SINGLE_SOCKET, 21 CXL_ALLOW,
//                                      22 MEM_AES_256_XTS, 23 RAPL_DIS, 24 CIPHERTEXT_HIDING,
//                                      25 PAGE_SWAP_DISABLE, 26-63 must be zero
//   0x010   16    FAMILY_ID
//   0x020   16    IMAGE_ID
//   0x030   4     VMPL
//   0x034   4     SIGNATURE_ALGO       must be 1 (ECDSA P-384 with SHA-384)
//   0x038   8     CURRENT_TCB          TCB_VERSION (see below)
//   0x040   8     PLATFORM_INFO        bit 0 SMT_EN, 1 TSME_EN, 2 ECC_EN, 3 RAPL_DIS, 4 CIPHERTEXT_HIDING_EN,
//                                      5 ALIAS_CHECK_COMPLETE, ... (newer firmware adds bits: kept raw, not
//                                      rejected, so policy decides)
//   0x048   4     KEY_INFO             bit 0 AUTHOR_KEY_EN, 1 MASK_CHIP_KEY, 2-4 SIGNING_KEY (0 VCEK, 1 VLEK,
//                                      7 none; 2-6 reserved: kMalformed), 5-31 must be zero
//   0x04C   4     reserved             must be zero
//   0x050   64    REPORT_DATA
//   0x090   48    MEASUREMENT
//   0x0C0   32    HOST_DATA
//   0x0E0   48    ID_KEY_DIGEST
//   0x110   48    AUTHOR_KEY_DIGEST
//   0x140   32    REPORT_ID
//   0x160   32    REPORT_ID_MA
//   0x180   8     REPORTED_TCB         the TCB the VCEK was derived from
//   0x188   1     CPUID_FAM_ID         v3+ (v2: reserved, must be zero)
//   0x189   1     CPUID_MOD_ID         v3+
//   0x18A   1     CPUID_STEP           v3+
//   0x18B   21    reserved             must be zero
//   0x1A0   64    CHIP_ID              zero when MASK_CHIP_ID is set or the signer is a VLEK
//   0x1E0   8     COMMITTED_TCB
//   0x1E8   1+1+1 CURRENT_BUILD, CURRENT_MINOR, CURRENT_MAJOR
//   0x1EB   1     reserved             must be zero
//   0x1EC   1+1+1 COMMITTED_BUILD, COMMITTED_MINOR, COMMITTED_MAJOR
//   0x1EF   1     reserved             must be zero
//   0x1F0   8     LAUNCH_TCB
//   0x1F8   8     LAUNCH_MIT_VECTOR    v5 (v2/v3: reserved, must be zero)
//   0x200   8     CURRENT_MIT_VECTOR   v5
//   0x208   152   reserved             must be zero
//   0x2A0   72    SIGNATURE.R          little-endian, zero-padded above the 48-byte P-384 scalar
//   0x2E8   72    SIGNATURE.S          little-endian, zero-padded
//   0x330   368   reserved             must be zero
//
// TCB_VERSION (8 bytes, byte i = bits 8i..8i+7 of the little-endian value):
//   Milan / Genoa (CPUID family 19h, and every v2 report): [0] BOOT_LOADER [1] TEE [2..5] reserved
//                                                          [6] SNP [7] MICROCODE
//   Turin (CPUID family 1Ah):                              [0] FMC [1] BOOT_LOADER [2] TEE [3] SNP
//                                                          [4..6] reserved [7] MICROCODE
// Turin only produces v3+ reports, so a v2 report always uses the Milan/Genoa layout.
//
// Thread safety: everything here is a pure function of its arguments.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/bytes.h"
#include "common/status.h"

namespace cmln::attest::snp {

// --- wire layout ---------------------------------------------------------------------------------
inline constexpr size_t kReportSize = 0x4A0;
inline constexpr size_t kSignedSize = 0x2A0;  // the signature covers [0, kSignedSize)

inline constexpr size_t kOffVersion = 0x000;
inline constexpr size_t kOffGuestSvn = 0x004;
inline constexpr size_t kOffPolicy = 0x008;
inline constexpr size_t kOffFamilyId = 0x010;
inline constexpr size_t kOffImageId = 0x020;
inline constexpr size_t kOffVmpl = 0x030;
inline constexpr size_t kOffSignatureAlgo = 0x034;
inline constexpr size_t kOffCurrentTcb = 0x038;
inline constexpr size_t kOffPlatformInfo = 0x040;
inline constexpr size_t kOffKeyInfo = 0x048;
inline constexpr size_t kOffReserved0 = 0x04C;
inline constexpr size_t kOffReportData = 0x050;
inline constexpr size_t kOffMeasurement = 0x090;
inline constexpr size_t kOffHostData = 0x0C0;
inline constexpr size_t kOffIdKeyDigest = 0x0E0;
inline constexpr size_t kOffAuthorKeyDigest = 0x110;
inline constexpr size_t kOffReportId = 0x140;
inline constexpr size_t kOffReportIdMa = 0x160;
inline constexpr size_t kOffReportedTcb = 0x180;
inline constexpr size_t kOffCpuidFamily = 0x188;
inline constexpr size_t kOffCpuidModel = 0x189;
inline constexpr size_t kOffCpuidStepping = 0x18A;
inline constexpr size_t kOffReserved1 = 0x18B;
inline constexpr size_t kOffChipId = 0x1A0;
inline constexpr size_t kOffCommittedTcb = 0x1E0;
inline constexpr size_t kOffCurrentBuild = 0x1E8;
inline constexpr size_t kOffCommittedBuild = 0x1EC;
inline constexpr size_t kOffLaunchTcb = 0x1F0;
inline constexpr size_t kOffLaunchMitVector = 0x1F8;
inline constexpr size_t kOffCurrentMitVector = 0x200;
inline constexpr size_t kOffReserved3 = 0x208;
inline constexpr size_t kOffSignatureR = 0x2A0;
inline constexpr size_t kOffSignatureS = 0x2E8;
inline constexpr size_t kOffSignatureReserved = 0x330;

inline constexpr size_t kFamilyIdSize = 16;
inline constexpr size_t kImageIdSize = 16;
inline constexpr size_t kReportDataSize = 64;
inline constexpr size_t kMeasurementSize = 48;
inline constexpr size_t kHostDataSize = 32;
inline constexpr size_t kKeyDigestSize = 48;
inline constexpr size_t kReportIdSize = 32;
inline constexpr size_t kChipIdSize = 64;
inline constexpr size_t kSignatureComponentSize = 72;  // r and s, little-endian, zero-padded
inline constexpr size_t kP384ScalarSize = 48;

inline constexpr uint32_t kSignatureAlgoEcdsaP384Sha384 = 1;

// POLICY bits.
inline constexpr int kPolicyBitSmt = 16;
inline constexpr int kPolicyBitReservedOne = 17;
inline constexpr int kPolicyBitMigrateMa = 18;
inline constexpr int kPolicyBitDebug = 19;
inline constexpr int kPolicyBitSingleSocket = 20;
inline constexpr int kPolicyFirstMbzBit = 26;

// KEY_INFO bits.
inline constexpr uint32_t kKeyInfoAuthorKeyEn = 1u << 0;
inline constexpr uint32_t kKeyInfoMaskChipKey = 1u << 1;
inline constexpr int kKeyInfoSigningKeyShift = 2;
inline constexpr uint32_t kKeyInfoSigningKeyMask = 0x7;
inline constexpr int kKeyInfoFirstMbzBit = 5;

// CPUID family ids (extended family + base family) of the products we know.
inline constexpr uint8_t kCpuidFamilyZen3Zen4 = 0x19;  // Milan, Genoa
inline constexpr uint8_t kCpuidFamilyZen5 = 0x1A;      // Turin

// --- values --------------------------------------------------------------------------------------
enum class SnpProduct {
  kUnknown,  // a v2 report (no CPUID) before a certificate names the product
  kMilan,
  kGenoa,
  kTurin,
};
// "Milan", "Genoa", "Turin", "unknown".
const char* SnpProductName(SnpProduct p);

// Which TCB_VERSION byte layout applies.
enum class TcbLayout {
  kMilanGenoa,  // [0] BL [1] TEE [2..5] reserved [6] SNP [7] UCODE
  kTurin,       // [0] FMC [1] BL [2] TEE [3] SNP [4..6] reserved [7] UCODE
};
TcbLayout TcbLayoutFor(SnpProduct p);

// One TCB_VERSION, decoded per layout. `raw` keeps the exact 8 bytes as a little-endian integer.
struct TcbVersion {
  uint64_t raw = 0;
  TcbLayout layout = TcbLayout::kMilanGenoa;
  uint8_t fmc = 0;  // Turin only (0 for Milan/Genoa)
  uint8_t boot_loader = 0;
  uint8_t tee = 0;
  uint8_t snp = 0;
  uint8_t microcode = 0;

  // Byte i of the raw value.
  uint8_t Byte(int i) const { return static_cast<uint8_t>(raw >> (8 * i)); }
  // "bl=2 tee=0 snp=5 ucode=68" (Turin adds "fmc=..." first); for messages.
  std::string ToString() const;
};
TcbVersion DecodeTcbVersion(uint64_t raw, TcbLayout layout);

enum class SigningKey : uint8_t {
  kVcek = 0,
  kVlek = 1,
  kNone = 7,  // the report is not signed
};
const char* SigningKeyName(SigningKey k);  // "VCEK", "VLEK", "none"

// A parsed report. Byte fields are copies; `signed_bytes` is not kept — the verifier signs over the
// caller's original bytes.
struct SnpReport {
  uint32_t version = 0;
  uint32_t guest_svn = 0;
  uint64_t policy = 0;
  std::array<uint8_t, kFamilyIdSize> family_id{};
  std::array<uint8_t, kImageIdSize> image_id{};
  uint32_t vmpl = 0;
  uint32_t signature_algo = 0;
  TcbVersion current_tcb;
  uint64_t platform_info = 0;
  uint32_t key_info = 0;
  bool author_key_en = false;
  bool mask_chip_key = false;
  SigningKey signing_key = SigningKey::kVcek;
  std::array<uint8_t, kReportDataSize> report_data{};
  std::array<uint8_t, kMeasurementSize> measurement{};
  std::array<uint8_t, kHostDataSize> host_data{};
  std::array<uint8_t, kKeyDigestSize> id_key_digest{};
  std::array<uint8_t, kKeyDigestSize> author_key_digest{};
  std::array<uint8_t, kReportIdSize> report_id{};
  std::array<uint8_t, kReportIdSize> report_id_ma{};
  TcbVersion reported_tcb;
  bool has_cpuid = false;  // v3+
  uint8_t cpuid_family = 0;
  uint8_t cpuid_model = 0;
  uint8_t cpuid_stepping = 0;
  SnpProduct product = SnpProduct::kUnknown;  // from CPUID (v3+); kUnknown for v2
  std::array<uint8_t, kChipIdSize> chip_id{};
  TcbVersion committed_tcb;
  uint8_t current_build = 0, current_minor = 0, current_major = 0;
  uint8_t committed_build = 0, committed_minor = 0, committed_major = 0;
  TcbVersion launch_tcb;
  bool has_mit_vectors = false;  // v5
  uint64_t launch_mit_vector = 0;
  uint64_t current_mit_vector = 0;
  // Signature components, little-endian as on the wire (72 bytes each, zero-padded).
  std::array<uint8_t, kSignatureComponentSize> signature_r{};
  std::array<uint8_t, kSignatureComponentSize> signature_s{};

  bool debug() const { return (policy >> kPolicyBitDebug) & 1; }
  bool migrate_ma() const { return (policy >> kPolicyBitMigrateMa) & 1; }
  bool smt_allowed() const { return (policy >> kPolicyBitSmt) & 1; }
  bool single_socket() const { return (policy >> kPolicyBitSingleSocket) & 1; }
  TcbLayout tcb_layout() const { return reported_tcb.layout; }
};

// Product from CPUID family/model (v3+ reports): family 19h model 00h-0Fh Milan, 10h-1Fh and A0h-AFh
// Genoa; family 1Ah Turin; anything else kUnknown.
SnpProduct ProductFromCpuid(uint8_t family, uint8_t model);

// Parses exactly kReportSize bytes.
// Errors: kTruncated (shorter, with the offset of the field that did not fit), kTrailingData (longer),
// kUnsupported (VERSION not 2/3/5, SIGNATURE_ALGO not 1), kMalformed (a must-be-zero field or bit is
// not zero, POLICY bit 17 clear, SIGNING_KEY 2..6). Messages name the field and offset.
// On success every field above is filled and the TCB values are decoded with the layout of the
// product (Turin layout iff CPUID family is 1Ah).
Result<SnpReport> ParseSnpReport(ByteView bytes);

// The bytes the signature covers. REQUIRES: report.size() >= kSignedSize.
inline ByteView SignedRegion(ByteView report) { return report.first(kSignedSize); }

}  // namespace cmln::attest::snp
