// `cmln attest sim pki|tdx|snp`: simulated TEE evidence in the real byte formats under a development PKI
// (src/attest/sim_*.h, docs/attestation-sim.md).
//
//   cmln attest sim pki --out DIR [--product milan|genoa|turin] [--json]
//   cmln attest sim tdx --pki DIR --report-data HEX [--mrtd HEX] [--rtmr0..3 HEX] [--mrconfigid HEX]
//                       [--mrowner HEX] [--mrownerconfig HEX] [--debug] --out FILE [--collateral-out FILE]
//                       [--hex] [--json]
//   cmln attest sim snp --pki DIR --report-data HEX [--measurement HEX] [--host-data HEX] [--vmpl N]
//                       [--report-version 2|3] [--debug] --out FILE [--vcek-out FILE] [--chain-out FILE]
//                       [--hex] [--json]
//
// --report-data takes up to 64 bytes of hex (shorter values are zero-padded on the right, as a 32-byte
// hash usually is); measurements must be exactly their size (48 bytes; host data 32). Evidence is written
// binary, or as lowercase hex text with --hex. `tdx --collateral-out` writes fresh QuoteCollateralV3 JSON
// signed now (the PKI's own tdx/collateral.json dates from its creation); `snp --vcek-out/--chain-out`
// copy the VCEK and the ASK+ARK chain (PEM). Randomness is always fresh (no seed on the command line).
// Exit codes: 0 written; 1 the operation failed (`error: <code>: <message>` on stderr); 2 usage,
// including malformed hex or out-of-range values.
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "attest/sim_pki.h"
#include "attest/sim_snp.h"
#include "attest/sim_tdx.h"
#include "cli/commands.h"
#include "common/bytes.h"

