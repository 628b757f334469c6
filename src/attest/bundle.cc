// Attestation bundle codec, report-data binding and verification. Grammar and order of checks: bundle.h;
// the length-prefixed report-data encoding: docs/attestation-bundle.md.
#include "attest/bundle.h"

#include <algorithm>
#include <cctype>
#include <set>

#include <openssl/x509.h>

#include <nlohmann/json.hpp>

#include "attest/nvidia_verify.h"
#include "attest/pinned_roots.h"
#include "attest/snp_report.h"
#include "attest/tdx_verify.h"
#include "attest/x509_builder.h"
#include "common/byte_reader.h"
#include "seal/crypto.h"
#include "seal/ohttp.h"

namespace cmln::attest {

namespace {

using Json = nlohmann::json;

constexpr size_t kMaxJsonDepth = 4;  // bundle -> gpus -> entry -> value

// Keys of each object, in canonical (sorted) order.
const std::set<std::string> kTopKeys = {"binding",    "cpu_certs",        "cpu_evidence", "gpus",     "model_digest",
                                        "model_id",   "ohttp_key_config", "platform",     "release_id", "sign_pk",
                                        "version"};
const std::set<std::string> kBindingKeys = {"chain_id", "epoch", "epoch_nonce", "node_id", "participant"};
const std::set<std::string> kGpuKeys = {"cert_chain", "evidence", "platform"};

Error Malformed(const std::string& field, const std::string& why) {
  return Error(ErrorCode::kMalformed, field + ": " + why);
}

bool IsSimulatedPlatform(std::string_view p) { return p == kPlatformSimTdx || p == kPlatformSimSnp; }
bool IsCpuPlatform(std::string_view p) {
  return p == kPlatformTdx || p == kPlatformSnp || IsSimulatedPlatform(p);
}
bool IsGpuPlatform(std::string_view p) { return p == nvidia::kPlatformNvidiaCc || p == nvidia::kPlatformSimGpu; }

Status CheckKeys(const Json& obj, const std::set<std::string>& allowed, const std::string& where) {
  if (!obj.is_object()) return Malformed(where, "not an object");
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (allowed.count(it.key()) == 0) return Malformed(where + "." + it.key(), "unknown key");
  }
  for (const auto& k : allowed) {
    if (!obj.contains(k)) return Malformed(where + "." + k, "missing");
  }
  return OkStatus();
}

Result<std::string> GetString(const Json& obj, const char* key, const std::string& where, size_t max_len) {
  const Json& v = obj[key];
  const std::string field = where + "." + key;
  if (!v.is_string()) return Malformed(field, "not a string");
  const std::string& s = v.get_ref<const std::string&>();
  if (s.size() > max_len) {
    return Error(ErrorCode::kLengthTooLarge, field + ": " + std::to_string(s.size()) + " chars, cap " + std::to_string(max_len));
  }
  return s;
}

Status CheckIdentifier(std::string_view s, const std::string& field, size_t max_len) {
  if (s.empty()) return Malformed(field, "empty");
  if (s.size() > max_len) {
    return Error(ErrorCode::kLengthTooLarge, field + ": " + std::to_string(s.size()) + " chars, cap " + std::to_string(max_len));
  }
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x21 || c > 0x7e) return Malformed(field, "byte at offset " + std::to_string(i) + " is not printable ASCII");
  }
  return OkStatus();
}

Result<std::string> GetIdentifier(const Json& obj, const char* key, const std::string& where, size_t max_len) {
  CMLN_ASSIGN_OR_RETURN(std::string s, GetString(obj, key, where, max_len));
  CMLN_TRY(CheckIdentifier(s, where + "." + key, max_len));
  return s;
}

// Lowercase hex of exactly `size` bytes (size 0: any length up to max_bytes).
Result<Bytes> GetHex(const Json& obj, const char* key, const std::string& where, size_t size, size_t max_bytes = 0) {
  const size_t cap = size != 0 ? size : max_bytes;
  CMLN_ASSIGN_OR_RETURN(std::string s, GetString(obj, key, where, 2 * cap));
  const std::string field = where + "." + key;
  for (char c : s) {
    if (c >= 'A' && c <= 'F') return Error(ErrorCode::kBadEncoding, field + ": uppercase hex (canonical form is lowercase)");
  }
  auto b = HexDecode(s);
  if (!b.ok()) return b.error().WithContext(field);
  if (size != 0 && b->size() != size) {
    return Malformed(field, std::to_string(b->size()) + " bytes, want " + std::to_string(size));
  }
  return std::move(b).value();
}

