// NVIDIA reference integrity manifests (RIMs) and the validation of verified GPU evidence against them.
//
// A RIM is an ISO/IEC 19770-2 SWID tag (XML) with an enveloped XMLDSig signature (ECDSA P-384 / SHA-384,
// C14N 1.1) whose KeyInfo carries the signer chain (signer, intermediates, root) as X509Certificate
// elements. NVIDIA publishes one RIM per driver version and one per VBIOS version (project, SKU, chip SKU,
// VBIOS version). Layout (only what is read):
//
//   <SoftwareIdentity tagId=... name="GH100" ...>                       ns http://standards.iso.org/iso/19770/-2/2015/schema.xsd
//     <Meta colloquialVersion="545.00" | "96.00.5E.00.01" product="GH100" .../>
//     <Payload>
//       <Resource type="Measurement" index="N" active="True|False" alternatives="K"
//                 ns2:Hash0=hex48 ... ns2:Hash{K-1}=hex48 name=... size="48"/>   ns2 = http://www.w3.org/2001/04/xmlenc#sha384
//       ...
//     </Payload>
//     <ds:Signature> ... <ds:Reference URI=""> enveloped-signature, c14n11 ... <ds:X509Data> certs </ds:Signature>
//   </SoftwareIdentity>
//
// RIM measurement index N corresponds to SPDM measurement block index N + 1 (NVIDIA numbers blocks from 1).
// The kind of a RIM is read from its version: five dot-separated two-digit hex groups ("96.00.5E.00.01") is
// a VBIOS RIM, anything else ("545.00", "550.90.07") a driver RIM.
//
// Verification (VerifyRim): the XML is parsed by libxml2 with no network and no DTD (a document with a DTD
// is kMalformed); exactly one ds:Signature, a child of the root; the signer chain from KeyInfo verifies to
// one of the pinned RIM roots at `now` (x509.h codes: kChainUntrusted, kCertExpired, ...); the XMLDSig
// signature is checked by libxmlsec1 (xmlsec1-openssl) with the signer certificate's key, the only
// reference allowed being URI="" (the whole document): kBadSignature if it does not verify. Only then are
// the measurements read (ParseRim), so every value used is covered by the signature.
//
// Thread safety: all functions are thread-safe (libxmlsec1 is initialised once, under std::call_once).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "attest/nvidia_verify.h"
#include "attest/spdm.h"
#include "attest/verdict.h"
#include "attest/x509.h"
#include "common/bytes.h"
#include "common/status.h"

namespace cmln::attest::nvidia {

inline constexpr size_t kMaxRimSize = 1 << 20;
inline constexpr size_t kMaxRimMeasurements = 256;
inline constexpr size_t kMaxRimAlternatives = 16;

enum class RimKind { kDriver, kVbios };
const char* RimKindName(RimKind k);  // "driver", "vbios"

struct RimMeasurement {
  uint32_t index = 0;  // RIM index; SPDM block index is index + 1
  bool active = false;
  std::string name;
  std::vector<Bytes> alternatives;  // each 48 bytes (SHA-384)
};

struct Rim {
  RimKind kind = RimKind::kDriver;
  std::string version;  // Meta colloquialVersion
  std::string product;  // Meta product, e.g. "GH100"
  std::string tag_id;
  std::vector<RimMeasurement> measurements;
  std::vector<Certificate> signer_chain;  // verified path (VerifyRim) or as carried (ParseRim)
  bool signature_verified = false;
  bool simulated = false;  // reference values of the sim-gpu provider (not signed XML)

  const RimMeasurement* Find(uint32_t index) const;
};

// Reads the RIM without checking its signature (for inspection, tests and the fuzzer).
// kLengthTooLarge above kMaxRimSize; kBadEncoding for XML that does not parse; kMalformed for a missing or
// invalid field (the message names it); kLengthTooLarge beyond the measurement or alternative caps.
Result<Rim> ParseRim(std::string_view xml);

// Verifies signer chain and signature (see the top of this file), then parses. `now` is unix seconds.
Result<Rim> VerifyRim(std::string_view xml, const std::vector<Certificate>& rim_roots, int64_t now);

// Validation of a verified report against a driver RIM and a VBIOS RIM, listing every mismatch at once.
// Reason codes (stable):
//   measurement_not_approved  an active RIM index whose SPDM block (index + 1) is absent or equals none of
//                             the alternatives; the message names the index, the RIM and both values (hex)
//   rim_conflict              an index active in both RIMs
//   driver_version_mismatch   report driver version differs from the driver RIM's version (case-insensitive)
//   vbios_version_mismatch    report VBIOS version differs from the VBIOS RIM's version (case-insensitive)
//   rim_kind_mismatch         a VBIOS RIM passed as driver RIM or the reverse
// An empty result means every active measurement matched and both versions match.
std::vector<Reason> CompareWithRims(const spdm::GpuAttestationReport& report, const Rim& driver, const Rim& vbios);

// One GPU's verdict: Verdict plus the GPU-specific fields the `gpu` array of the verification result carries.
struct GpuVerdict {
  Verdict verdict;
  std::string arch;             // "HOPPER", "LS10", ... (from the evidence list; may be empty)
  std::string driver_version;
  std::string vbios_version;
  std::string revocation = "not_checked";
  bool rim_checked = false;     // false: no RIMs were given, measurements were not compared

  // Verdict::ToJson() plus {arch, driver_version, vbios_version, revocation, rim_checked}.
  nlohmann::json ToJson() const;
};

// Verification result plus RIM validation. An error becomes a rejection with one reason
// {ErrorCodeName(code), message} (and revocation "revoked" when the code is kCertRevoked). On success the
// verdict carries platform ("nvidia-cc" / "sim-gpu"), simulated, measurements {"fwid", "msr_<block index>" for every block} (hex), report_data = the request
// nonce (hex), and, when both RIMs are given (non-null), the reasons of CompareWithRims; with no RIMs the
// measurements are reported but not judged (rim_checked false; policy decides). `arch` is copied as is.
GpuVerdict MakeGpuVerdict(const Result<VerifiedGpuReport>& verified, const Rim* driver, const Rim* vbios,
                          std::string_view arch = "");

}  // namespace cmln::attest::nvidia