namespace cmln::cli {

namespace {

using attest::Mr48;
using nlohmann::json;

// CLI11 writes parsed values into these after parse(); the callbacks run later (static storage).
struct PkiOptions {
  std::string out;
  std::string product = "milan";
  bool json = false;
};
struct TdxOptions {
  std::string pki, report_data, mrtd, rtmr[4], mrconfigid, mrowner, mrownerconfig, out, collateral_out;
  bool debug = false, hex = false, json = false;
};
struct SnpOptions {
  std::string pki, report_data, measurement, host_data, out, vcek_out, chain_out;
  uint32_t vmpl = 0;
  uint32_t report_version = 3;
  bool debug = false, hex = false, json = false;
};
PkiOptions g_pki;
TdxOptions g_tdx;
SnpOptions g_snp;

void Fail(const Error& error) {
  std::cerr << "error: " << error.ToString() << "\n";
  SetExitCode(1);
}

void Usage(const std::string& message) {
  std::cerr << "usage error: " << message << "\n";
  SetExitCode(2);
}

int64_t Now() { return static_cast<int64_t>(std::time(nullptr)); }

Status WriteOut(const std::string& path, ByteView data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) return Error(ErrorCode::kIoError, "cannot open " + path + " for writing");
  f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  f.close();
  if (!f) return Error(ErrorCode::kIoError, "cannot write " + path);
  return OkStatus();
}

Status WriteEvidence(const std::string& path, ByteView evidence, bool as_hex) {
  if (!as_hex) return WriteOut(path, evidence);
  return WriteOut(path, AsBytes(HexEncode(evidence) + "\n"));
}

// Hex of at most N bytes, zero-padded on the right (report data).
template <size_t N>
Result<std::array<uint8_t, N>> HexUpTo(const std::string& flag, const std::string& text) {
  auto b = HexDecode(text);
  if (!b.ok()) return Error(ErrorCode::kInvalidArgument, flag + ": not hex");
  if (b->size() > N) {
    return Error(ErrorCode::kInvalidArgument,
                 flag + ": " + std::to_string(b->size()) + " bytes, at most " + std::to_string(N));
  }
  std::array<uint8_t, N> out{};
  std::copy(b->begin(), b->end(), out.begin());
  return out;
}

// Hex of exactly N bytes; empty text leaves `out` unchanged (all zero).
template <size_t N>
Status HexExact(const std::string& flag, const std::string& text, std::array<uint8_t, N>& out) {
  if (text.empty()) return OkStatus();
  auto b = HexDecode(text);
  if (!b.ok()) return Error(ErrorCode::kInvalidArgument, flag + ": not hex");
  if (b->size() != N) {
    return Error(ErrorCode::kInvalidArgument,
                 flag + ": " + std::to_string(b->size()) + " bytes, want " + std::to_string(N));
  }
  std::copy(b->begin(), b->end(), out.begin());
  return OkStatus();
}

void Report(bool as_json, const json& summary) {
  if (as_json) {
    std::cout << summary.dump() << "\n";
    return;
  }
  for (const auto& [key, value] : summary.items()) {
    std::cout << key << ": " << (value.is_string() ? value.get<std::string>() : value.dump()) << "\n";
  }
}

void RunPki() {
  attest::SimPkiOptions o;
  o.now = Now();
  if (g_pki.product == "milan") {
    o.snp_product = attest::snp::SnpProduct::kMilan;
  } else if (g_pki.product == "genoa") {
    o.snp_product = attest::snp::SnpProduct::kGenoa;
  } else if (g_pki.product == "turin") {
    o.snp_product = attest::snp::SnpProduct::kTurin;
  } else {
    return Usage("--product: milan, genoa or turin");
  }
  // Refuse a used directory before spending seconds on RSA key generation (WriteSimPki checks again).
  std::error_code ec;
  if (std::filesystem::exists(g_pki.out, ec) &&
      (!std::filesystem::is_directory(g_pki.out, ec) || !std::filesystem::is_empty(g_pki.out, ec))) {
    return Fail(Error(ErrorCode::kAlreadyExists, g_pki.out + " exists and is not an empty directory"));
  }
  auto pki = attest::GenerateSimPki(o);
  if (!pki.ok()) return Fail(pki.error());
  auto written = attest::WriteSimPki(*pki, g_pki.out);
  if (!written.ok()) return Fail(written.error());
  std::cerr << "development PKI written to " << g_pki.out
            << " (NOT FOR PRODUCTION; private keys unencrypted, mode 0600; see docs/attestation-sim.md)\n";
  Report(g_pki.json, json{{"dir", g_pki.out},
                          {"tdx_root", g_pki.out + "/tdx/root_ca.pem"},
                          {"tdx_collateral", g_pki.out + "/tdx/collateral.json"},
                          {"snp_ark", g_pki.out + "/snp/ark.pem"},
                          {"snp_product", pki->snp.ProductName()},
                          {"created", pki->created}});
  SetExitCode(0);
}

void RunTdx() {
  const TdxOptions& o = g_tdx;
  attest::SimTdxQuoteSpec spec;
  auto rd = HexUpTo<64>("--report-data", o.report_data);
  if (!rd.ok()) return Usage(rd.error().message());
  spec.report_data = *rd;
  Status st = HexExact("--mrtd", o.mrtd, spec.mr_td);
  for (size_t i = 0; st.ok() && i < 4; ++i) st = HexExact("--rtmr" + std::to_string(i), o.rtmr[i], spec.rtmr[i]);
  if (st.ok()) st = HexExact("--mrconfigid", o.mrconfigid, spec.mr_config_id);
  if (st.ok()) st = HexExact("--mrowner", o.mrowner, spec.mr_owner);
  if (st.ok()) st = HexExact("--mrownerconfig", o.mrownerconfig, spec.mr_owner_config);
  if (!st.ok()) return Usage(st.error().message());
  spec.debug = o.debug;

  auto pki = attest::LoadSimPki(o.pki);
  if (!pki.ok()) return Fail(pki.error());
  auto quote = attest::GenerateSimTdxQuote(*pki, spec);
  if (!quote.ok()) return Fail(quote.error());
  if (auto w = WriteEvidence(o.out, *quote, o.hex); !w.ok()) return Fail(w.error());
  json summary{{"platform", "sim-tdx"},
               {"out", o.out},
               {"bytes", quote->size()},
               {"debug", o.debug},
               {"report_data", HexEncode(spec.report_data)}};
  if (!o.collateral_out.empty()) {
    const int64_t now = Now();
    attest::SimCollateralOptions c{now - attest::kSimDay, pki->collateral_validity, {}, {}};
    auto collateral = attest::BuildSimTdxCollateral(*pki, c);
    if (!collateral.ok()) return Fail(collateral.error());
    if (auto w = WriteOut(o.collateral_out, AsBytes(*collateral)); !w.ok()) return Fail(w.error());
    summary["collateral_out"] = o.collateral_out;
  }
  Report(o.json, summary);
  SetExitCode(0);
}

void RunSnp() {
  const SnpOptions& o = g_snp;
  attest::SimSnpReportSpec spec;
  auto rd = HexUpTo<64>("--report-data", o.report_data);
  if (!rd.ok()) return Usage(rd.error().message());
  spec.report_data = *rd;
  Status st = HexExact("--measurement", o.measurement, spec.measurement);
  if (st.ok()) st = HexExact("--host-data", o.host_data, spec.host_data);
  if (!st.ok()) return Usage(st.error().message());
  spec.vmpl = o.vmpl;
  spec.version = o.report_version;
  spec.debug = o.debug;

  auto pki = attest::LoadSimPki(o.pki);
  if (!pki.ok()) return Fail(pki.error());
  auto report = attest::GenerateSimSnpReport(*pki, spec);
  if (!report.ok()) {
    if (report.error().code() == ErrorCode::kInvalidArgument) return Usage(report.error().message());
    return Fail(report.error());
  }
  if (auto w = WriteEvidence(o.out, *report, o.hex); !w.ok()) return Fail(w.error());
  json summary{{"platform", "sim-snp"},
               {"out", o.out},
               {"bytes", report->size()},
               {"debug", o.debug},
               {"report_data", HexEncode(spec.report_data)}};
  if (!o.vcek_out.empty()) {
    if (auto w = WriteOut(o.vcek_out, AsBytes(attest::CertificatePem(pki->vcek))); !w.ok()) return Fail(w.error());
    summary["vcek_out"] = o.vcek_out;
  }
  if (!o.chain_out.empty()) {
    if (auto w = WriteOut(o.chain_out, AsBytes(attest::SimSnpChainPem(*pki))); !w.ok()) return Fail(w.error());
    summary["chain_out"] = o.chain_out;
  }
  Report(o.json, summary);
  SetExitCode(0);
}

}  // namespace

