// AMD SEV-SNP ATTESTATION_REPORT parser. The grammar (offsets, sizes, must-be-zero fields and the two
// TCB_VERSION layouts) is in snp_report.h; this file reads it front to back with one ByteReader so a
// short input fails with the offset of the first field that did not fit.
#include "attest/snp_report.h"

#include <algorithm>
#include <cstdio>
#include <string_view>

#include "common/byte_reader.h"

namespace cmln::attest::snp {

namespace {

std::string HexOffset(size_t off) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%03zX", off);
  return buf;
}

// Reads n bytes that the specification requires to be zero.
Status ReadMbz(ByteReader& r, size_t n, std::string_view field) {
  const size_t start = r.offset();
  CMLN_ASSIGN_OR_RETURN(ByteView b, r.Bytes(n, field));
  for (size_t i = 0; i < b.size(); ++i) {
    if (b[i] != 0) {
      return Error(ErrorCode::kMalformed, std::string(field) + " at " + HexOffset(start) +
                                              " must be zero, byte at " + HexOffset(start + i) + " is not");
    }
  }
  return OkStatus();
}

Result<TcbVersion> ReadTcb(ByteReader& r, std::string_view field) {
  CMLN_ASSIGN_OR_RETURN(uint64_t raw, r.U64LE(field));
  TcbVersion t;
  t.raw = raw;  // decoded once the product (and so the layout) is known
  return t;
}

}  // namespace

const char* SnpProductName(SnpProduct p) {
  switch (p) {
    case SnpProduct::kMilan: return "Milan";
    case SnpProduct::kGenoa: return "Genoa";
    case SnpProduct::kTurin: return "Turin";
    case SnpProduct::kUnknown: break;
  }
  return "unknown";
}

TcbLayout TcbLayoutFor(SnpProduct p) {
  return p == SnpProduct::kTurin ? TcbLayout::kTurin : TcbLayout::kMilanGenoa;
}

TcbVersion DecodeTcbVersion(uint64_t raw, TcbLayout layout) {
  TcbVersion t;
  t.raw = raw;
  t.layout = layout;
  if (layout == TcbLayout::kTurin) {
    t.fmc = t.Byte(0);
    t.boot_loader = t.Byte(1);
    t.tee = t.Byte(2);
    t.snp = t.Byte(3);
  } else {
    t.boot_loader = t.Byte(0);
    t.tee = t.Byte(1);
    t.snp = t.Byte(6);
  }
  t.microcode = t.Byte(7);
  return t;
}

std::string TcbVersion::ToString() const {
  std::string s;
  if (layout == TcbLayout::kTurin) s = "fmc=" + std::to_string(fmc) + " ";
  s += "bl=" + std::to_string(boot_loader) + " tee=" + std::to_string(tee) + " snp=" + std::to_string(snp) +
       " ucode=" + std::to_string(microcode);
  return s;
}

const char* SigningKeyName(SigningKey k) {
  switch (k) {
    case SigningKey::kVcek: return "VCEK";
    case SigningKey::kVlek: return "VLEK";
    case SigningKey::kNone: return "none";
  }
  return "reserved";
}

SnpProduct ProductFromCpuid(uint8_t family, uint8_t model) {
  if (family == kCpuidFamilyZen3Zen4) {
    if (model <= 0x0F) return SnpProduct::kMilan;
    if ((model >= 0x10 && model <= 0x1F) || (model >= 0xA0 && model <= 0xAF)) return SnpProduct::kGenoa;
    return SnpProduct::kUnknown;
  }
  if (family == kCpuidFamilyZen5) return SnpProduct::kTurin;
  return SnpProduct::kUnknown;
}

