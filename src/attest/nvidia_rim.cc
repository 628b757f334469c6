// NVIDIA RIM (SWID tag + XMLDSig) verification and comparison; contract in nvidia_rim.h.
#include "attest/nvidia_rim.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>
#include <xmlsec/crypto.h>
#include <xmlsec/openssl/evp.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>
#include <set>

#include "common/status.h"

namespace cmln::attest::nvidia {
namespace {

constexpr const char* kSwidNs = "http://standards.iso.org/iso/19770/-2/2015/schema.xsd";
constexpr const char* kSha384Ns = "http://www.w3.org/2001/04/xmlenc#sha384";
constexpr const char* kDsigNs = "http://www.w3.org/2000/09/xmldsig#";

struct DocFree {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
using DocPtr = std::unique_ptr<xmlDoc, DocFree>;

// libxml2 error callback that drops messages: untrusted XML must not write to stderr.
void SilentXmlError(void*, const char*, ...) {}

Result<DocPtr> ParseXml(std::string_view xml) {
  if (xml.size() > kMaxRimSize) {
    return Error(ErrorCode::kLengthTooLarge, "rim: document of " + std::to_string(xml.size()) + " bytes");
  }
  xmlSetGenericErrorFunc(nullptr, SilentXmlError);
  DocPtr doc(xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "rim.xml", nullptr,
                           XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
  if (!doc) return Error(ErrorCode::kBadEncoding, "rim: XML does not parse");
  if (doc->intSubset != nullptr || doc->extSubset != nullptr) {
    return Error(ErrorCode::kMalformed, "rim: a DTD is not allowed");
  }
  xmlNode* root = xmlDocGetRootElement(doc.get());
  if (root == nullptr || root->ns == nullptr || xmlStrcmp(root->name, BAD_CAST "SoftwareIdentity") != 0 ||
      xmlStrcmp(root->ns->href, BAD_CAST kSwidNs) != 0) {
    return Error(ErrorCode::kMalformed, "rim: root element is not a SWID SoftwareIdentity");
  }
  return doc;
}

bool IsElement(const xmlNode* n, const char* name, const char* ns) {
  return n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, BAD_CAST name) == 0 && n->ns != nullptr &&
         xmlStrcmp(n->ns->href, BAD_CAST ns) == 0;
}

std::vector<xmlNode*> Children(xmlNode* parent, const char* name, const char* ns) {
  std::vector<xmlNode*> out;
  for (xmlNode* c = parent->children; c != nullptr; c = c->next) {
    if (IsElement(c, name, ns)) out.push_back(c);
  }
  return out;
}

// An attribute (no namespace, or the given one), or nullopt.
std::optional<std::string> Attr(xmlNode* n, const char* name, const char* ns = nullptr) {
  xmlChar* v = ns ? xmlGetNsProp(n, BAD_CAST name, BAD_CAST ns) : xmlGetNoNsProp(n, BAD_CAST name);
  if (v == nullptr) return std::nullopt;
  std::string s(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return s;
}

Result<uint32_t> ParseUint(const std::string& s, const std::string& field, uint32_t max) {
  if (s.empty() || s.size() > 6) return Error(ErrorCode::kMalformed, "rim: " + field + " is not a number");
  uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return Error(ErrorCode::kMalformed, "rim: " + field + " is not a number");
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v > max) return Error(ErrorCode::kLengthTooLarge, "rim: " + field + " " + s + " above " + std::to_string(max));
  return v;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool IsVbiosVersion(const std::string& v) {
  // "96.00.5E.00.01": five groups of two hex digits.
  if (v.size() != 14) return false;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i % 3 == 2) {
      if (v[i] != '.') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(v[i]))) {
      return false;
    }
  }
  return true;
}

Result<Rim> ReadRim(xmlDoc* doc) {
  xmlNode* root = xmlDocGetRootElement(doc);
  Rim rim;
  rim.tag_id = Attr(root, "tagId").value_or("");
  const auto metas = Children(root, "Meta", kSwidNs);
  if (metas.size() != 1) return Error(ErrorCode::kMalformed, "rim: want exactly one Meta element");
  auto version = Attr(metas[0], "colloquialVersion");
  if (!version || version->empty()) return Error(ErrorCode::kMalformed, "rim: Meta colloquialVersion missing");
  rim.version = *version;
  rim.product = Attr(metas[0], "product").value_or("");
  rim.kind = IsVbiosVersion(rim.version) ? RimKind::kVbios : RimKind::kDriver;

  const auto payloads = Children(root, "Payload", kSwidNs);
  if (payloads.size() != 1) return Error(ErrorCode::kMalformed, "rim: want exactly one Payload element");
  std::set<uint32_t> seen;
  for (xmlNode* res : Children(payloads[0], "Resource", kSwidNs)) {
    if (Attr(res, "type").value_or("") != "Measurement") continue;
    if (rim.measurements.size() >= kMaxRimMeasurements) {
      return Error(ErrorCode::kLengthTooLarge, "rim: more than " + std::to_string(kMaxRimMeasurements) + " measurements");
    }
    RimMeasurement m;
    auto index = Attr(res, "index");
    if (!index) return Error(ErrorCode::kMalformed, "rim: Resource without index");
    CMLN_ASSIGN_OR_RETURN(m.index, ParseUint(*index, "Resource index", 0xFFFF));
    const std::string where = "rim: Resource index " + std::to_string(m.index);
    if (!seen.insert(m.index).second) return Error(ErrorCode::kMalformed, where + " repeated");
    const std::string active = Attr(res, "active").value_or("");
    if (active == "True" || active == "true") {
      m.active = true;
    } else if (active == "False" || active == "false") {
      m.active = false;
    } else {
      return Error(ErrorCode::kMalformed, where + ": active is neither True nor False");
    }
    m.name = Attr(res, "name").value_or("");
    auto alts = Attr(res, "alternatives");
    if (!alts) return Error(ErrorCode::kMalformed, where + ": alternatives missing");
    CMLN_ASSIGN_OR_RETURN(uint32_t count, ParseUint(*alts, "alternatives", kMaxRimAlternatives));
    if (count == 0) return Error(ErrorCode::kMalformed, where + ": zero alternatives");
    for (uint32_t i = 0; i < count; ++i) {
      const std::string attr = "Hash" + std::to_string(i);
      auto hex = Attr(res, attr.c_str(), kSha384Ns);
      if (!hex) return Error(ErrorCode::kMalformed, where + ": " + attr + " missing");
      auto value = HexDecode(*hex);
      if (!value.ok() || value->size() != 48) {
        return Error(ErrorCode::kMalformed, where + ": " + attr + " is not 48 bytes of hex");
      }
      m.alternatives.push_back(std::move(*value));
    }
    rim.measurements.push_back(std::move(m));
  }
  if (rim.measurements.empty()) return Error(ErrorCode::kMalformed, "rim: no Measurement resources");
  return rim;
}

// The X509Certificate elements of the signature's KeyInfo, in document order.
Result<std::vector<Certificate>> KeyInfoCertificates(xmlNode* signature) {
  std::vector<Certificate> certs;
  for (xmlNode* ki : Children(signature, "KeyInfo", kDsigNs)) {
    for (xmlNode* xd : Children(ki, "X509Data", kDsigNs)) {
      for (xmlNode* xc : Children(xd, "X509Certificate", kDsigNs)) {
        xmlChar* text = xmlNodeGetContent(xc);
        std::string b64(text ? reinterpret_cast<const char*>(text) : "");
        if (text) xmlFree(text);
        b64.erase(std::remove_if(b64.begin(), b64.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)); }),
                  b64.end());
        auto der = Base64Decode(b64);
        if (!der.ok()) return Error(ErrorCode::kBadEncoding, "rim: X509Certificate is not base64");
        if (der->size() > kMaxCertificateDer) return Error(ErrorCode::kLengthTooLarge, "rim: X509Certificate too large");
        CMLN_ASSIGN_OR_RETURN(Certificate c, ParseCertificateDer(*der));
        certs.push_back(std::move(c));
        if (certs.size() > kMaxChainLength) return Error(ErrorCode::kLengthTooLarge, "rim: signer chain too long");
      }
    }
  }
  if (certs.empty()) return Error(ErrorCode::kMalformed, "rim: signature carries no X509Certificate");
  return certs;
}