// `cmln attest sim ...`: simulated sim-tdx / sim-snp evidence under a development PKI (issue 3).
void RegisterAttestSim(CLI::App& attest) {
  auto* cmd = attest.add_subcommand("sim", "Produce simulated TEE evidence under a development PKI");
  cmd->require_subcommand(1);

  auto* pki = cmd->add_subcommand("pki", "Generate a development PKI (NOT FOR PRODUCTION) into a new directory");
  pki->add_option("--out", g_pki.out, "Directory to create (must not exist or be empty)")->required();
  pki->add_option("--product", g_pki.product, "Simulated SEV-SNP product: milan (default), genoa, turin");
  pki->add_flag("--json", g_pki.json, "Print JSON");
  pki->callback(RunPki);

  auto* tdx = cmd->add_subcommand("tdx", "Write a sim-tdx quote (TDX DCAP v4, TDX 1.0 body)");
  tdx->add_option("--pki", g_tdx.pki, "Development PKI directory (from `sim pki`)")->required();
  tdx->add_option("--report-data", g_tdx.report_data, "REPORTDATA, hex, up to 64 bytes (zero-padded)")->required();
  tdx->add_option("--mrtd", g_tdx.mrtd, "MRTD, 48 bytes hex (default zero)");
  for (int i = 0; i < 4; ++i) {
    tdx->add_option("--rtmr" + std::to_string(i), g_tdx.rtmr[i], "RTMR" + std::to_string(i) + ", 48 bytes hex");
  }
  tdx->add_option("--mrconfigid", g_tdx.mrconfigid, "MRCONFIGID, 48 bytes hex");
  tdx->add_option("--mrowner", g_tdx.mrowner, "MROWNER, 48 bytes hex");
  tdx->add_option("--mrownerconfig", g_tdx.mrownerconfig, "MROWNERCONFIG, 48 bytes hex");
  tdx->add_flag("--debug", g_tdx.debug, "Set TD_ATTRIBUTES.DEBUG (policies refuse it)");
  tdx->add_option("--out", g_tdx.out, "Quote file to write")->required();
  tdx->add_option("--collateral-out", g_tdx.collateral_out, "Also write fresh QuoteCollateralV3 JSON here");
  tdx->add_flag("--hex", g_tdx.hex, "Write the quote as hex text");
  tdx->add_flag("--json", g_tdx.json, "Print JSON");
  tdx->callback(RunTdx);

  auto* snp = cmd->add_subcommand("snp", "Write a sim-snp attestation report (SEV-SNP ATTESTATION_REPORT)");
  snp->add_option("--pki", g_snp.pki, "Development PKI directory (from `sim pki`)")->required();
  snp->add_option("--report-data", g_snp.report_data, "REPORT_DATA, hex, up to 64 bytes (zero-padded)")->required();
  snp->add_option("--measurement", g_snp.measurement, "MEASUREMENT, 48 bytes hex (default zero)");
  snp->add_option("--host-data", g_snp.host_data, "HOST_DATA, 32 bytes hex (default zero)");
  snp->add_option("--vmpl", g_snp.vmpl, "VMPL 0..3 (default 0)");
  snp->add_option("--report-version", g_snp.report_version, "Report version 2 or 3 (default 3)");
  snp->add_flag("--debug", g_snp.debug, "Set POLICY.DEBUG (policies refuse it)");
  snp->add_option("--out", g_snp.out, "Report file to write")->required();
  snp->add_option("--vcek-out", g_snp.vcek_out, "Also write the VCEK certificate (PEM)");
  snp->add_option("--chain-out", g_snp.chain_out, "Also write the ASK+ARK chain (PEM)");
  snp->add_flag("--hex", g_snp.hex, "Write the report as hex text");
  snp->add_flag("--json", g_snp.json, "Print JSON");
  snp->callback(RunSnp);
}

}  // namespace cmln::cli
