// GPU evidence lists, binding nonce and canonical digest; contract and format in gpu_evidence.h.
#include "attest/gpu_evidence.h"

#include <cctype>

#include "attest/spdm.h"
#include "attest/x509.h"
#include "common/byte_reader.h"
#include "seal/crypto.h"

namespace cmln::attest::nvidia {
namespace {

Result<std::string> StringMember(const nlohmann::json& e, const char* name, size_t index) {
  auto it = e.find(name);
  if (it == e.end() || !it->is_string()) {
    return Error(ErrorCode::kMalformed, "evidence_list[" + std::to_string(index) + "]." + name + " missing or not a string");
  }
  return it->get<std::string>();
}

void PutLengthPrefixed(ByteWriter& w, ByteView b) {
  w.U32BE(static_cast<uint32_t>(b.size()));
  w.Bytes(b);
}

}  // namespace

Result<std::array<uint8_t, 32>> GpuNonce(ByteView hpke_pk, ByteView sign_pk, ByteView epoch_nonce) {
  if (hpke_pk.size() != 32 || sign_pk.size() != 32) {
    return Error(ErrorCode::kInvalidArgument, "gpu nonce: hpke_pk and sign_pk must be 32 bytes each");
  }
  return seal::Sha256(Concat(AsBytes(kGpuNonceLabel), hpke_pk, sign_pk, epoch_nonce));
}

Result<std::vector<GpuEvidence>> ParseGpuEvidenceList(std::string_view json_text) {
  if (json_text.size() > kMaxGpuEvidenceListText) {
    return Error(ErrorCode::kLengthTooLarge, "evidence_list: " + std::to_string(json_text.size()) + " bytes");
  }
  nlohmann::json doc = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Error(ErrorCode::kBadEncoding, "evidence_list: not JSON");
  if (doc.is_object()) {
    auto it = doc.find("evidence_list");
    if (it == doc.end()) return Error(ErrorCode::kMalformed, "evidence_list: object without an evidence_list member");
    doc = *it;
  }
  if (!doc.is_array()) return Error(ErrorCode::kMalformed, "evidence_list: not an array");
  if (doc.size() > kMaxGpus) return Error(ErrorCode::kLengthTooLarge, "evidence_list: more than 64 entries");
  std::vector<GpuEvidence> out;
  for (size_t i = 0; i < doc.size(); ++i) {
    const auto& e = doc[i];
    const std::string at = "evidence_list[" + std::to_string(i) + "]";
    if (!e.is_object()) return Error(ErrorCode::kMalformed, at + " is not an object");
    GpuEvidence g;
    CMLN_ASSIGN_OR_RETURN(g.arch, StringMember(e, "arch", i));
    CMLN_ASSIGN_OR_RETURN(std::string cert_b64, StringMember(e, "certificate", i));
    CMLN_ASSIGN_OR_RETURN(std::string evidence_b64, StringMember(e, "evidence", i));
    CMLN_ASSIGN_OR_RETURN(std::string nonce_hex, StringMember(e, "nonce", i));
    if (cert_b64.size() > kMaxPemChainText * 4 / 3 + 4) return Error(ErrorCode::kLengthTooLarge, at + ".certificate too large");
    if (evidence_b64.size() > spdm::kMaxReportSize * 4 / 3 + 4) return Error(ErrorCode::kLengthTooLarge, at + ".evidence too large");
    auto cert = Base64Decode(cert_b64);
    if (!cert.ok()) return Error(ErrorCode::kBadEncoding, at + ".certificate is not base64");
    g.certificate_pem.assign(cert->begin(), cert->end());
    auto ev = Base64Decode(evidence_b64);
    if (!ev.ok()) return Error(ErrorCode::kBadEncoding, at + ".evidence is not base64");
    g.evidence = std::move(*ev);
    auto nonce = HexDecode(nonce_hex);
    if (!nonce.ok()) return Error(ErrorCode::kBadEncoding, at + ".nonce is not hex");
    if (nonce->size() != spdm::kNonceSize) return Error(ErrorCode::kMalformed, at + ".nonce is not 32 bytes");
    g.nonce = std::move(*nonce);
    out.push_back(std::move(g));
  }
  return out;
}

Result<std::vector<GpuEvidence>> LoadGpuEvidence(std::string_view file_contents, std::string_view chain_pem) {
  size_t first = 0;
  while (first < file_contents.size() && std::isspace(static_cast<unsigned char>(file_contents[first]))) ++first;
  if (first < file_contents.size() && (file_contents[first] == '[' || file_contents[first] == '{')) {
    return ParseGpuEvidenceList(file_contents);
  }
  if (chain_pem.empty()) return Error(ErrorCode::kInvalidArgument, "gpu evidence: a raw report needs a certificate chain");
  if (file_contents.size() > 2 * spdm::kMaxReportSize + 1024) {
    return Error(ErrorCode::kLengthTooLarge, "gpu evidence: file too large");
  }
  std::string hex;
  bool is_hex = !file_contents.empty();
  for (char c : file_contents) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) {
      is_hex = false;
      break;
    }
    hex += c;
  }
  GpuEvidence g;
  g.arch = "HOPPER";
  g.certificate_pem = std::string(chain_pem);
  if (is_hex) {
    auto decoded = HexDecode(hex);
    if (!decoded.ok()) return Error(ErrorCode::kBadEncoding, "gpu evidence: odd number of hex digits");
    g.evidence = std::move(*decoded);
  } else {
    g.evidence = ToBytes(file_contents);
  }
  if (g.evidence.size() >= spdm::kReqOffNonce + spdm::kNonceSize) {
    g.nonce.assign(g.evidence.begin() + spdm::kReqOffNonce, g.evidence.begin() + spdm::kReqOffNonce + spdm::kNonceSize);
  } else {
    g.nonce.assign(spdm::kNonceSize, 0);
  }
  std::vector<GpuEvidence> out;
  out.push_back(std::move(g));
  return out;
}

