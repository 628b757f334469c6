// `cmln attest verify|inspect|sim` (issue 3; docs/attestation-cli.md).
//
//   cmln attest verify --evidence FILE [--collateral FILE] [--vcek FILE] [--chain FILE] [--crl FILE]
//                      [--now RFC3339] [--policy FILE] [--trust-sim DIR] [--json]
//                      [--gpu-evidence FILE --gpu-nonce HEX [--gpu-chain FILE] [--rim FILE...] [--gpu-ocsp FILE...]]
//   cmln attest inspect FILE [--json]
//
// verify prints one verdict {verdict, platform, simulated, tcb_status, advisory_ids, measurements,
// report_data, reasons[{code, message}]} (attest/verdict.h) and exits 0 when accepted, 1 when rejected,
// 2 on usage errors (bad flags, a file that cannot be read, an invalid policy file, --now not RFC 3339,
// flags of the other platform). Everything wrong with the evidence or its collateral is a rejection with a
// reason, never a usage error. The platform comes from the evidence bytes (attest/evidence_file.h).
//
// This file is an edge of the system: it reads files and the clock (`--now` defaults to the current time)
// and hands bytes and a pinned time to the pure verifiers. Trust anchors are the ones compiled into the
// binary (attest/pinned_roots.h), or with --trust-sim DIR only the simulator's development PKI
// (attest/sim_pki.h LoadSimTrust), whose collateral, VCEK, chain and CRL are then the defaults; every
// verdict reached under --trust-sim is labelled simulated (platform sim-tdx / sim-snp), accepted or not. Files given
// here may carry bytes after a TDX quote (go-tdx-guest's sample does): they are ignored (TrailingBytesPolicy::kIgnore,
// never covered by a signature) and counted by inspect; library callers on the chain stay strict.
//
// GPU evidence (issue 4, docs/attestation-gpu.md): with --gpu-evidence the JSON verdict carries a `gpu` array
// (one GpuVerdict per GPU, attest/gpu_evidence.h) and the overall verdict is rejected if any GPU is, with a
// reason `gpu_rejected` per rejected GPU. --evidence is optional then: without it the command verifies the
// GPUs alone and the top-level verdict is theirs (platform of the first GPU). GPU chains always verify to the
// NVIDIA roots compiled in (attest/nvidia_roots.h), also under --trust-sim: `cmln attest sim` persists no
// development GPU root. --rim takes one driver and one VBIOS RIM (both, or none: measurements then are
// reported, not judged); --gpu-ocsp takes DER OCSP snapshots (attest/ocsp.h), without which revocation is
// "not_checked". The CLI does not check that the CPU report data commits to the GPU evidence list digest.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "attest/evidence_file.h"
#include "attest/gpu_evidence.h"
#include "attest/nvidia_roots.h"
#include "attest/pck_extensions.h"
#include "attest/pinned_roots.h"
#include "attest/policy_file.h"
#include "attest/sim_pki.h"
#include "attest/snp_policy.h"
#include "attest/snp_report.h"
#include "attest/snp_verify.h"
#include "attest/tdx_collateral.h"
#include "attest/tdx_policy.h"
#include "attest/tdx_quote.h"
#include "attest/tdx_verify.h"
#include "attest/verdict.h"
#include "attest/x509.h"
#include "cli/commands.h"