Status InitXmlsec() {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] {
    xmlInitParser();
    ok = xmlSecInit() == 0 && xmlSecCheckVersion() == 1 && xmlSecCryptoAppInit(nullptr) == 0 && xmlSecCryptoInit() == 0;
  });
  if (!ok) return Error(ErrorCode::kInternal, "rim: libxmlsec1 initialisation failed");
  return OkStatus();
}

struct DsigCtxFree {
  void operator()(xmlSecDSigCtx* c) const { xmlSecDSigCtxDestroy(c); }
};

Status VerifyXmlDsig(xmlNode* signature, const Certificate& signer) {
  CMLN_TRY(InitXmlsec());
  CMLN_ASSIGN_OR_RETURN(PublicKey pub, CertificatePublicKey(signer));
  EVP_PKEY_up_ref(pub.get());
  xmlSecKeyDataPtr data = xmlSecOpenSSLEvpKeyAdopt(pub.get());
  if (data == nullptr) {
    EVP_PKEY_free(pub.get());
    return Error(ErrorCode::kInvalidKey, "rim: signer key not usable by xmlsec");
  }
  xmlSecKeyPtr key = xmlSecKeyCreate();
  if (key == nullptr || xmlSecKeySetValue(key, data) < 0) {
    xmlSecKeyDataDestroy(data);
    if (key) xmlSecKeyDestroy(key);
    return Error(ErrorCode::kInternal, "rim: xmlSecKeySetValue");
  }
  std::unique_ptr<xmlSecDSigCtx, DsigCtxFree> ctx(xmlSecDSigCtxCreate(nullptr));
  if (!ctx) {
    xmlSecKeyDestroy(key);
    return Error(ErrorCode::kInternal, "rim: xmlSecDSigCtxCreate");
  }
  ctx->signKey = key;  // owned by ctx from here
  // Only a reference to the whole document (URI="") may be signed: no external or fragment references.
  ctx->enabledReferenceUris = xmlSecTransformUriTypeEmpty;
  if (xmlSecDSigCtxVerify(ctx.get(), signature) < 0) {
    return Error(ErrorCode::kBadSignature, "rim: XMLDSig signature could not be processed");
  }
  if (ctx->status != xmlSecDSigStatusSucceeded) {
    return Error(ErrorCode::kBadSignature, "rim: XMLDSig signature does not verify with the signer '" +
                                               signer.Subject() + "'");
  }
  if (xmlSecPtrListGetSize(&ctx->signedInfoReferences) != 1) {
    return Error(ErrorCode::kMalformed, "rim: signature must have exactly one reference");
  }
  return OkStatus();
}

}  // namespace