Result<Bytes> GetBase64(const Json& obj, const char* key, const std::string& where, size_t max_bytes) {
  CMLN_ASSIGN_OR_RETURN(std::string s, GetString(obj, key, where, (max_bytes + 2) / 3 * 4));
  auto b = Base64Decode(s);
  if (!b.ok()) return b.error().WithContext(where + "." + key);
  return std::move(b).value();
}

// The checks shared by ParseBundle (on decoded values) and SerializeBundle (before writing).
Status CheckBundleValues(const AttestationBundle& b) {
  if (b.version != kBundleVersion) {
    return Error(ErrorCode::kUnsupported, "bundle.version: " + std::to_string(b.version) + ", want 1");
  }
  if (!IsCpuPlatform(b.platform)) return Malformed("bundle.platform", "not tdx, snp, sim-tdx or sim-snp");
  if (b.cpu_evidence.empty()) return Malformed("bundle.cpu_evidence", "empty");
  if (b.cpu_evidence.size() > kMaxCpuEvidence) return Error(ErrorCode::kLengthTooLarge, "bundle.cpu_evidence: over cap");
  if (b.cpu_certs_pem.size() > kMaxCpuCertsText) return Error(ErrorCode::kLengthTooLarge, "bundle.cpu_certs: over cap");
  const bool snp = b.platform == kPlatformSnp || b.platform == kPlatformSimSnp;
  if (snp && b.cpu_certs_pem.empty()) return Malformed("bundle.cpu_certs", "empty for an SNP platform (VCEK/VLEK wanted)");
  if (!snp && !b.cpu_certs_pem.empty()) return Malformed("bundle.cpu_certs", "must be empty for TDX (the quote carries its chain)");
  if (b.gpus.size() > kMaxBundleGpus) return Error(ErrorCode::kLengthTooLarge, "bundle.gpus: over cap");
  for (size_t i = 0; i < b.gpus.size(); ++i) {
    const std::string w = "bundle.gpus[" + std::to_string(i) + "]";
    const BundleGpu& g = b.gpus[i];
    if (!IsGpuPlatform(g.platform)) return Malformed(w + ".platform", "not nvidia-cc or sim-gpu");
    if (g.evidence.empty()) return Malformed(w + ".evidence", "empty");
    if (g.evidence.size() > kMaxGpuEvidenceBytes) return Error(ErrorCode::kLengthTooLarge, w + ".evidence: over cap");
    if (g.cert_chain_pem.empty()) return Malformed(w + ".cert_chain", "empty");
    if (g.cert_chain_pem.size() > kMaxPemChainText) return Error(ErrorCode::kLengthTooLarge, w + ".cert_chain: over cap");
  }
  CMLN_TRY(CheckIdentifier(b.binding.chain_id, "bundle.binding.chain_id", kMaxChainIdLength));
  if (b.binding.epoch_nonce.size() != kBundleNonceSize) return Malformed("bundle.binding.epoch_nonce", "want 32 bytes");
  CMLN_TRY(CheckIdentifier(b.binding.participant, "bundle.binding.participant", kMaxIdentifierLength));
  CMLN_TRY(CheckIdentifier(b.binding.node_id, "bundle.binding.node_id", kMaxIdentifierLength));
  if (b.ohttp_key_config.size() > kMaxOhttpKeyConfig) return Error(ErrorCode::kLengthTooLarge, "bundle.ohttp_key_config: over cap");
  auto kc = seal::ohttp::DecodeKeyConfig(b.ohttp_key_config);
  if (!kc.ok()) return kc.error().WithContext("bundle.ohttp_key_config");
  if (b.sign_pk.size() != kBundleKeySize) return Malformed("bundle.sign_pk", "want 32 bytes");
  CMLN_TRY(CheckIdentifier(b.model_id, "bundle.model_id", kMaxIdentifierLength));
  if (b.model_digest.size() != kBundleDigestSize) return Malformed("bundle.model_digest", "want 32 bytes");
  CMLN_TRY(CheckIdentifier(b.release_id, "bundle.release_id", kMaxIdentifierLength));
  return OkStatus();
}

// F(x) = u32be(len(x)) ‖ x
void Field(ByteWriter& w, ByteView x) {
  w.U32BE(static_cast<uint32_t>(x.size()));
  w.Bytes(x);
}

