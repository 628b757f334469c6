// Peer timing for `scripts/bench attest-tdx`: npm @phala/dcap-qvl (pure JavaScript, pinned in package.json /
// package-lock.json, installed by scripts/setup with npm ci) verifying MANIFEST case T1 with `now` pinned
// inside T1's window, the collateral parsed once. Prints one JSON line {"peer", "version", "status",
// "verify_us"}: the median over rounds of CPU microseconds (user + system) per call, as bench/run.py reads
// Google Benchmark's cpu_time for ours.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const { verify } = require('@phala/dcap-qvl');
const version = require('@phala/dcap-qvl/package.json').version;

const here = path.dirname(fileURLToPath(import.meta.url));
const tdx = path.join(here, '..', '..', '..', 'tests', 'data', 'attestation', 'tdx');
const quote = fs.readFileSync(path.join(tdx, 'dcapqvl_tdx_quote'));
const collateral = JSON.parse(fs.readFileSync(path.join(tdx, 'dcapqvl_tdx_quote_collateral.json'), 'utf8'));
const now = Date.parse('2025-06-20T00:00:00Z') / 1000; // inside T1's window

const cpuUs = () => { const u = process.cpuUsage(); return u.user + u.system; };

const report = await verify(quote, collateral, now);
if (report.status !== 'UpToDate') {
  console.error(`@phala/dcap-qvl: T1 verified as ${report.status}, expected UpToDate`);
  process.exit(1);
}
// Warm up and calibrate, then the median of 9 rounds of about 0.3 s each.
let calls = 0;
const t0 = cpuUs();
while (cpuUs() - t0 < 100000) { await verify(quote, collateral, now); calls++; }
const perRound = Math.max(1, Math.round(calls * 3));
const samples = [];
for (let r = 0; r < 9; r++) {
  const s = cpuUs();
  for (let i = 0; i < perRound; i++) await verify(quote, collateral, now);
  samples.push((cpuUs() - s) / perRound);
}
samples.sort((a, b) => a - b);
console.log(JSON.stringify({ peer: '@phala/dcap-qvl', version, status: report.status, calls_per_round: perRound,
                             verify_us: Math.round(samples[samples.length >> 1] * 100) / 100 }));
