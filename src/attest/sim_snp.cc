// The sim-snp report writer; the layout is snp_report.h's, the values are listed in sim_snp.h.
#include "attest/sim_snp.h"

#include <algorithm>
#include <cstring>

#include "seal/crypto.h"

namespace cmln::attest {

namespace {

constexpr uint64_t kPlatformInfoSmtEn = 1;

void PutLe(Bytes& r, size_t off, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; ++i) r[off + i] = static_cast<uint8_t>(v >> (8 * i));
}

void Put(Bytes& r, size_t off, ByteView b) {
  std::copy(b.begin(), b.end(), r.begin() + static_cast<std::ptrdiff_t>(off));
}

}  // namespace

Result<Bytes> GenerateSimSnpReport(const SimPki& pki, const SimSnpReportSpec& spec) {
  if (spec.vmpl > 3) return Error(ErrorCode::kInvalidArgument, "vmpl " + std::to_string(spec.vmpl) + " (want 0..3)");
  if (spec.version != 2 && spec.version != 3) {
    return Error(ErrorCode::kInvalidArgument, "report version " + std::to_string(spec.version) + " (want 2 or 3)");
  }
  const SimSnpPlatform& p = pki.snp;
  if (spec.version == 2 && p.product == snp::SnpProduct::kTurin) {
    return Error(ErrorCode::kInvalidArgument, "a version 2 report cannot come from Turin");
  }
  const uint64_t tcb = p.TcbRaw();
  Bytes r(snp::kReportSize, 0);
  PutLe(r, snp::kOffVersion, spec.version, 4);
  PutLe(r, snp::kOffGuestSvn, spec.guest_svn, 4);
  PutLe(r, snp::kOffPolicy, kSimSnpPolicyBase | (spec.debug ? uint64_t{1} << snp::kPolicyBitDebug : 0), 8);
  Put(r, snp::kOffFamilyId, spec.family_id);
  Put(r, snp::kOffImageId, spec.image_id);
  PutLe(r, snp::kOffVmpl, spec.vmpl, 4);
  PutLe(r, snp::kOffSignatureAlgo, snp::kSignatureAlgoEcdsaP384Sha384, 4);
  PutLe(r, snp::kOffCurrentTcb, tcb, 8);
  PutLe(r, snp::kOffPlatformInfo, kPlatformInfoSmtEn, 8);
  PutLe(r, snp::kOffKeyInfo, 0, 4);  // VCEK signs, chip key not masked, no author key
  Put(r, snp::kOffReportData, spec.report_data);
  Put(r, snp::kOffMeasurement, spec.measurement);
  Put(r, snp::kOffHostData, spec.host_data);
  Bytes report_id(snp::kReportIdSize);
  seal::RandomBytes(report_id);
  Put(r, snp::kOffReportId, report_id);
  std::fill_n(r.begin() + snp::kOffReportIdMa, snp::kReportIdSize, 0xff);
  PutLe(r, snp::kOffReportedTcb, tcb, 8);
  if (spec.version >= 3) {
    r[snp::kOffCpuidFamily] = p.CpuidFamily();
    r[snp::kOffCpuidModel] = p.CpuidModel();
    r[snp::kOffCpuidStepping] = 0x01;
  }
  Put(r, snp::kOffChipId, p.chip_id);
  PutLe(r, snp::kOffCommittedTcb, tcb, 8);
  r[snp::kOffCurrentBuild] = p.current_build;
  r[snp::kOffCurrentBuild + 1] = p.current_minor;
  r[snp::kOffCurrentBuild + 2] = p.current_major;
  r[snp::kOffCommittedBuild] = p.current_build;
  r[snp::kOffCommittedBuild + 1] = p.current_minor;
  r[snp::kOffCommittedBuild + 2] = p.current_major;
  PutLe(r, snp::kOffLaunchTcb, tcb, 8);

  CMLN_ASSIGN_OR_RETURN(Bytes rs, SignEcdsaRaw(pki.vcek_key, HashAlg::kSha384, ByteView(r).first(snp::kSignedSize)));
  if (rs.size() != 2 * snp::kP384ScalarSize) return Error(ErrorCode::kInvalidKey, "VCEK is not a P-384 key");
  // r and s big-endian -> little-endian, zero-padded to 72 bytes each.
  std::reverse_copy(rs.begin(), rs.begin() + snp::kP384ScalarSize, r.begin() + snp::kOffSignatureR);
  std::reverse_copy(rs.begin() + snp::kP384ScalarSize, rs.end(), r.begin() + snp::kOffSignatureS);
  return r;
}

}  // namespace cmln::attest
