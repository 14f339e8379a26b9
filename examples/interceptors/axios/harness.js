#!/usr/bin/env node
// harness.js runs N simulated app sessions in one process against a
// backend with the embedded backend's endpoints (stampede serve, or
// stampede proxy --upstream embedded). Each session signs in, then makes
// batches of concurrent API calls through its own axios instance, on which
// the interceptor module under test is installed. It prints one JSON line
// of what the app saw; the server's view is stampede proxy's.
//
//   node harness.js --base http://127.0.0.1:8788 --interceptor ./single-flight.js \
//       --sessions 20 --duration 8s --batch 4 --think 50ms
'use strict';

const path = require('node:path');
const axios = require('axios');

function parseArgs(argv) {
  const opts = { base: '', interceptor: './single-flight.js', sessions: 20, duration: 8000, batch: 4, think: 50 };
  const ms = (v) => {
    const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(v);
    if (!m) throw new Error(`bad duration ${JSON.stringify(v)}: want such as 8s or 50ms`);
    return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
  };
  for (let i = 2; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${flag}: missing value`);
    switch (flag) {
      case '--base': opts.base = value.replace(/\/$/, ''); break;
      case '--interceptor': opts.interceptor = value; break;
      case '--sessions': opts.sessions = Number(value); break;
      case '--duration': opts.duration = ms(value); break;
      case '--batch': opts.batch = Number(value); break;
      case '--think': opts.think = ms(value); break;
      default: throw new Error(`unknown flag ${flag}`);
    }
  }
  if (!opts.base) throw new Error('--base: required');
  if (!(opts.sessions >= 1) || !(opts.batch >= 1)) throw new Error('--sessions and --batch must be at least 1');
  return opts;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// session is one simulated app: its tokens, and the refresh call the
// interceptor makes (a bare axios call, no interceptor on it).
function newSession(base, signIn) {
  const s = {
    sid: signIn.session.id,
    clientToken: signIn.client_token,
    token: signIn.jwt,
    refreshes: 0,
    async refresh() {
      s.refreshes++;
      const res = await axios.post(`${base}/v1/client/sessions/${encodeURIComponent(s.sid)}/tokens`, null,
        { headers: { Authorization: `Bearer ${s.clientToken}` }, timeout: 10000 });
      if (res.data.client_token) s.clientToken = res.data.client_token;
      s.token = res.data.jwt;
      return s.token;
    },
  };
  return s;
}

async function runSession(opts, install, index, deadline, stats) {
  const signIn = await axios.post(`${opts.base}/v1/client/sign_ins`, { user: `user-${index}` }, { timeout: 10000 });
  const session = newSession(opts.base, signIn.data);
  const api = axios.create({ baseURL: opts.base, timeout: 10000 });
  api.interceptors.request.use((config) => {
    if (!config.headers.Authorization) config.headers.Authorization = `Bearer ${session.token}`;
    return config;
  });
  install(api, session);
  let n = 0;
  while (Date.now() < deadline) {
    const calls = [];
    for (let k = 0; k < opts.batch; k++) {
      const id = `${index}-${n++}`; // every call its own URL: a retry repeats it, a new call does not
      stats.issued++;
      calls.push(api.get(`/api/items?req=${id}`).then(() => { stats.ok++; }, () => { stats.failed++; }));
    }
    await Promise.all(calls);
    await sleep(opts.think);
  }
  stats.refreshes += session.refreshes;
}

async function main() {
  const opts = parseArgs(process.argv);
  const { install } = require(path.resolve(__dirname, opts.interceptor));
  const deadline = Date.now() + opts.duration;
  const stats = { interceptor: path.basename(opts.interceptor), sessions: opts.sessions, issued: 0, ok: 0, failed: 0, refreshes: 0, signInFailures: 0 };
  await Promise.all(Array.from({ length: opts.sessions }, (_, i) =>
    runSession(opts, install, i, deadline, stats).catch(() => { stats.signInFailures++; })));
  process.stdout.write(JSON.stringify(stats) + '\n');
}

main().catch((err) => {
  process.stderr.write(`harness: ${err.message}\n`);
  process.exit(2);
});
