// NVML GPU evidence provider; contract in nvml_provider.h.
#include "attest/nvml_provider.h"

#include <dlfcn.h>

#include <cstring>
#include <memory>
#include <mutex>

#include "attest/spdm.h"

namespace cmln::attest::nvidia {
namespace {

// --- the minimal NVML ABI (layouts from NVIDIA's public nvml.h) ----------------------------------------
using nvmlReturn_t = int;
using nvmlDevice_t = void*;
constexpr nvmlReturn_t kNvmlSuccess = 0;
constexpr unsigned kNvmlCcFeatureEnabled = 1;  // NVML_CC_SYSTEM_FEATURE_ENABLED

constexpr size_t kNvmlGpuCertChainSize = 0x1000;             // NVML_GPU_CERT_CHAIN_SIZE
constexpr size_t kNvmlGpuAttestationCertChainSize = 0x1400;  // NVML_GPU_ATTESTATION_CERT_CHAIN_SIZE
constexpr size_t kNvmlCcNonceSize = 0x20;                    // NVML_CC_GPU_CEC_NONCE_SIZE
constexpr size_t kNvmlCcAttestationReportSize = 0x2000;      // NVML_CC_GPU_ATTESTATION_REPORT_SIZE
constexpr size_t kNvmlCcCecAttestationReportSize = 0x1000;   // NVML_CC_GPU_CEC_ATTESTATION_REPORT_SIZE

struct NvmlConfComputeSystemState {
  unsigned int environment;
  unsigned int ccFeature;
  unsigned int devToolsMode;
};

struct NvmlConfComputeGpuCertificate {
  unsigned int certChainSize;
  unsigned int attestationCertChainSize;
  unsigned char certChain[kNvmlGpuCertChainSize];
  unsigned char attestationCertChain[kNvmlGpuAttestationCertChainSize];
};

struct NvmlConfComputeGpuAttestationReport {
  unsigned int isCecAttestationReportPresent;
  unsigned int attestationReportSize;
  unsigned int cecAttestationReportSize;
  unsigned char nonce[kNvmlCcNonceSize];  // input
  unsigned char attestationReport[kNvmlCcAttestationReportSize];
  unsigned char cecAttestationReport[kNvmlCcCecAttestationReportSize];
};

using InitFn = nvmlReturn_t (*)();
using ShutdownFn = nvmlReturn_t (*)();
using CountFn = nvmlReturn_t (*)(unsigned int*);
using HandleFn = nvmlReturn_t (*)(unsigned int, nvmlDevice_t*);
using CcStateFn = nvmlReturn_t (*)(NvmlConfComputeSystemState*);
using ReportFn = nvmlReturn_t (*)(nvmlDevice_t, NvmlConfComputeGpuAttestationReport*);
using CertFn = nvmlReturn_t (*)(nvmlDevice_t, NvmlConfComputeGpuCertificate*);

struct DlClose {
  void operator()(void* h) const { dlclose(h); }
};

std::mutex g_nvml_mutex;

// Resolves `name` into `*out`; kNotFound if the library lacks it.
template <typename F>
Status Symbol(void* lib, const char* name, F* out) {
  void* s = dlsym(lib, name);
  if (s == nullptr) return Error(ErrorCode::kNotFound, std::string("nvml: symbol ") + name + " not found");
  *out = reinterpret_cast<F>(s);
  return OkStatus();
}

Error CallFailed(const char* call, nvmlReturn_t rc) {
  return Error(ErrorCode::kIoError, std::string("nvml: ") + call + " returned " + std::to_string(rc));
}

}  // namespace

bool NvmlAvailable() {
  std::unique_ptr<void, DlClose> lib(dlopen(kNvmlLibrary, RTLD_NOW | RTLD_LOCAL));
  return lib != nullptr;
}

Result<std::vector<GpuEvidence>> CollectNvmlGpuEvidence(ByteView nonce) {
  if (nonce.size() != spdm::kNonceSize) return Error(ErrorCode::kInvalidArgument, "nvml: nonce must be 32 bytes");
  std::lock_guard<std::mutex> lock(g_nvml_mutex);
  std::unique_ptr<void, DlClose> lib(dlopen(kNvmlLibrary, RTLD_NOW | RTLD_LOCAL));
  if (!lib) return Error(ErrorCode::kNotFound, std::string("nvml: ") + kNvmlLibrary + " not loadable");
  InitFn init = nullptr;
  ShutdownFn shutdown = nullptr;
  CountFn count_fn = nullptr;
  HandleFn handle_fn = nullptr;
  CcStateFn state_fn = nullptr;
  ReportFn report_fn = nullptr;
  CertFn cert_fn = nullptr;
  CMLN_TRY(Symbol(lib.get(), "nvmlInit_v2", &init));
  CMLN_TRY(Symbol(lib.get(), "nvmlShutdown", &shutdown));
  CMLN_TRY(Symbol(lib.get(), "nvmlDeviceGetCount_v2", &count_fn));
  CMLN_TRY(Symbol(lib.get(), "nvmlDeviceGetHandleByIndex_v2", &handle_fn));
  CMLN_TRY(Symbol(lib.get(), "nvmlSystemGetConfComputeState", &state_fn));
  CMLN_TRY(Symbol(lib.get(), "nvmlDeviceGetConfComputeGpuAttestationReport", &report_fn));
  CMLN_TRY(Symbol(lib.get(), "nvmlDeviceGetConfComputeGpuCertificate", &cert_fn));

  if (nvmlReturn_t rc = init(); rc != kNvmlSuccess) return CallFailed("nvmlInit_v2", rc);
  struct Shutdown {
    ShutdownFn fn;
    ~Shutdown() { fn(); }
  } shutdown_guard{shutdown};

  NvmlConfComputeSystemState state{};
  if (nvmlReturn_t rc = state_fn(&state); rc != kNvmlSuccess) return CallFailed("nvmlSystemGetConfComputeState", rc);
  if (state.ccFeature != kNvmlCcFeatureEnabled) {
    return Error(ErrorCode::kUnsupported, "nvml: confidential computing is not enabled (ccFeature " +
                                              std::to_string(state.ccFeature) + ")");
  }
  unsigned int count = 0;
  if (nvmlReturn_t rc = count_fn(&count); rc != kNvmlSuccess) return CallFailed("nvmlDeviceGetCount_v2", rc);
  if (count == 0) return Error(ErrorCode::kUnsupported, "nvml: no GPUs");
  if (count > kMaxGpus) return Error(ErrorCode::kLengthTooLarge, "nvml: more than 64 GPUs");

  std::vector<GpuEvidence> out;
  // The structs are large (12 KiB and 9 KiB): on the heap, not the stack.
  auto report = std::make_unique<NvmlConfComputeGpuAttestationReport>();
  auto cert = std::make_unique<NvmlConfComputeGpuCertificate>();
  for (unsigned int i = 0; i < count; ++i) {
    nvmlDevice_t dev = nullptr;
    if (nvmlReturn_t rc = handle_fn(i, &dev); rc != kNvmlSuccess) return CallFailed("nvmlDeviceGetHandleByIndex_v2", rc);
    std::memset(report.get(), 0, sizeof(*report));
    std::memcpy(report->nonce, nonce.data(), kNvmlCcNonceSize);
    if (nvmlReturn_t rc = report_fn(dev, report.get()); rc != kNvmlSuccess) {
      return CallFailed("nvmlDeviceGetConfComputeGpuAttestationReport", rc);
    }
    std::memset(cert.get(), 0, sizeof(*cert));
    if (nvmlReturn_t rc = cert_fn(dev, cert.get()); rc != kNvmlSuccess) {
      return CallFailed("nvmlDeviceGetConfComputeGpuCertificate", rc);
    }
    if (report->attestationReportSize > kNvmlCcAttestationReportSize ||
        cert->attestationCertChainSize > kNvmlGpuAttestationCertChainSize) {
      return Error(ErrorCode::kLengthTooLarge, "nvml: size field larger than its buffer");
    }
    GpuEvidence e;
    e.arch = "HOPPER";
    e.certificate_pem.assign(reinterpret_cast<const char*>(cert->attestationCertChain), cert->attestationCertChainSize);
    e.evidence.assign(report->attestationReport, report->attestationReport + report->attestationReportSize);
    e.nonce = ToBytes(nonce);
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace cmln::attest::nvidia
