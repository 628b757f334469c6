// Multi-GPU evidence lists and their binding to the node (DESIGN section 3).
//
// The `evidence_list` JSON, as dstack and NEAR AI (and NVIDIA's PPCIE tools) exchange it, either a bare
// array or an object {"evidence_list": [...]}:
//
//   [ { "arch":        "HOPPER" | "LS10" | ...,
//       "certificate": base64( PEM certificate chain, leaf first ),
//       "evidence":    base64( SPDM GET_MEASUREMENTS request ‖ response, see spdm.h ),
//       "nonce":       64 lowercase hex digits (the request nonce),
//       "version":     optional string, ignored } , ... ]
//
// Unknown members are ignored; a missing or mistyped member is kMalformed, bad base64/hex kBadEncoding.
// Caps: kMaxGpuEvidenceListText bytes of JSON, kMaxGpus entries, spdm::kMaxReportSize per evidence,
// kMaxPemChainText per certificate chain (kLengthTooLarge).
//
// Binding (DESIGN section 3): every GPU's nonce is
//   GpuNonce = SHA-256("gonka/cmln/gpu-nonce/v1" ‖ hpke_pk(32) ‖ sign_pk(32) ‖ epoch_nonce)
// and the CPU report data commits to GpuEvidenceListDigest = SHA-256 of the canonical bytes
//   "gonka/cmln/gpu-evidence-list/v1" ‖ u32be(count) ‖ count × ( u32be(len) arch ‖ u32be(len) certificate PEM ‖
//   u32be(len) evidence ‖ 32 nonce )
// (lengths big-endian; the decoded bytes, not the base64 or JSON text, so re-serializing the JSON does not
// change the digest, and any change of a GPU's evidence, chain, arch or nonce does).
//
// Thread safety: pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "attest/nvidia_rim.h"
#include "attest/nvidia_verify.h"
#include "common/bytes.h"
#include "common/status.h"

namespace cmln::attest::nvidia {

inline constexpr std::string_view kGpuNonceLabel = "gonka/cmln/gpu-nonce/v1";
inline constexpr std::string_view kGpuEvidenceListLabel = "gonka/cmln/gpu-evidence-list/v1";
inline constexpr size_t kMaxGpus = 64;
inline constexpr size_t kMaxGpuEvidenceListText = 8 * 1024 * 1024;

struct GpuEvidence {
  std::string arch;
  std::string certificate_pem;  // decoded from base64
  Bytes evidence;               // decoded SPDM bytes
  Bytes nonce;                  // 32 bytes
};

// The binding nonce. kInvalidArgument unless hpke_pk and sign_pk are 32 bytes each.
Result<std::array<uint8_t, 32>> GpuNonce(ByteView hpke_pk, ByteView sign_pk, ByteView epoch_nonce);

Result<std::vector<GpuEvidence>> ParseGpuEvidenceList(std::string_view json_text);
// What `cmln attest verify --gpu-evidence FILE [--gpu-chain FILE]` reads, in one call: an evidence_list
// (text starting with '[' or '{', after whitespace) is parsed as above and `chain_pem` is ignored; anything
// else is one SPDM report, as hex text (whitespace ignored, e.g. nvtrust's sample files) or raw bytes, which
// becomes a one-entry list with arch "HOPPER", certificate `chain_pem` (kInvalidArgument when empty) and the
// report's request nonce. Report bytes are not verified here (truncated input fails in VerifyGpuEvidenceList).
Result<std::vector<GpuEvidence>> LoadGpuEvidence(std::string_view file_contents, std::string_view chain_pem);

// Serializes as a bare JSON array in the format above (arch, certificate, evidence, nonce).
nlohmann::json GpuEvidenceListToJson(const std::vector<GpuEvidence>& list);
std::array<uint8_t, 32> GpuEvidenceListDigest(const std::vector<GpuEvidence>& list);

// Verifies every GPU of the list (all are checked; none is skipped after a failure) against
// `expected_nonce` and the anchors at `now`, validating each against the RIMs when both are given (see
// MakeGpuVerdict). An entry whose own `nonce` member differs from its report's request nonce is rejected
// with binding_mismatch. The list is accepted iff it is non-empty and every verdict is accepted.
// `ocsp_responses` is one pool of OCSP snapshots for all GPUs (ocsp.h): each GPU's chain is looked up in it;
// empty means revocation "not_checked" for every GPU.
struct GpuListVerdict {
  bool accepted = false;
  std::vector<GpuVerdict> gpus;  // in list order
  nlohmann::json ToJson() const;  // array of GpuVerdict::ToJson()
};
GpuListVerdict VerifyGpuEvidenceList(const std::vector<GpuEvidence>& list, ByteView expected_nonce,
                                     const GpuTrustAnchors& anchors, int64_t now, const Rim* driver_rim = nullptr,
                                     const Rim* vbios_rim = nullptr, const std::vector<Bytes>& ocsp_responses = {});

}  // namespace cmln::attest::nvidia