namespace cmln::cli {

namespace {

using attest::Verdict;
using nlohmann::json;

// Reason code of a TDX quote given without collateral: its signatures are checked but its TCB is not.
constexpr char kReasonCollateralMissing[] = "collateral_missing";

constexpr int kExitAccepted = 0;
constexpr int kExitRejected = 1;
constexpr int kExitUsage = 2;

// CLI11 writes parsed values here after parse(); the callbacks run later (static storage, as keys_command).
struct VerifyOptions {
  std::string evidence;
  std::string collateral;
  std::string vcek;
  std::string chain;
  std::string crl;
  std::string now;
  std::string policy;
  std::string trust_sim;
  std::string gpu_evidence;
  std::string gpu_chain;
  std::string gpu_nonce;
  std::vector<std::string> rims;
  std::vector<std::string> gpu_ocsp;
  bool json = false;
};
VerifyOptions g_verify;

struct InspectOptions {
  std::string file;
  bool json = false;
};
InspectOptions g_inspect;

// A usage error: message on stderr, exit 2.
void Usage(const std::string& message) {
  std::cerr << "error: " << message << "\n";
  SetExitCode(kExitUsage);
}

// A rejection that happened before any verifier could run (unreadable evidence bytes).
Verdict Rejected(const std::string& platform, const Error& error) {
  Verdict v;
  v.platform = platform;
  v.accepted = false;
  v.reasons.push_back({std::string(ErrorCodeName(error.code())), error.message()});
  return v;
}

// GPU verdicts fold into the overall verdict: any rejected GPU rejects it, one reason per such GPU.
void MergeGpuVerdicts(Verdict& v, const attest::nvidia::GpuListVerdict& gpus) {
  for (size_t i = 0; i < gpus.gpus.size(); ++i) {
    const Verdict& g = gpus.gpus[i].verdict;
    if (g.accepted) continue;
    const std::string first = g.reasons.empty() ? "rejected" : g.reasons[0].code + ": " + g.reasons[0].message;
    v.reasons.push_back({"gpu_rejected", "gpu[" + std::to_string(i) + "]: " + first});
  }
  if (!gpus.accepted) v.accepted = false;
  if (gpus.gpus.empty()) v.reasons.push_back({"gpu_rejected", "the GPU evidence list is empty"});
}

void PrintVerdict(const Verdict& v, bool as_json, const attest::nvidia::GpuListVerdict* gpus = nullptr) {
  if (as_json) {
    json j = v.ToJson();
    if (gpus != nullptr) j["gpu"] = gpus->ToJson();
    std::cout << j.dump() << "\n";
  } else {
    std::cout << "verdict: " << (v.accepted ? "accepted" : "rejected") << "\n"
              << "platform: " << v.platform << (v.simulated ? " (simulated)" : "") << "\n"
              << "tcb_status: " << attest::TcbStatusName(v.tcb_status) << "\n";
    for (const auto& a : v.advisory_ids) std::cout << "advisory: " << a << "\n";
    for (const auto& [k, m] : v.measurements) std::cout << k << ": " << m << "\n";
    if (!v.report_data.empty()) std::cout << "report_data: " << v.report_data << "\n";
    for (const auto& r : v.reasons) std::cout << "reason: " << r.code << ": " << r.message << "\n";
    for (size_t i = 0; gpus != nullptr && i < gpus->gpus.size(); ++i) {
      const auto& g = gpus->gpus[i];
      std::cout << "gpu[" << i << "]: " << (g.verdict.accepted ? "accepted" : "rejected") << " " << g.arch << " driver "
                << g.driver_version << " vbios " << g.vbios_version << " revocation " << g.revocation << "\n";
      for (const auto& r : g.verdict.reasons)
        std::cout << "gpu[" << i << "] reason: " << r.code << ": " << r.message << "\n";
    }
  }
  SetExitCode(v.accepted ? kExitAccepted : kExitRejected);
}

// Reads a file the operator named. Missing or unreadable files are usage errors (returns nullopt after
// reporting); a file over its cap is a property of the input and is returned as an error for the verdict.
std::optional<Result<Bytes>> ReadNamedFile(const std::string& flag, const std::string& path, size_t cap) {
  auto bytes = attest::ReadFileCapped(path, cap);
  if (!bytes.ok() && bytes.error().code() != ErrorCode::kLengthTooLarge) {
    Usage(flag + " " + bytes.error().message());
    return std::nullopt;
  }
  return bytes;
}

Verdict VerifyTdx(ByteView quote, const std::optional<Bytes>& collateral_json, const attest::TdxPolicy& policy,
                  int64_t now, const attest::SimTrust* sim) {
  auto roots = sim ? Result<std::vector<attest::Certificate>>(sim->tdx_roots) : attest::PinnedIntelRoots();
  if (!roots.ok()) return Rejected("tdx", roots.error().WithContext("pinned Intel root"));
  attest::TdxVerifyOptions options = attest::DefaultTdxVerifyOptions();
  options.trailing = attest::TrailingBytesPolicy::kIgnore;
  if (!collateral_json) {
    auto report = attest::VerifyTdxQuoteSignatures(quote, *roots, now, options);
    if (!report.ok()) return Rejected("tdx", report.error());
    Verdict v = attest::TdxVerdict(*report, policy);
    v.accepted = false;  // the TCB was not evaluated: never enough to accept (tdx_verify.h)
    v.reasons.push_back({kReasonCollateralMissing,
                         "quote, QE report and PCK chain signatures verify, but no --collateral was given, so "
                         "the TCB status and the PCK's revocation were not checked"});
    return v;
  }
  auto collateral = attest::ParseTdxCollateral(AsChars(*collateral_json));
  if (!collateral.ok()) return Rejected("tdx", collateral.error().WithContext("collateral"));
  auto report = attest::VerifyTdxQuote(quote, *collateral, *roots, now, options);
  if (!report.ok()) return Rejected("tdx", report.error());
  return attest::TdxVerdict(*report, policy);
}

Verdict VerifySnp(ByteView report, const Bytes& vcek, const std::optional<Bytes>& chain,
                  const std::optional<Bytes>& crl, const attest::snp::SnpPolicy& policy, int64_t now,
                  const attest::SimTrust* sim) {
  namespace snp = attest::snp;
  auto anchors = sim ? Result<snp::SnpTrustAnchors>(sim->snp_anchors) : attest::PinnedAmdArks();
  if (!anchors.ok()) return Rejected("snp", anchors.error().WithContext("pinned AMD ARKs"));
  snp::SnpCollateral collateral;
  collateral.endorsement_cert = vcek;
  if (chain) {
    collateral.chain_pem = std::string(AsChars(*chain));
  } else if (sim) {
    collateral.chain_pem = sim->snp_collateral.chain_pem;
  } else {
    // No --chain: AMD's own ASK/ASVK for the certificate's product and kind (pinned_roots.h). If the
    // certificate does not parse, PrepareSnpCollateral reports that first.
    auto cert = attest::ParseCertificate(vcek);
    if (cert.ok()) {
      auto ext = snp::ParseEndorsementExtensions(*cert);
      if (ext.ok()) collateral.chain_pem = attest::AmdKdsChainPem(ext->product, ext->kind);
    }
  }
  if (crl) {
    collateral.crl = *crl;
  } else if (sim) {
    collateral.crl = sim->snp_collateral.crl;
  }
  return snp::MakeSnpVerdict(snp::VerifySnpReport(report, collateral, *anchors, now), policy);
}

// Verifies --gpu-evidence. nullopt after a usage error (unreadable file, bad --gpu-nonce, RIM flags);
// everything wrong with the evidence, chain, RIMs or OCSP snapshots is a rejection inside the list verdict.
std::optional<attest::nvidia::GpuListVerdict> VerifyGpus(const VerifyOptions& o, int64_t now) {
  namespace nv = attest::nvidia;
  auto rejected_list = [](const Error& e) {
    nv::GpuListVerdict out;
    out.gpus.push_back(nv::MakeGpuVerdict(Result<nv::VerifiedGpuReport>(e), nullptr, nullptr));
    return out;
  };
  auto nonce = HexDecode(o.gpu_nonce);
  if (!nonce.ok() || nonce->size() != 32) {
    Usage("--gpu-nonce: want 64 hex digits (the 32-byte GPU nonce)");
    return std::nullopt;
  }
  auto evidence = ReadNamedFile("--gpu-evidence", o.gpu_evidence, nv::kMaxGpuEvidenceListText);
  if (!evidence) return std::nullopt;
  std::string chain_pem;
  if (!o.gpu_chain.empty()) {
    auto c = ReadNamedFile("--gpu-chain", o.gpu_chain, attest::kMaxPemChainText);
    if (!c) return std::nullopt;
    if (!c->ok()) return rejected_list(c->error().WithContext("--gpu-chain"));
    chain_pem = std::string(AsChars(c->value()));
  }
  std::vector<Bytes> ocsp;
  for (const auto& path : o.gpu_ocsp) {
    auto r = ReadNamedFile("--gpu-ocsp", path, attest::kMaxOcspResponseDer);
    if (!r) return std::nullopt;
    if (!r->ok()) return rejected_list(r->error().WithContext("--gpu-ocsp " + path));
    ocsp.push_back(std::move(*r).value());
  }
  std::vector<std::string> rim_xml;
  for (const auto& path : o.rims) {
    auto r = ReadNamedFile("--rim", path, nv::kMaxRimSize);
    if (!r) return std::nullopt;
    if (!r->ok()) return rejected_list(r->error().WithContext("--rim " + path));
    rim_xml.emplace_back(AsChars(r->value()));
  }
  if (!rim_xml.empty() && rim_xml.size() != 2) {
    Usage("--rim: give one driver RIM and one VBIOS RIM (or none)");
    return std::nullopt;
  }
  if (!evidence->ok()) return rejected_list(evidence->error().WithContext("--gpu-evidence"));
  auto anchors = nv::PinnedNvidiaGpuAnchors();
  if (!anchors.ok()) return rejected_list(anchors.error().WithContext("pinned NVIDIA root"));
  std::vector<nv::Rim> rims;
  if (!rim_xml.empty()) {
    auto rim_roots = nv::PinnedNvidiaRimRoots();
    if (!rim_roots.ok()) return rejected_list(rim_roots.error().WithContext("pinned NVIDIA RIM root"));
    for (size_t i = 0; i < rim_xml.size(); ++i) {
      auto rim = nv::VerifyRim(rim_xml[i], *rim_roots, now);
      if (!rim.ok()) return rejected_list(rim.error().WithContext("--rim " + o.rims[i]));
      rims.push_back(std::move(rim).value());
    }
    if (rims[0].kind == rims[1].kind) {
      return rejected_list(
          Error(ErrorCode::kMalformed, std::string("--rim: both RIMs are ") + nv::RimKindName(rims[0].kind) + " RIMs"));
    }
  }
  const nv::Rim* driver = nullptr;
  const nv::Rim* vbios = nullptr;
  for (const auto& r : rims) (r.kind == nv::RimKind::kDriver ? driver : vbios) = &r;
  auto list = nv::LoadGpuEvidence(AsChars(evidence->value()), chain_pem);
  if (!list.ok()) return rejected_list(list.error().WithContext("--gpu-evidence"));
  return nv::VerifyGpuEvidenceList(*list, *nonce, *anchors, now, driver, vbios, ocsp);
}

void RunVerify() {
  const VerifyOptions& o = g_verify;
  if (o.evidence.empty() && o.gpu_evidence.empty())
    return Usage("--evidence is required (or --gpu-evidence to verify GPUs alone)");
  if (o.gpu_evidence.empty() &&
      (!o.gpu_chain.empty() || !o.gpu_nonce.empty() || !o.rims.empty() || !o.gpu_ocsp.empty())) {
    return Usage("--gpu-chain, --gpu-nonce, --rim and --gpu-ocsp apply to --gpu-evidence");
  }
  if (!o.gpu_evidence.empty() && o.gpu_nonce.empty()) return Usage("--gpu-evidence needs --gpu-nonce HEX");
  // --- usage checks, before any file is judged ---
  std::optional<attest::SimTrust> sim;
  if (!o.trust_sim.empty()) {
    auto trust = attest::LoadSimTrust(o.trust_sim);
    if (!trust.ok()) return Usage("--trust-sim " + o.trust_sim + ": " + trust.error().ToString());
    sim = std::move(trust).value();
  }
  const attest::SimTrust* sim_trust = sim ? &*sim : nullptr;
  std::optional<attest::nvidia::GpuListVerdict> gpus;
  const attest::nvidia::GpuListVerdict* gpu_list = nullptr;
  // Under --trust-sim every verdict about the CPU evidence says simulated.
  auto print = [&](Verdict v) {
    if (sim) attest::LabelSimulated(v);
    if (gpu_list != nullptr) MergeGpuVerdicts(v, *gpu_list);
    PrintVerdict(v, o.json, gpu_list);
  };
  int64_t now = 0;
  if (o.now.empty()) {
    now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  } else {
    auto parsed = attest::ParseRfc3339Utc(o.now);
    if (!parsed.ok()) return Usage("--now: " + parsed.error().message() + " (want e.g. 2025-06-20T00:00:00Z)");
    now = *parsed;
  }
  attest::AttestPolicy policy = attest::DefaultAttestPolicy();
  if (!o.policy.empty()) {
    auto p = attest::ReadPolicyFile(o.policy);
    if (!p.ok()) return Usage("--policy: " + p.error().ToString());
    policy = std::move(p).value();
  }
  if (!o.gpu_evidence.empty()) {
    gpus = VerifyGpus(o, now);
    if (!gpus) return;
    gpu_list = &*gpus;
  }
  if (o.evidence.empty()) {
    // GPU-only: the top-level verdict is the GPUs'.
    Verdict v;
    v.platform = gpus->gpus.empty() ? std::string(attest::nvidia::kPlatformNvidiaCc) : gpus->gpus[0].verdict.platform;
    for (const auto& g : gpus->gpus) v.simulated = v.simulated || g.verdict.simulated;
    v.accepted = true;
    MergeGpuVerdicts(v, *gpus);
    return PrintVerdict(v, o.json, gpu_list);
  }
  auto evidence_file = ReadNamedFile("--evidence", o.evidence, attest::kMaxEvidenceFileSize);
  if (!evidence_file) return;
  // Before the platform is known a rejection keeps platform "unknown"; it is still reached under sim trust.
  auto print_unknown = [&](const Error& e) {
    Verdict v = Rejected("unknown", e);
    v.simulated = sim.has_value();
    if (gpu_list != nullptr) MergeGpuVerdicts(v, *gpu_list);
    PrintVerdict(v, o.json, gpu_list);
  };
  if (!evidence_file->ok()) return print_unknown(evidence_file->error());
  const attest::DecodedEvidence evidence = attest::DecodeEvidence(evidence_file->value());
  auto platform = attest::DetectEvidencePlatform(evidence.bytes);
  if (!platform.ok()) return print_unknown(platform.error());

  if (*platform == attest::EvidencePlatform::kTdx) {
    if (!o.vcek.empty() || !o.chain.empty() || !o.crl.empty()) {
      return Usage("--vcek, --chain and --crl apply to SEV-SNP evidence; " + o.evidence + " is a TDX quote");
    }
    std::optional<Bytes> collateral;
    if (!o.collateral.empty()) {
      auto c = ReadNamedFile("--collateral", o.collateral, attest::kMaxCollateralJson);
      if (!c) return;
      if (!c->ok()) return print(Rejected("tdx", c->error().WithContext("collateral")));
      collateral = std::move(*c).value();
    } else if (sim) {
      collateral = ToBytes(sim->tdx_collateral_json);
    }
    return print(VerifyTdx(evidence.bytes, collateral, policy.tdx, now, sim_trust));
  }

  if (!o.collateral.empty()) {
    return Usage("--collateral applies to TDX quotes; " + o.evidence +
                 " is an SEV-SNP report (use --vcek and --chain)");
  }
  Bytes vcek;
  if (!o.vcek.empty()) {
    auto v = ReadNamedFile("--vcek", o.vcek, attest::kMaxCertificateFileSize);
    if (!v) return;
    if (!v->ok()) return print(Rejected("snp", v->error().WithContext("VCEK/VLEK certificate")));
    vcek = std::move(*v).value();
  } else if (sim) {
    vcek = sim->snp_collateral.endorsement_cert;
  } else {
    return Usage("SEV-SNP evidence needs --vcek FILE (the VCEK or VLEK certificate, DER or PEM)");
  }
  std::optional<Bytes> chain;
  if (!o.chain.empty()) {
    auto c = ReadNamedFile("--chain", o.chain, attest::kMaxCertificateFileSize);
    if (!c) return;
    if (!c->ok()) return print(Rejected("snp", c->error().WithContext("ASK/ARK chain")));
    chain = std::move(*c).value();
  }
  std::optional<Bytes> crl;
  if (!o.crl.empty()) {
    auto c = ReadNamedFile("--crl", o.crl, attest::kMaxCrlDer);
    if (!c) return;
    if (!c->ok()) return print(Rejected("snp", c->error().WithContext("CRL")));
    crl = std::move(*c).value();
  }
  return print(VerifySnp(evidence.bytes, vcek, chain, crl, policy.snp, now, sim_trust));
}

// --- inspect -----------------------------------------------------------------------------------------

template <size_t N>
std::string Hex(const std::array<uint8_t, N>& a) {
  return HexEncode(a);
}

json CertificateJson(const attest::Certificate& c) {
  return {{"subject", c.Subject()},
          {"serial", HexEncode(c.SerialNumber())},
          {"not_before", c.NotBefore()},
          {"not_after", c.NotAfter()}};
}

json TdxQuoteJson(const attest::TdxQuote& q) {
  const attest::TdReport& b = q.body;
  json body = {{"body_type", b.body_type},
               {"tee_tcb_svn", Hex(b.tee_tcb_svn)},
               {"mr_seam", Hex(b.mr_seam)},
               {"mr_signer_seam", Hex(b.mr_signer_seam)},
               {"seam_attributes", Hex(b.seam_attributes)},
               {"td_attributes", Hex(b.td_attributes)},
               {"debug", b.debug()},
               {"xfam", Hex(b.xfam)},
               {"mr_td", Hex(b.mr_td)},
               {"mr_config_id", Hex(b.mr_config_id)},
               {"mr_owner", Hex(b.mr_owner)},
               {"mr_owner_config", Hex(b.mr_owner_config)},
               {"rtmr0", Hex(b.rtmr[0])},
               {"rtmr1", Hex(b.rtmr[1])},
               {"rtmr2", Hex(b.rtmr[2])},
               {"rtmr3", Hex(b.rtmr[3])},
               {"report_data", Hex(b.report_data)}};
  if (b.body_type == attest::kBodyTypeTdReport15) {
    body["tee_tcb_svn2"] = Hex(b.tee_tcb_svn2);
    body["mr_service_td"] = Hex(b.mr_service_td);
  }
  const attest::SgxReport& qe = q.qe_report;
  json qe_report = {{"cpu_svn", Hex(qe.cpu_svn)},
                    {"misc_select", qe.misc_select},
                    {"attributes", Hex(qe.attributes)},
                    {"mr_enclave", Hex(qe.mr_enclave)},
                    {"mr_signer", Hex(qe.mr_signer)},
                    {"isv_prod_id", qe.isv_prod_id},
                    {"isv_svn", qe.isv_svn},
                    {"report_data", Hex(qe.report_data)}};
  json pck = {{"pem_size", q.pck_chain_pem.size()}};
  auto chain = attest::ParsePemChain(q.pck_chain_pem);
  if (chain.ok()) {
    json certs = json::array();
    for (const auto& c : *chain) certs.push_back(CertificateJson(c));
    pck["certificates"] = certs;
    if (!chain->empty()) {
      auto ext = attest::PckExtensionsOf(chain->front());
      if (ext.ok()) {
        pck["extensions"] = {{"ppid", Hex(ext->ppid)},     {"sgx_tcb_components", Hex(ext->sgx_tcb_components)},
                             {"pcesvn", ext->pcesvn},      {"cpusvn", Hex(ext->cpusvn)},
                             {"pce_id", Hex(ext->pce_id)}, {"fmspc", Hex(ext->fmspc)},
                             {"sgx_type", ext->sgx_type}};
      } else {
        pck["extensions_error"] = {{"code", std::string(ErrorCodeName(ext.error().code()))},
                                   {"message", ext.error().message()}};
      }
    }
  } else {
    pck["error"] = {{"code", std::string(ErrorCodeName(chain.error().code()))}, {"message", chain.error().message()}};
  }
  pck["pem"] = q.pck_chain_pem;
  return {{"header",
           {{"version", q.version},
            {"att_key_type", q.att_key_type},
            {"tee_type", q.tee_type},
            {"qe_vendor_id", Hex(q.qe_vendor_id)},
            {"user_data", Hex(q.user_data)}}},
          {"body", body},
          {"signature", Hex(q.signature)},
          {"attestation_key", Hex(q.attestation_key)},
          {"qe_report", qe_report},
          {"qe_report_signature", Hex(q.qe_report_signature)},
          {"qe_auth_data", HexEncode(q.qe_auth_data)},
          {"pck_chain", pck},
          {"offsets",
           {{"body", q.body_offset},
            {"sig_data", q.sig_data_offset},
            {"qe_report", q.qe_report_offset},
            {"qe_auth_data", q.qe_auth_data_offset},
            {"pck_chain", q.pck_chain_offset}}},
          {"quote_size", q.quote_size},
          {"trailing_bytes", q.trailing_bytes},
          {"trailing_all_zero", q.trailing_all_zero}};
}

json TcbJson(const attest::snp::TcbVersion& t) {
  Bytes raw(8);  // the 8 bytes in wire (little-endian) order
  for (int i = 0; i < 8; ++i) raw[i] = t.Byte(i);
  json j = {{"raw", HexEncode(raw)},
            {"boot_loader", t.boot_loader},
            {"tee", t.tee},
            {"snp", t.snp},
            {"microcode", t.microcode}};
  if (t.layout == attest::snp::TcbLayout::kTurin) j["fmc"] = t.fmc;
  return j;
}

std::string Hex64(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

json SnpReportJson(const attest::snp::SnpReport& r) {
  namespace snp = attest::snp;
  json j = {{"version", r.version},
            {"guest_svn", r.guest_svn},
            {"policy",
             {{"raw", Hex64(r.policy)},
              {"abi_minor", r.policy & 0xFF},
              {"abi_major", (r.policy >> 8) & 0xFF},
              {"smt", r.smt_allowed()},
              {"migrate_ma", r.migrate_ma()},
              {"debug", r.debug()},
              {"single_socket", r.single_socket()}}},
            {"family_id", Hex(r.family_id)},
            {"image_id", Hex(r.image_id)},
            {"vmpl", r.vmpl},
            {"signature_algo", r.signature_algo},
            {"current_tcb", TcbJson(r.current_tcb)},
            {"platform_info", Hex64(r.platform_info)},
            {"key_info",
             {{"raw", r.key_info},
              {"author_key_en", r.author_key_en},
              {"mask_chip_key", r.mask_chip_key},
              {"signing_key", snp::SigningKeyName(r.signing_key)}}},
            {"report_data", Hex(r.report_data)},
            {"measurement", Hex(r.measurement)},
            {"host_data", Hex(r.host_data)},
            {"id_key_digest", Hex(r.id_key_digest)},
            {"author_key_digest", Hex(r.author_key_digest)},
            {"report_id", Hex(r.report_id)},
            {"report_id_ma", Hex(r.report_id_ma)},
            {"reported_tcb", TcbJson(r.reported_tcb)},
            {"product", snp::SnpProductName(r.product)},
            {"tcb_layout", r.tcb_layout() == snp::TcbLayout::kTurin ? "turin" : "milan_genoa"},
            {"chip_id", Hex(r.chip_id)},
            {"committed_tcb", TcbJson(r.committed_tcb)},
            {"current_version", std::to_string(r.current_major) + "." + std::to_string(r.current_minor) + "." +
                                    std::to_string(r.current_build)},
            {"committed_version", std::to_string(r.committed_major) + "." + std::to_string(r.committed_minor) + "." +
                                      std::to_string(r.committed_build)},
            {"launch_tcb", TcbJson(r.launch_tcb)},
            {"signature_r", Hex(r.signature_r)},
            {"signature_s", Hex(r.signature_s)}};
  if (r.has_cpuid) {
    j["cpuid_family"] = r.cpuid_family;
    j["cpuid_model"] = r.cpuid_model;
    j["cpuid_stepping"] = r.cpuid_stepping;
  }
  if (r.has_mit_vectors) {
    j["launch_mit_vector"] = Hex64(r.launch_mit_vector);
    j["current_mit_vector"] = Hex64(r.current_mit_vector);
  }
  return j;
}

void PrintInspect(const json& j, bool as_json, int exit_code) {
  std::cout << (as_json ? j.dump() : j.dump(2)) << "\n";
  SetExitCode(exit_code);
}

json ErrorJson(const Error& e) { return {{"code", std::string(ErrorCodeName(e.code()))}, {"message", e.message()}}; }

void RunInspect() {
  const InspectOptions& o = g_inspect;
  auto file = ReadNamedFile("inspect", o.file, attest::kMaxEvidenceFileSize);
  if (!file) return;
  json out = {{"file", o.file}, {"verified", false}};
  if (!file->ok()) {
    out["error"] = ErrorJson(file->error());
    return PrintInspect(out, o.json, kExitRejected);
  }
  const attest::DecodedEvidence evidence = attest::DecodeEvidence(file->value());
  out["encoding"] = evidence.hex ? "hex" : "binary";
  out["size"] = evidence.bytes.size();
  auto platform = attest::DetectEvidencePlatform(evidence.bytes);
  if (!platform.ok()) {
    out["error"] = ErrorJson(platform.error());
    return PrintInspect(out, o.json, kExitRejected);
  }
  out["platform"] = attest::EvidencePlatformName(*platform);
  if (*platform == attest::EvidencePlatform::kTdx) {
    auto quote = attest::ParseTdxQuote(evidence.bytes);
    if (!quote.ok()) {
      out["error"] = ErrorJson(quote.error());
      return PrintInspect(out, o.json, kExitRejected);
    }
    out["quote"] = TdxQuoteJson(*quote);
  } else {
    auto report = attest::snp::ParseSnpReport(evidence.bytes);
    if (!report.ok()) {
      out["error"] = ErrorJson(report.error());
      return PrintInspect(out, o.json, kExitRejected);
    }
    out["report"] = SnpReportJson(*report);
  }
  PrintInspect(out, o.json, kExitAccepted);
}

}  // namespace

void RegisterAttest(CLI::App& app) {
  auto* cmd = app.add_subcommand("attest", "Verify, inspect and simulate TEE attestation evidence");
  cmd->require_subcommand(1);

  auto* verify = cmd->add_subcommand("verify", "Verify TDX or SEV-SNP evidence offline and print the verdict");
  verify->add_option("--evidence", g_verify.evidence,
                     "TDX quote or SEV-SNP report (binary or hex text); optional with --gpu-evidence");
  verify->add_option("--collateral", g_verify.collateral, "TDX: QuoteCollateralV3 JSON");
  verify->add_option("--vcek", g_verify.vcek, "SEV-SNP: VCEK or VLEK certificate (DER or PEM)");
  verify->add_option("--chain", g_verify.chain, "SEV-SNP: ASK/ASVK + ARK PEM (default: AMD's, built in)");
  verify->add_option("--crl", g_verify.crl, "SEV-SNP: AMD KDS CRL (DER or PEM)");
  verify->add_option("--gpu-evidence", g_verify.gpu_evidence,
                     "NVIDIA GPU evidence: evidence_list JSON, or one SPDM report (hex or raw) with --gpu-chain");
  verify->add_option("--gpu-chain", g_verify.gpu_chain, "GPU: PEM device certificate chain for a single report");
  verify->add_option("--gpu-nonce", g_verify.gpu_nonce, "GPU: expected nonce, 64 hex digits");
  verify->add_option("--rim", g_verify.rims, "GPU: driver and VBIOS RIM files (SWID XML)");
  verify->add_option("--gpu-ocsp", g_verify.gpu_ocsp, "GPU: DER OCSP response snapshots for the device chains");
  verify->add_option("--now", g_verify.now, "verification time, RFC 3339 UTC (default: now)");
  verify->add_option("--policy", g_verify.policy, "policy JSON (default: debug forbidden, UpToDate|SWHardeningNeeded)");
  verify->add_option("--trust-sim", g_verify.trust_sim,
                     "trust only the simulator's development PKI in DIR (cmln attest sim pki); verdicts say simulated");
  verify->add_flag("--json", g_verify.json, "print the verdict as one JSON object");
  verify->callback(RunVerify);

  auto* inspect = cmd->add_subcommand("inspect", "Print every parsed field of a TDX quote or SEV-SNP report");
  inspect->add_option("file", g_inspect.file, "evidence file (binary or hex text)")->required();
  inspect->add_flag("--json", g_inspect.json, "one-line JSON (default: indented)");
  inspect->callback(RunInspect);

  RegisterAttestSim(*cmd);
}

}  // namespace cmln::cli
