#!/usr/bin/env python3
"""Peer for `scripts/bench attest-gpu`: NVIDIA's own Python verifier (PyPI nv-local-gpu-verifier) on MANIFEST
case N1, doing the offline steps our BM_VerifyGpuN1 does: parse the SPDM report, verify the five-certificate
chain to NVIDIA's root with the FWID comparison (CcAdminUtils.verify_gpu_certificate_chain), then the nonce and
the ECDSA P-384 report signature (CcAdminUtils.verify_attestation_report). Its OCSP and RIM-service steps need
the network and are not run (ours runs no OCSP either without a snapshot). Prints one JSON line:
{"verify_us": ..., "version": ...}."""
import io
import json
import logging
import os
import sys
import tempfile
import time
import warnings
from contextlib import redirect_stdout

warnings.simplefilter("ignore")
os.chdir(tempfile.mkdtemp(prefix="nv-verifier-"))  # the verifier writes verifier.log into the working directory
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "tests", "data", "attestation", "nvidia")
NONCE = bytes.fromhex("931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb")

with redirect_stdout(io.StringIO()):
    from importlib.metadata import version
    from verifier.attestation import AttestationReport
    from verifier.cc_admin_utils import CcAdminUtils
    from verifier.config import HopperSettings, info_log, event_log
    from verifier.nvml.gpu_cert_chains import GpuCertificateChains

for log in (info_log, event_log):
    log.setLevel(logging.CRITICAL)
    log.disabled = True

report = bytes.fromhex(open(os.path.join(DATA, "nvtrust_hopperAttestationReport.txt")).read().strip())
chain_pem = open(os.path.join(DATA, "nvtrust_hopperCertChain.txt"), "rb").read()


def verify_once():
    settings = HopperSettings()
    chain = GpuCertificateChains.extract_cert_chain(chain_pem)
    obj = AttestationReport(report, settings)
    fwid = obj.get_response_message().get_opaque_data().get_data("OPAQUE_FIELD_ID_FWID").hex()
    ok = CcAdminUtils.verify_gpu_certificate_chain(chain, settings, fwid)
    ok = ok[0] if isinstance(ok, tuple) else ok
    if not ok:
        raise SystemExit("peer: chain does not verify")
    if not CcAdminUtils.verify_attestation_report(attestation_report_obj=obj, gpu_leaf_certificate=chain[0],
                                                  nonce=NONCE, driver_version="550.90.07",
                                                  vbios_version="96.00.9f.00.01", settings=settings):
        raise SystemExit("peer: report does not verify")


with redirect_stdout(io.StringIO()):
    verify_once()
    n = 0
    start = time.perf_counter()
    while time.perf_counter() - start < 2.0 or n < 20:
        verify_once()
        n += 1
    elapsed = time.perf_counter() - start
print(json.dumps({"verify_us": round(elapsed / n * 1e6, 1), "version": version("nv-local-gpu-verifier")}))