std::string Hex(ByteView b) { return HexEncode(b); }

}  // namespace

Result<AttestationBundle> ParseBundle(std::string_view json_text) {
  if (json_text.size() > kMaxBundleJson) {
    return Error(ErrorCode::kLengthTooLarge,
                 "bundle: " + std::to_string(json_text.size()) + " bytes, cap " + std::to_string(kMaxBundleJson));
  }
  // Duplicate keys (nlohmann keeps the last silently) and nesting depth are caught while parsing.
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  bool too_deep = false;
  Json::parser_callback_t cb = [&](int depth, Json::parse_event_t event, Json& parsed) {
    if (depth > static_cast<int>(kMaxJsonDepth)) too_deep = true;
    switch (event) {
      case Json::parse_event_t::object_start:
        open_objects.emplace_back();
        break;
      case Json::parse_event_t::object_end:
        if (!open_objects.empty()) open_objects.pop_back();
        break;
      case Json::parse_event_t::key:
        if (!open_objects.empty() && parsed.is_string() &&
            !open_objects.back().insert(parsed.get_ref<const std::string&>()).second && duplicate.empty()) {
          duplicate = parsed.get_ref<const std::string&>();
        }
        break;
      default:
        break;
    }
    return true;
  };
  Json doc = Json::parse(json_text.begin(), json_text.end(), cb, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Error(ErrorCode::kBadEncoding, "bundle: not JSON");
  if (too_deep) return Malformed("bundle", "nested deeper than " + std::to_string(kMaxJsonDepth));
  if (!duplicate.empty()) return Malformed("bundle." + duplicate, "duplicate key");
  CMLN_TRY(CheckKeys(doc, kTopKeys, "bundle"));

  AttestationBundle b;
  const Json& ver = doc["version"];
  if (!ver.is_number_unsigned()) return Malformed("bundle.version", "not an unsigned integer");
  if (ver.get<uint64_t>() != kBundleVersion) {
    return Error(ErrorCode::kUnsupported, "bundle.version: " + ver.dump() + ", want 1");
  }
  CMLN_ASSIGN_OR_RETURN(b.platform, GetString(doc, "platform", "bundle", 16));
  if (!IsCpuPlatform(b.platform)) return Malformed("bundle.platform", "not tdx, snp, sim-tdx or sim-snp");
  CMLN_ASSIGN_OR_RETURN(b.cpu_evidence, GetBase64(doc, "cpu_evidence", "bundle", kMaxCpuEvidence));
  CMLN_ASSIGN_OR_RETURN(b.cpu_certs_pem, GetString(doc, "cpu_certs", "bundle", kMaxCpuCertsText));

  const Json& gpus = doc["gpus"];
  if (!gpus.is_array()) return Malformed("bundle.gpus", "not an array");
  if (gpus.size() > kMaxBundleGpus) {
    return Error(ErrorCode::kLengthTooLarge, "bundle.gpus: " + std::to_string(gpus.size()) + " entries, cap " +
                                                 std::to_string(kMaxBundleGpus));
  }
  for (size_t i = 0; i < gpus.size(); ++i) {
    const std::string w = "bundle.gpus[" + std::to_string(i) + "]";
    const Json& g = gpus[i];
    CMLN_TRY(CheckKeys(g, kGpuKeys, w));
    BundleGpu gpu;
    CMLN_ASSIGN_OR_RETURN(gpu.platform, GetString(g, "platform", w, 16));
    CMLN_ASSIGN_OR_RETURN(gpu.evidence, GetBase64(g, "evidence", w, kMaxGpuEvidenceBytes));
    CMLN_ASSIGN_OR_RETURN(gpu.cert_chain_pem, GetString(g, "cert_chain", w, kMaxPemChainText));
    b.gpus.push_back(std::move(gpu));
  }

  const Json& bind = doc["binding"];
  CMLN_TRY(CheckKeys(bind, kBindingKeys, "bundle.binding"));
  CMLN_ASSIGN_OR_RETURN(b.binding.chain_id, GetIdentifier(bind, "chain_id", "bundle.binding", kMaxChainIdLength));
  if (!bind["epoch"].is_number_unsigned()) return Malformed("bundle.binding.epoch", "not an unsigned integer");
  b.binding.epoch = bind["epoch"].get<uint64_t>();
  CMLN_ASSIGN_OR_RETURN(b.binding.epoch_nonce, GetHex(bind, "epoch_nonce", "bundle.binding", kBundleNonceSize));
  CMLN_ASSIGN_OR_RETURN(b.binding.participant, GetIdentifier(bind, "participant", "bundle.binding", kMaxIdentifierLength));
  CMLN_ASSIGN_OR_RETURN(b.binding.node_id, GetIdentifier(bind, "node_id", "bundle.binding", kMaxIdentifierLength));

  CMLN_ASSIGN_OR_RETURN(b.ohttp_key_config, GetHex(doc, "ohttp_key_config", "bundle", 0, kMaxOhttpKeyConfig));
  CMLN_ASSIGN_OR_RETURN(b.sign_pk, GetHex(doc, "sign_pk", "bundle", kBundleKeySize));
  CMLN_ASSIGN_OR_RETURN(b.model_id, GetIdentifier(doc, "model_id", "bundle", kMaxIdentifierLength));
  CMLN_ASSIGN_OR_RETURN(b.model_digest, GetHex(doc, "model_digest", "bundle", kBundleDigestSize));
  CMLN_ASSIGN_OR_RETURN(b.release_id, GetIdentifier(doc, "release_id", "bundle", kMaxIdentifierLength));
  CMLN_TRY(CheckBundleValues(b));
  return b;
}

Result<std::string> SerializeBundle(const AttestationBundle& b) {
  Status st = CheckBundleValues(b);
  if (!st.ok()) return Error(ErrorCode::kInvalidArgument, st.error().message());
  Json gpus = Json::array();
  for (const auto& g : b.gpus) {
    gpus.push_back({{"platform", g.platform}, {"evidence", Base64Encode(g.evidence)}, {"cert_chain", g.cert_chain_pem}});
  }
  Json doc = {{"version", b.version},
              {"platform", b.platform},
              {"cpu_evidence", Base64Encode(b.cpu_evidence)},
              {"cpu_certs", b.cpu_certs_pem},
              {"gpus", gpus},
              {"binding",
               {{"chain_id", b.binding.chain_id},
                {"epoch", b.binding.epoch},
                {"epoch_nonce", Hex(b.binding.epoch_nonce)},
                {"participant", b.binding.participant},
                {"node_id", b.binding.node_id}}},
              {"ohttp_key_config", Hex(b.ohttp_key_config)},
              {"sign_pk", Hex(b.sign_pk)},
              {"model_id", b.model_id},
              {"model_digest", Hex(b.model_digest)},
              {"release_id", b.release_id}};
  // nlohmann's object is a std::map: keys come out sorted, so the text is canonical.
  return doc.dump();
}

Result<Bytes> BundleHpkePublicKey(const AttestationBundle& bundle) {
  auto kc = seal::ohttp::DecodeKeyConfig(bundle.ohttp_key_config);
  if (!kc.ok()) return kc.error().WithContext("bundle.ohttp_key_config");
  if (kc->public_key.size() != kBundleKeySize) return Malformed("bundle.ohttp_key_config", "public key is not 32 bytes");
  return kc->public_key;
}

Result<std::array<uint8_t, 32>> BundleGpuNonce(const AttestationBundle& bundle) {
  CMLN_ASSIGN_OR_RETURN(Bytes hpke_pk, BundleHpkePublicKey(bundle));
  auto n = nvidia::GpuNonce(hpke_pk, bundle.sign_pk, bundle.binding.epoch_nonce);
  if (!n.ok()) return Malformed("bundle.sign_pk", n.error().message());
  return *n;
}

Result<std::vector<nvidia::GpuEvidence>> BundleGpuList(const AttestationBundle& bundle) {
  CMLN_ASSIGN_OR_RETURN(auto nonce, BundleGpuNonce(bundle));
  std::vector<nvidia::GpuEvidence> list;
  for (const auto& g : bundle.gpus) {
    list.push_back(nvidia::GpuEvidence{g.platform, g.cert_chain_pem, g.evidence, Bytes(nonce.begin(), nonce.end())});
  }
  return list;
}

Result<std::array<uint8_t, 64>> ComputeReportData(const AttestationBundle& b) {
  CMLN_ASSIGN_OR_RETURN(auto list, BundleGpuList(b));
  const auto gpu_digest = nvidia::GpuEvidenceListDigest(list);
  ByteWriter epoch;
  epoch.U64BE(b.binding.epoch);
  ByteWriter w;
  Field(w, AsBytes(kReportDataLabel));
  Field(w, AsBytes(b.binding.chain_id));
  Field(w, epoch.bytes());
  Field(w, b.binding.epoch_nonce);
  Field(w, AsBytes(b.binding.participant));
  Field(w, AsBytes(b.binding.node_id));
  Field(w, b.ohttp_key_config);
  Field(w, b.sign_pk);
  Field(w, b.model_digest);
  Field(w, gpu_digest);
  return seal::Sha512(w.bytes());
}

Result<BundleTrust> ProductionBundleTrust() {
  BundleTrust t;
  CMLN_ASSIGN_OR_RETURN(t.production.tdx_roots, PinnedIntelRoots());
  CMLN_ASSIGN_OR_RETURN(t.production.snp_anchors, PinnedAmdArks());
  return t;
}

void AddSimTrust(BundleTrust& trust, const SimTrust& sim) {
  trust.simulated.tdx_roots = sim.tdx_roots;
  trust.simulated.snp_anchors = sim.snp_anchors;
  trust.tdx_collateral.push_back(sim.tdx_collateral);
  for (const auto& [product, ark] : sim.snp_anchors.arks) {
    (void)ark;
    trust.snp_collateral.push_back(SnpChainCollateral{product, sim.snp_collateral.chain_pem, sim.snp_collateral.crl});
  }
}

namespace {

Status VerifyTdxPart(const AttestationBundle& b, const CpuTrust& roots, const BundleTrust& trust, int64_t now,
                     VerifiedBundle& out, std::array<uint8_t, 64>& report_data) {
  if (trust.tdx_collateral.empty()) return Error(ErrorCode::kNotFound, "no TDX collateral for " + b.platform);
  std::optional<Error> last;
  for (const auto& coll : trust.tdx_collateral) {
    auto r = VerifyTdxQuote(b.cpu_evidence, coll, roots.tdx_roots, now);
    if (!r.ok()) {
      // Collateral of another FMSPC: try the next record; any other failure is the quote's.
      if (r.error().code() == ErrorCode::kCollateralMismatch) {
        last = r.error();
        continue;
      }
      return r.error().WithContext("bundle.cpu_evidence");
    }
    const TdReport& body = r->quote.body;
    out.tcb_status = r->tcb_status;
    out.advisory_ids = r->advisory_ids;
    out.debug = body.debug();
    out.measurements["MRTD"] = ToBytes(body.mr_td);
    for (size_t i = 0; i < 4; ++i) out.measurements["RTMR" + std::to_string(i)] = ToBytes(body.rtmr[i]);
    out.measurements["MRCONFIGID"] = ToBytes(body.mr_config_id);
    out.measurements["MROWNER"] = ToBytes(body.mr_owner);
    out.measurements["MROWNERCONFIG"] = ToBytes(body.mr_owner_config);
    report_data = body.report_data;
    return OkStatus();
  }
  return last->WithContext("bundle.cpu_evidence: no collateral for this platform's FMSPC");
}

Status VerifySnpPart(const AttestationBundle& b, const CpuTrust& roots, const BundleTrust& trust, int64_t now,
                     VerifiedBundle& out, std::array<uint8_t, 64>& report_data) {
  auto cert = ParseCertificate(AsBytes(b.cpu_certs_pem));
  if (!cert.ok()) return cert.error().WithContext("bundle.cpu_certs");
  auto ext = snp::ParseEndorsementExtensions(*cert);
  if (!ext.ok()) return ext.error().WithContext("bundle.cpu_certs");
  const SnpChainCollateral* chain = nullptr;
  for (const auto& c : trust.snp_collateral) {
    if (c.product == ext->product) chain = &c;
  }
  if (chain == nullptr) {
    return Error(ErrorCode::kNotFound, std::string("no SNP chain collateral for product ") + snp::SnpProductName(ext->product));
  }
  snp::SnpCollateral coll{ToBytes(b.cpu_certs_pem), chain->chain_pem, chain->crl};
  auto r = snp::VerifySnpReport(b.cpu_evidence, coll, roots.snp_anchors, now);
  if (!r.ok()) return r.error().WithContext("bundle.cpu_evidence");
  // The VCEK certifies REPORTED_TCB (checked by VerifySnpReport); no TCB status collateral exists for SNP.
  out.tcb_status = TcbStatus::kUpToDate;
  out.debug = r->report.debug();
  out.measurements["MEASUREMENT"] = ToBytes(r->report.measurement);
  out.measurements["HOST_DATA"] = ToBytes(r->report.host_data);
  report_data = r->report.report_data;
  return OkStatus();
}

}  // namespace

Result<VerifiedBundle> VerifyBundle(const AttestationBundle& b, const BundleTrust& trust, int64_t now) {
  CMLN_TRY(CheckBundleValues(b));
  VerifiedBundle out;
  out.bundle = b;
  out.platform = b.platform;
  const bool sim_cpu = IsSimulatedPlatform(b.platform);
  bool sim_gpu = false;
  for (const auto& g : b.gpus) sim_gpu = sim_gpu || g.platform == nvidia::kPlatformSimGpu;
  out.simulated = sim_cpu || sim_gpu;
  if (out.simulated && !trust.allow_simulated) {
    return Error(ErrorCode::kSimulatedNotAllowed,
                 std::string("bundle: simulated evidence (") + (sim_cpu ? b.platform : "sim-gpu") + ") is not allowed");
  }
  CMLN_ASSIGN_OR_RETURN(out.hpke_pk, BundleHpkePublicKey(b));
  out.sign_pk = b.sign_pk;

  const CpuTrust& roots = sim_cpu ? trust.simulated : trust.production;
  std::array<uint8_t, 64> evidence_report_data{};
  if (b.platform == kPlatformTdx || b.platform == kPlatformSimTdx) {
    CMLN_TRY(VerifyTdxPart(b, roots, trust, now, out, evidence_report_data));
  } else {
    CMLN_TRY(VerifySnpPart(b, roots, trust, now, out, evidence_report_data));
  }
  if (out.debug && !trust.allow_debug_for_testing) {
    return Error(ErrorCode::kDebugEnabled, "bundle.cpu_evidence: debug guest (" + b.platform + ")");
  }
  CMLN_ASSIGN_OR_RETURN(out.report_data, ComputeReportData(b));
  if (!ConstantTimeEqual(out.report_data, evidence_report_data)) {
    return Error(ErrorCode::kBindingMismatch,
                 "bundle: report data of the evidence is not the commitment to the bundle's binding, keys, model "
                 "digest and GPU evidence (seen " + Hex(evidence_report_data) + ")");
  }
  out.report_data_matches = true;

  CMLN_ASSIGN_OR_RETURN(auto nonce, BundleGpuNonce(b));
  for (size_t i = 0; i < b.gpus.size(); ++i) {
    const BundleGpu& g = b.gpus[i];
    const nvidia::GpuTrustAnchors& anchors =
        g.platform == nvidia::kPlatformSimGpu ? trust.sim_gpu_anchors : trust.nvidia_anchors;
    const std::string w = "bundle.gpus[" + std::to_string(i) + "]";
    if (anchors.roots.empty()) return Error(ErrorCode::kChainUntrusted, w + ": no trust anchor for " + g.platform);
    auto r = nvidia::VerifyGpuReport(g.evidence, nvidia::GpuCollateral{g.cert_chain_pem, {}}, nonce, anchors, now);
    if (!r.ok()) return r.error().WithContext(w);
    if (r->platform != g.platform) {
      return Malformed(w + ".platform", g.platform + " but the evidence verified as " + r->platform);
    }
    out.gpus.push_back(nvidia::MakeGpuVerdict(r, nullptr, nullptr, g.platform));
  }
  return out;
}

Result<VerifiedBundle> VerifyBundle(std::string_view json_text, const BundleTrust& trust, int64_t now) {
  CMLN_ASSIGN_OR_RETURN(AttestationBundle b, ParseBundle(json_text));
  return VerifyBundle(b, trust, now);
}

Result<AttestationBundle> BuildSimBundle(const SimPki& pki, const SimBundleSpec& spec) {
  AttestationBundle b;
  b.platform = spec.platform;
  b.binding = spec.binding;
  b.ohttp_key_config = spec.ohttp_key_config;
  b.sign_pk = spec.sign_pk;
  b.model_id = spec.model_id;
  b.model_digest = spec.model_digest;
  b.release_id = spec.release_id;
  const bool snp = spec.platform == kPlatformSimSnp;
  if (!snp && spec.platform != kPlatformSimTdx) {
    return Error(ErrorCode::kInvalidArgument, "BuildSimBundle: platform must be sim-tdx or sim-snp");
  }
  if (snp) b.cpu_certs_pem = CertificatePem(pki.vcek);
  b.cpu_evidence = Bytes{0};  // placeholder so the value checks below pass; replaced by the evidence
  Status st = CheckBundleValues(b);
  if (!st.ok()) return Error(ErrorCode::kInvalidArgument, "BuildSimBundle: " + st.error().message());

  CMLN_ASSIGN_OR_RETURN(auto nonce, BundleGpuNonce(b));
  for (const nvidia::SimGpu* gpu : spec.gpus) {
    if (gpu == nullptr) return Error(ErrorCode::kInvalidArgument, "BuildSimBundle: null SimGpu");
    CMLN_ASSIGN_OR_RETURN(Bytes report, gpu->AttestationReport(nonce));
    b.gpus.push_back(BundleGpu{std::string(nvidia::kPlatformSimGpu), std::move(report), gpu->CertChainPem()});
  }
  CMLN_ASSIGN_OR_RETURN(auto report_data, ComputeReportData(b));
  if (snp) {
    SimSnpReportSpec s = spec.snp;
    s.report_data = report_data;
    CMLN_ASSIGN_OR_RETURN(b.cpu_evidence, GenerateSimSnpReport(pki, s));
  } else {
    SimTdxQuoteSpec s = spec.tdx;
    s.report_data = report_data;
    CMLN_ASSIGN_OR_RETURN(b.cpu_evidence, GenerateSimTdxQuote(pki, s));
  }
  return b;
}

namespace {

// A CRL signed by `issuer`, valid at `now` (thisUpdate <= now < nextUpdate), listing none of `subjects`.
Status CheckCrl(std::string_view what, const Crl& crl, const Certificate& issuer,
                const std::vector<const Certificate*>& subjects, int64_t now) {
  EVP_PKEY* key = X509_get0_pubkey(issuer.get());
  if (key == nullptr || X509_CRL_verify(crl.get(), key) != 1) {
    return Error(ErrorCode::kCrlBadSignature, std::string(what) + ": not signed by " + issuer.Subject());
  }
  if (crl.ThisUpdate() > now) {
    return Error(ErrorCode::kCrlNotYetValid, std::string(what) + ": thisUpdate " + std::to_string(crl.ThisUpdate()) +
                                                 " is after now " + std::to_string(now));
  }
  if (crl.NextUpdate() == 0 || crl.NextUpdate() <= now) {
    return Error(ErrorCode::kCrlExpired, std::string(what) + ": nextUpdate " + std::to_string(crl.NextUpdate()) +
                                             " is not after now " + std::to_string(now));
  }
  for (const Certificate* c : subjects) {
    X509_REVOKED* entry = nullptr;
    if (X509_CRL_get0_by_cert(crl.get(), &entry, c->get()) == 1) {
      return Error(ErrorCode::kCertRevoked, std::string(what) + " lists " + c->Subject());
    }
  }
  return OkStatus();
}

bool IsTdxPlatform(std::string_view p) { return p == kPlatformTdx || p == kPlatformSimTdx; }
bool IsSnpPlatform(std::string_view p) { return p == kPlatformSnp || p == kPlatformSimSnp; }

snp::SnpProduct ProductFromId(std::string_view id) {
  for (auto p : {snp::SnpProduct::kMilan, snp::SnpProduct::kGenoa, snp::SnpProduct::kTurin}) {
    if (id == snp::SnpProductName(p)) return p;
  }
  return snp::SnpProduct::kUnknown;
}

Result<SnpChainCollateral> ParseSnpChainCollateral(std::string_view text) {
  if (text.size() > kMaxSnpCollateralJson) return Error(ErrorCode::kLengthTooLarge, "snp_chain collateral: over cap");
  Json doc = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Error(ErrorCode::kBadEncoding, "snp_chain collateral: not JSON");
  CMLN_TRY(CheckKeys(doc, {"cert_chain", "crl", "product"}, "snp_chain"));
  SnpChainCollateral c;
  CMLN_ASSIGN_OR_RETURN(std::string product, GetString(doc, "product", "snp_chain", 16));
  c.product = ProductFromId(product);
  if (c.product == snp::SnpProduct::kUnknown) return Malformed("snp_chain.product", "not Milan, Genoa or Turin");
  CMLN_ASSIGN_OR_RETURN(c.chain_pem, GetString(doc, "cert_chain", "snp_chain", kMaxPemChainText));
  CMLN_ASSIGN_OR_RETURN(std::string crl, GetString(doc, "crl", "snp_chain", kMaxPemChainText));
  if (crl.empty()) return Malformed("snp_chain.crl", "empty (revocation must be checkable)");
  c.crl = ToBytes(crl);
  return c;
}

}  // namespace

Status AddCollateral(BundleTrust& trust, std::string_view platform, ByteView collateral) {
  if (IsTdxPlatform(platform)) {
    CMLN_ASSIGN_OR_RETURN(TdxCollateral c, ParseTdxCollateral(AsChars(collateral)));
    trust.tdx_collateral.push_back(std::move(c));
    return OkStatus();
  }
  if (IsSnpPlatform(platform)) {
    CMLN_ASSIGN_OR_RETURN(SnpChainCollateral c, ParseSnpChainCollateral(AsChars(collateral)));
    trust.snp_collateral.push_back(std::move(c));
    return OkStatus();
  }
  return Error(ErrorCode::kInvalidArgument, "collateral for unknown platform " + std::string(platform));
}

Result<CollateralValidity> VerifyPlatformCollateral(std::string_view platform, ByteView collateral,
                                                    const BundleTrust& trust, int64_t now) {
  if (!IsCpuPlatform(platform)) {
    return Error(ErrorCode::kInvalidArgument, "collateral for unknown platform " + std::string(platform));
  }
  const bool sim = IsSimulatedPlatform(platform);
  if (sim && !trust.allow_simulated) {
    return Error(ErrorCode::kSimulatedNotAllowed, "collateral for simulated platform " + std::string(platform));
  }
  const CpuTrust& roots = sim ? trust.simulated : trust.production;
  CollateralValidity v;
  if (IsTdxPlatform(platform)) {
    CMLN_ASSIGN_OR_RETURN(TdxCollateral c, ParseTdxCollateral(AsChars(collateral)));
    if (roots.tdx_roots.empty()) return Error(ErrorCode::kChainUntrusted, "no TDX root for " + std::string(platform));
    // The same collateral verification the quote verifier uses (dates, issuer chains, JSON signatures,
    // CRLs); the PCK CRL is then held to its issuer strictly, since the chain stores it for later quotes.
    auto verified = VerifyTdxCollateral(c, roots.tdx_roots, now);
    if (!verified.ok()) return verified.error();
    CMLN_TRY(CheckCrl("pck_crl", c.pck_crl, c.pck_crl_issuer_chain[0], {}, now));
    if (c.tcb_info.id != "TDX" || c.qe_identity.id != "TD_QE") {
      return Error(ErrorCode::kCollateralMismatch, "tcb_info.id / qe_identity.id are not TDX / TD_QE");
    }
    v.kind = std::string(kCollateralKindTdx);
    v.id = Hex(c.tcb_info.fmspc);
    for (auto& ch : v.id) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    v.issue_time = c.tcb_info.issue_date;
    v.next_update = std::min({c.tcb_info.next_update, c.qe_identity.next_update, c.pck_crl.NextUpdate(),
                              c.root_ca_crl.NextUpdate()});
    return v;
  }
  CMLN_ASSIGN_OR_RETURN(SnpChainCollateral c, ParseSnpChainCollateral(AsChars(collateral)));
  auto ark = roots.snp_anchors.arks.find(c.product);
  if (ark == roots.snp_anchors.arks.end()) {
    return Error(ErrorCode::kChainUntrusted, std::string("no ARK pinned for ") + snp::SnpProductName(c.product));
  }
  CMLN_ASSIGN_OR_RETURN(std::vector<Certificate> chain, ParsePemChain(c.chain_pem));
  ChainOptions options = DefaultChainOptions();
  options.crl_check_all = false;  // AMD's CRL is issued by the ARK only; checked below
  auto path = VerifyChain({chain[0]}, {ark->second}, now, {}, options);
  if (!path.ok()) return path.error().WithContext("snp_chain.cert_chain");
  CMLN_ASSIGN_OR_RETURN(Crl crl, ParseCrl(c.crl));
  CMLN_TRY(CheckCrl("snp_chain.crl", crl, ark->second, {&chain[0]}, now));
  v.kind = std::string(kCollateralKindSnpChain);
  v.id = snp::SnpProductName(c.product);
  v.issue_time = crl.ThisUpdate();
  v.next_update = std::min(crl.NextUpdate(), chain[0].NotAfter());
  return v;
}

}  // namespace cmln::attest
