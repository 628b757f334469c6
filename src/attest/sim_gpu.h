// The `sim-gpu` provider (DESIGN section 5): GPU evidence in exactly the byte format of an NVIDIA Hopper
// report (spdm.h: SPDM 1.1 GET_MEASUREMENTS request ‖ response with NVIDIA opaque TLVs, ECDSA P-384 r ‖ s),
// signed by a development device PKI:
//
//   "cmln sim-gpu Root CA" (P-384, self-signed) -> "cmln sim-gpu Provisioner CA" -> device leaf
//
// whose leaf carries the FWID extension 2.23.133.5.4.1 in NVIDIA's layout (nvidia_verify.h), so the
// production verifier (VerifyGpuReport) is the code under test. Anchors() pins the development root and
// marks it simulated, so verdicts say platform "sim-gpu", simulated true; production anchors (the NVIDIA
// Device Identity CA) reject sim-gpu evidence with kChainUntrusted (threat A15).
//
// The matching reference values are DriverRim()/VbiosRim(): unsigned Rim values flagged simulated (there is
// no development RIM signer; the RIM signature path is exercised with NVIDIA's real RIMs).
//
// Thread safety: a SimGpu is immutable after Create(); AttestationReport() may be called from any thread.
// Secrets: the leaf private key stays inside the object (an OpenSSL key, never serialized): a restart of a
// simulated node means a new simulated device, as a restart means new node keys.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "attest/gpu_evidence.h"
#include "attest/nvidia_rim.h"
#include "attest/nvidia_verify.h"
#include "common/bytes.h"
#include "common/status.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace cmln::attest::nvidia {

struct SimGpuOptions {
  // Distinguishes devices: keys are random, measurements and FWID are SHA-384 of ("cmln/sim-gpu" ‖ what ‖ seed)
  // so two devices with the same seed report the same firmware. Default "gpu0".
  std::string seed = "gpu0";
  std::string driver_version = "550.90.07";
  // 8 raw bytes of OPAQUE_FIELD_ID_VBIOS_VERSION (formats to "96.00.9F.00.01" by default).
  Bytes vbios_raw = {0x00, 0x9f, 0x00, 0x96, 0x01, 0x00, 0x00, 0x00};
  uint8_t blocks = 16;                    // measurement blocks 1..blocks
  int64_t not_before = 1577836800;        // 2020-01-01
  int64_t not_after = 253402300799;       // 9999-12-31T23:59:59Z, as NVIDIA's device certificates
  // Tests only: a FWID to put in the report's opaque data instead of the leaf's (to show the FWID check).
  Bytes report_fwid_for_testing;
};

class SimGpu {
 public:
  // Generates fresh P-384 keys and the three certificates. kInternal if OpenSSL fails.
  static Result<SimGpu> Create(const SimGpuOptions& options = SimGpuOptions{});

  // request ‖ signed response for `nonce` (32 bytes; kInvalidArgument otherwise).
  Result<Bytes> AttestationReport(ByteView nonce) const;
  // An evidence_list entry (arch "HOPPER") for `nonce`.
  Result<GpuEvidence> Evidence(ByteView nonce) const;

  const std::string& CertChainPem() const { return chain_pem_; }  // leaf, provisioner, root
  const std::string& RootPem() const { return root_pem_; }
  GpuTrustAnchors Anchors() const;  // the development root, simulated = true
  Rim DriverRim() const;            // reference values matching this device, simulated = true
  Rim VbiosRim() const;
  const Bytes& Fwid() const { return fwid_; }

 private:
  SimGpu() = default;
  SimGpuOptions options_;
  std::shared_ptr<EVP_PKEY> leaf_key_;
  std::string chain_pem_;
  std::string root_pem_;
  Bytes fwid_;
  std::vector<Bytes> measurements_;  // block i+1
};

}  // namespace cmln::attest::nvidia