nlohmann::json GpuEvidenceListToJson(const std::vector<GpuEvidence>& list) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& g : list) {
    arr.push_back({{"arch", g.arch},
                   {"certificate", Base64Encode(AsBytes(g.certificate_pem))},
                   {"evidence", Base64Encode(g.evidence)},
                   {"nonce", HexEncode(g.nonce)}});
  }
  return arr;
}

std::array<uint8_t, 32> GpuEvidenceListDigest(const std::vector<GpuEvidence>& list) {
  ByteWriter w;
  w.U32BE(static_cast<uint32_t>(list.size()));
  for (const auto& g : list) {
    PutLengthPrefixed(w, AsBytes(g.arch));
    PutLengthPrefixed(w, AsBytes(g.certificate_pem));
    PutLengthPrefixed(w, g.evidence);
    w.Bytes(g.nonce);
  }
  seal::Sha256Hasher h;
  h.Update(AsBytes(kGpuEvidenceListLabel));
  h.Update(w.bytes());
  return h.Finish();
}

nlohmann::json GpuListVerdict::ToJson() const {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& g : gpus) arr.push_back(g.ToJson());
  return arr;
}

GpuListVerdict VerifyGpuEvidenceList(const std::vector<GpuEvidence>& list, ByteView expected_nonce,
                                     const GpuTrustAnchors& anchors, int64_t now, const Rim* driver_rim,
                                     const Rim* vbios_rim, const std::vector<Bytes>& ocsp_responses) {
  GpuListVerdict out;
  out.accepted = !list.empty();
  for (const auto& g : list) {
    GpuCollateral col{g.certificate_pem, ocsp_responses};
    auto verified = VerifyGpuReport(g.evidence, col, expected_nonce, anchors, now);
    GpuVerdict v = MakeGpuVerdict(verified, driver_rim, vbios_rim, g.arch);
    if (verified.ok() && ByteView(verified->report.request.nonce).size() == g.nonce.size() &&
        !std::equal(g.nonce.begin(), g.nonce.end(), verified->report.request.nonce.begin())) {
      v.verdict.reasons.push_back({"binding_mismatch", "evidence_list nonce member differs from the report's request nonce"});
      v.verdict.accepted = false;
    }
    out.accepted = out.accepted && v.verdict.accepted;
    out.gpus.push_back(std::move(v));
  }
  return out;
}

}  // namespace cmln::attest::nvidia