const char* RimKindName(RimKind k) { return k == RimKind::kVbios ? "vbios" : "driver"; }

const RimMeasurement* Rim::Find(uint32_t index) const {
  for (const auto& m : measurements) {
    if (m.index == index) return &m;
  }
  return nullptr;
}

Result<Rim> ParseRim(std::string_view xml) {
  CMLN_ASSIGN_OR_RETURN(DocPtr doc, ParseXml(xml));
  CMLN_ASSIGN_OR_RETURN(Rim rim, ReadRim(doc.get()));
  xmlNode* root = xmlDocGetRootElement(doc.get());
  const auto sigs = Children(root, "Signature", kDsigNs);
  if (sigs.size() == 1) {
    auto certs = KeyInfoCertificates(sigs[0]);
    if (certs.ok()) rim.signer_chain = std::move(*certs);
  }
  return rim;
}

Result<Rim> VerifyRim(std::string_view xml, const std::vector<Certificate>& rim_roots, int64_t now) {
  CMLN_ASSIGN_OR_RETURN(DocPtr doc, ParseXml(xml));
  xmlNode* root = xmlDocGetRootElement(doc.get());
  const auto sigs = Children(root, "Signature", kDsigNs);
  if (sigs.size() != 1) return Error(ErrorCode::kMalformed, "rim: want exactly one ds:Signature child of the root");
  // Any other Signature element anywhere would be a second, unverified one.
  if (xmlSecFindNode(root, xmlSecNodeSignature, xmlSecDSigNs) != sigs[0]) {
    return Error(ErrorCode::kMalformed, "rim: unexpected ds:Signature element");
  }
  CMLN_ASSIGN_OR_RETURN(std::vector<Certificate> certs, KeyInfoCertificates(sigs[0]));
  CMLN_ASSIGN_OR_RETURN(std::vector<Certificate> path, VerifyChain(certs, rim_roots, now, {}));
  CMLN_TRY(VerifyXmlDsig(sigs[0], path[0]));
  CMLN_ASSIGN_OR_RETURN(Rim rim, ReadRim(doc.get()));
  rim.signer_chain = std::move(path);
  rim.signature_verified = true;
  return rim;
}

