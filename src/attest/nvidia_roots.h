// NVIDIA's trust anchors built into cmln, beside Intel's and AMD's (pinned_roots.h): the NVIDIA Device
// Identity CA (root of every Hopper GPU device certificate chain and of the OCSP responders that vouch for
// it) and the NVIDIA CoRIM signing Root CA (root of the RIM signer chains). Both are the files NVIDIA ships
// with its local verifier (nvtrust verifier/certs); tests/data/attestation/MANIFEST.json names the same
// files and nvidia_roots_test checks the constants against them.
//
// Why compiled in: the same reason as pinned_roots.h — the root must not come from where the evidence
// comes from. Device Identity CA: notAfter 9999-12-31; RIM root: notAfter 2053-03-08.
//
// Thread safety: pure functions over constants.
#pragma once

#include <string_view>
#include <vector>

#include "attest/nvidia_verify.h"
#include "attest/x509.h"
#include "common/status.h"

namespace cmln::attest::nvidia {

// PEM of CN=NVIDIA Device Identity CA, O=NVIDIA.
std::string_view NvidiaDeviceIdentityCaPem();
// PEM of CN=NVIDIA CoRIM signing Root CA, O=NVIDIA, C=US.
std::string_view NvidiaRimRootPem();

// ProductionGpuAnchors(NvidiaDeviceIdentityCaPem()). Fails only if the constant were corrupt.
Result<GpuTrustAnchors> PinnedNvidiaGpuAnchors();
// The parsed RIM root, for VerifyRim.
Result<std::vector<Certificate>> PinnedNvidiaRimRoots();

}  // namespace cmln::attest::nvidia