Result<SnpReport> ParseSnpReport(ByteView bytes) {
  if (bytes.size() > kReportSize) {
    return Error(ErrorCode::kTrailingData, "SNP report is " + std::to_string(bytes.size()) + " bytes, want " +
                                               std::to_string(kReportSize));
  }
  ByteReader r(bytes);
  SnpReport rep;

  CMLN_ASSIGN_OR_RETURN(rep.version, r.U32LE("VERSION"));
  if (rep.version != 2 && rep.version != 3 && rep.version != 5) {
    return Error(ErrorCode::kUnsupported,
                 "VERSION at 0x000 is " + std::to_string(rep.version) + ", supported: 2, 3, 5");
  }
  CMLN_ASSIGN_OR_RETURN(rep.guest_svn, r.U32LE("GUEST_SVN"));
  CMLN_ASSIGN_OR_RETURN(rep.policy, r.U64LE("POLICY"));
  if (((rep.policy >> kPolicyBitReservedOne) & 1) == 0) {
    return Error(ErrorCode::kMalformed, "POLICY at 0x008: bit 17 is reserved and must be one");
  }
  if ((rep.policy >> kPolicyFirstMbzBit) != 0) {
    return Error(ErrorCode::kMalformed, "POLICY at 0x008: bits 26-63 must be zero");
  }
  CMLN_TRY(r.Array(rep.family_id, "FAMILY_ID"));
  CMLN_TRY(r.Array(rep.image_id, "IMAGE_ID"));
  CMLN_ASSIGN_OR_RETURN(rep.vmpl, r.U32LE("VMPL"));
  CMLN_ASSIGN_OR_RETURN(rep.signature_algo, r.U32LE("SIGNATURE_ALGO"));
  if (rep.signature_algo != kSignatureAlgoEcdsaP384Sha384) {
    return Error(ErrorCode::kUnsupported, "SIGNATURE_ALGO at 0x034 is " + std::to_string(rep.signature_algo) +
                                              ", want 1 (ECDSA P-384 with SHA-384)");
  }
  CMLN_ASSIGN_OR_RETURN(rep.current_tcb, ReadTcb(r, "CURRENT_TCB"));
  CMLN_ASSIGN_OR_RETURN(rep.platform_info, r.U64LE("PLATFORM_INFO"));
  CMLN_ASSIGN_OR_RETURN(rep.key_info, r.U32LE("KEY_INFO"));
  if ((rep.key_info >> kKeyInfoFirstMbzBit) != 0) {
    return Error(ErrorCode::kMalformed, "KEY_INFO at 0x048: bits 5-31 must be zero");
  }
  rep.author_key_en = (rep.key_info & kKeyInfoAuthorKeyEn) != 0;
  rep.mask_chip_key = (rep.key_info & kKeyInfoMaskChipKey) != 0;
  const uint32_t signing_key = (rep.key_info >> kKeyInfoSigningKeyShift) & kKeyInfoSigningKeyMask;
  if (signing_key != 0 && signing_key != 1 && signing_key != 7) {
    return Error(ErrorCode::kMalformed,
                 "KEY_INFO at 0x048: SIGNING_KEY " + std::to_string(signing_key) + " is reserved");
  }
  rep.signing_key = static_cast<SigningKey>(signing_key);
  CMLN_TRY(ReadMbz(r, kOffReportData - kOffReserved0, "reserved"));
  CMLN_TRY(r.Array(rep.report_data, "REPORT_DATA"));
  CMLN_TRY(r.Array(rep.measurement, "MEASUREMENT"));
  CMLN_TRY(r.Array(rep.host_data, "HOST_DATA"));
  CMLN_TRY(r.Array(rep.id_key_digest, "ID_KEY_DIGEST"));
  CMLN_TRY(r.Array(rep.author_key_digest, "AUTHOR_KEY_DIGEST"));
  CMLN_TRY(r.Array(rep.report_id, "REPORT_ID"));
  CMLN_TRY(r.Array(rep.report_id_ma, "REPORT_ID_MA"));
  CMLN_ASSIGN_OR_RETURN(rep.reported_tcb, ReadTcb(r, "REPORTED_TCB"));
  if (rep.version >= 3) {
    rep.has_cpuid = true;
    CMLN_ASSIGN_OR_RETURN(rep.cpuid_family, r.U8("CPUID_FAM_ID"));
    CMLN_ASSIGN_OR_RETURN(rep.cpuid_model, r.U8("CPUID_MOD_ID"));
    CMLN_ASSIGN_OR_RETURN(rep.cpuid_stepping, r.U8("CPUID_STEP"));
    rep.product = ProductFromCpuid(rep.cpuid_family, rep.cpuid_model);
    CMLN_TRY(ReadMbz(r, kOffChipId - kOffReserved1, "reserved"));
  } else {
    CMLN_TRY(ReadMbz(r, kOffChipId - kOffCpuidFamily, "reserved"));
  }
  CMLN_TRY(r.Array(rep.chip_id, "CHIP_ID"));
  CMLN_ASSIGN_OR_RETURN(rep.committed_tcb, ReadTcb(r, "COMMITTED_TCB"));
  CMLN_ASSIGN_OR_RETURN(rep.current_build, r.U8("CURRENT_BUILD"));
  CMLN_ASSIGN_OR_RETURN(rep.current_minor, r.U8("CURRENT_MINOR"));
  CMLN_ASSIGN_OR_RETURN(rep.current_major, r.U8("CURRENT_MAJOR"));
  CMLN_TRY(ReadMbz(r, 1, "reserved"));
  CMLN_ASSIGN_OR_RETURN(rep.committed_build, r.U8("COMMITTED_BUILD"));
  CMLN_ASSIGN_OR_RETURN(rep.committed_minor, r.U8("COMMITTED_MINOR"));
  CMLN_ASSIGN_OR_RETURN(rep.committed_major, r.U8("COMMITTED_MAJOR"));
  CMLN_TRY(ReadMbz(r, 1, "reserved"));
  CMLN_ASSIGN_OR_RETURN(rep.launch_tcb, ReadTcb(r, "LAUNCH_TCB"));
  if (rep.version >= 5) {
    rep.has_mit_vectors = true;
    CMLN_ASSIGN_OR_RETURN(rep.launch_mit_vector, r.U64LE("LAUNCH_MIT_VECTOR"));
    CMLN_ASSIGN_OR_RETURN(rep.current_mit_vector, r.U64LE("CURRENT_MIT_VECTOR"));
    CMLN_TRY(ReadMbz(r, kOffSignatureR - kOffReserved3, "reserved"));
  } else {
    CMLN_TRY(ReadMbz(r, kOffSignatureR - kOffLaunchMitVector, "reserved"));
  }
  CMLN_TRY(r.Array(rep.signature_r, "SIGNATURE.R"));
  CMLN_TRY(r.Array(rep.signature_s, "SIGNATURE.S"));
  CMLN_TRY(ReadMbz(r, kReportSize - kOffSignatureReserved, "SIGNATURE reserved"));
  CMLN_TRY(r.ExpectEnd("SNP report"));

  const TcbLayout layout = TcbLayoutFor(rep.product);
  rep.current_tcb = DecodeTcbVersion(rep.current_tcb.raw, layout);
  rep.reported_tcb = DecodeTcbVersion(rep.reported_tcb.raw, layout);
  rep.committed_tcb = DecodeTcbVersion(rep.committed_tcb.raw, layout);
  rep.launch_tcb = DecodeTcbVersion(rep.launch_tcb.raw, layout);
  return rep;
}

}  // namespace cmln::attest::snp