std::vector<Reason> CompareWithRims(const spdm::GpuAttestationReport& report, const Rim& driver, const Rim& vbios) {
  std::vector<Reason> reasons;
  if (driver.kind != RimKind::kDriver) {
    reasons.push_back({"rim_kind_mismatch", "driver RIM " + driver.version + " is a VBIOS RIM"});
  }
  if (vbios.kind != RimKind::kVbios) {
    reasons.push_back({"rim_kind_mismatch", "VBIOS RIM " + vbios.version + " is a driver RIM"});
  }
  if (Lower(report.nvidia.driver_version) != Lower(driver.version)) {
    reasons.push_back({"driver_version_mismatch",
                       "report driver version '" + report.nvidia.driver_version + "', RIM '" + driver.version + "'"});
  }
  if (Lower(report.nvidia.vbios_version) != Lower(vbios.version)) {
    reasons.push_back({"vbios_version_mismatch",
                       "report VBIOS version '" + report.nvidia.vbios_version + "', RIM '" + vbios.version + "'"});
  }
  // Active indexes of both RIMs, in index order.
  std::map<uint32_t, std::pair<const Rim*, const RimMeasurement*>> golden;
  for (const Rim* rim : {&driver, &vbios}) {
    for (const auto& m : rim->measurements) {
      if (!m.active) continue;
      auto [it, inserted] = golden.emplace(m.index, std::make_pair(rim, &m));
      if (!inserted) {
        reasons.push_back({"rim_conflict", "index " + std::to_string(m.index) + " is active in both the driver and the VBIOS RIM"});
      }
    }
  }
  for (const auto& [index, entry] : golden) {
    const auto& [rim, m] = entry;
    const std::string where = "index " + std::to_string(index) + " (" + RimKindName(rim->kind) + " RIM " +
                              rim->version + ", " + m->name + ")";
    const spdm::MeasurementBlock* block = index < 255 ? report.Block(static_cast<uint8_t>(index + 1)) : nullptr;
    if (block == nullptr) {
      reasons.push_back({"measurement_not_approved", where + ": no measurement block in the report"});
      continue;
    }
    bool matched = false;
    for (const auto& alt : m->alternatives) matched = matched || alt == block->value;
    if (!matched) {
      std::string wanted;
      for (const auto& alt : m->alternatives) wanted += (wanted.empty() ? "" : " | ") + HexEncode(alt);
      reasons.push_back({"measurement_not_approved", where + ": report " + HexEncode(block->value) + ", RIM wants " + wanted});
    }
  }
  return reasons;
}

nlohmann::json GpuVerdict::ToJson() const {
  nlohmann::json j = verdict.ToJson();
  j["arch"] = arch;
  j["driver_version"] = driver_version;
  j["vbios_version"] = vbios_version;
  j["revocation"] = revocation;
  j["rim_checked"] = rim_checked;
  return j;
}

GpuVerdict MakeGpuVerdict(const Result<VerifiedGpuReport>& verified, const Rim* driver, const Rim* vbios,
                          std::string_view arch) {
  GpuVerdict out;
  out.arch = std::string(arch);
  if (!verified.ok()) {
    out.verdict.accepted = false;
    out.verdict.platform = std::string(kPlatformNvidiaCc);
    out.verdict.reasons.push_back({std::string(ErrorCodeName(verified.error().code())), verified.error().message()});
    if (verified.error().code() == ErrorCode::kCertRevoked) out.revocation = RevocationName(Revocation::kRevoked);
    return out;
  }
  const VerifiedGpuReport& v = *verified;
  out.verdict.platform = v.platform;
  out.verdict.simulated = v.simulated;
  out.verdict.report_data = HexEncode(ByteView(v.report.request.nonce));
  out.verdict.measurements["fwid"] = HexEncode(v.leaf_fwid);
  for (const auto& b : v.report.response.blocks) {
    char name[16];
    std::snprintf(name, sizeof(name), "msr_%02u", static_cast<unsigned>(b.index));
    out.verdict.measurements[name] = HexEncode(b.value);
  }
  out.driver_version = v.report.nvidia.driver_version;
  out.vbios_version = v.report.nvidia.vbios_version;
  out.revocation = RevocationName(v.revocation);
  if (driver != nullptr && vbios != nullptr) {
    out.rim_checked = true;
    out.verdict.reasons = CompareWithRims(v.report, *driver, *vbios);
    if (driver->simulated != v.simulated || vbios->simulated != v.simulated) {
      out.verdict.reasons.push_back({"simulated_not_allowed", "simulated reference values mixed with real evidence"});
    }
  }
  out.verdict.accepted = out.verdict.reasons.empty();
  return out;
}

}  // namespace cmln::attest::nvidia
