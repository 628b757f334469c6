// The real GPU evidence provider (DESIGN section 5): reads each GPU's attestation report and certificate
// chain through NVML, loaded at run time with dlopen("libnvidia-ml.so.1") so the build needs no NVIDIA
// package. Functions used: nvmlInit_v2, nvmlShutdown, nvmlSystemGetConfComputeState,
// nvmlDeviceGetCount_v2, nvmlDeviceGetHandleByIndex_v2, nvmlDeviceGetConfComputeGpuAttestationReport,
// nvmlDeviceGetConfComputeGpuCertificate (the structs are declared in nvml_provider.cc from NVIDIA's public
// nvml.h layout).
//
// Contract: CollectNvmlGpuEvidence(nonce) returns one GpuEvidence per GPU (arch "HOPPER", the
// attestationCertChain as PEM, the report, the nonce), in NVML index order, or:
//   kNotFound      libnvidia-ml.so.1 is absent or lacks a needed symbol (as on machines without NVIDIA GPUs)
//   kUnsupported   confidential computing is not enabled (ccFeature off), or there are no GPUs
//   kIoError       an NVML call failed (the message names the call and NVML's return code)
//   kInvalidArgument  nonce is not 32 bytes
// The evidence is not verified here; callers verify it like any other (VerifyGpuEvidenceList).
//
// Thread safety: serialised internally (NVML init/shutdown around each call, under a mutex).
#pragma once

#include <vector>

#include "attest/gpu_evidence.h"
#include "common/bytes.h"
#include "common/status.h"

namespace cmln::attest::nvidia {

inline constexpr const char* kNvmlLibrary = "libnvidia-ml.so.1";

Result<std::vector<GpuEvidence>> CollectNvmlGpuEvidence(ByteView nonce);

// Whether libnvidia-ml.so.1 can be loaded (without initialising it).
bool NvmlAvailable();

}  // namespace cmln::attest::nvidia
