// The marketplace in a real browser against a real node.
//
//   npm run build
//   GATELESS_URL=ws://127.0.0.1:9944 node --test tests/
//
// Serves dist/ with Node's http module (or uses the `gateless web` at GATELESS_WEB_URL), registers the digits model as //Ferdie when the chain has
// none (and waits until the validators activate it), then drives Debian's chromium
// (CHROMIUM=/usr/bin/chromium by default) through playwright-core: the catalogue, a job from a PNG
// as //Eve, the quote's and the chain's errors by name, the validators, the live feed.
// Screenshots go to test-artifacts/.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { blake2AsHex, cryptoWaitReady } from '@polkadot/util-crypto';
import { u8aToHex } from '@polkadot/util';
import { chromium } from 'playwright-core';

import { digitPng, encodePng, rustImageTensor } from './png.mjs';

const WEB = fileURLToPath(new URL('..', import.meta.url));
const REPO = join(WEB, '..');
const DIST = join(WEB, 'dist');
const ARTIFACTS = join(WEB, 'test-artifacts');
const URL_ = process.env.GATELESS_URL ?? 'ws://127.0.0.1:9944';
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

let server;
let base;
let api;
let provider;
let browser;
let model;
let eve;
const started = Date.now();
const consoleErrors = [];

function log(line) {
  process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0)}s] ${line}\n`);
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png', '.wasm': 'application/wasm' };

/** dist/ as a plain static server would serve it, plus config.json naming the node. */
function serve() {
  return new Promise((resolve) => {
    const s = createServer((request, response) => {
      const path = decodeURIComponent(new URL(request.url, 'http://x').pathname);
      if (path === '/config.json') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ rpc: URL_ }));
        return;
      }
      const file = normalize(join(DIST, path === '/' ? 'index.html' : path));
      if (!file.startsWith(DIST) || !existsSync(file)) {
        response.writeHead(404);
        response.end('not found');
        return;
      }
      response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      response.end(readFileSync(file));
    });
    s.listen(0, '127.0.0.1', () => resolve(s));
  });
}

async function rpc(method, params = []) {
  return provider.send(method, params);
}

/** The digits model, registered inline as //Ferdie if the chain has none, once it is active. */
async function digitsModel() {
  const find = async () => (await rpc('gateless_models', [0, 100])).models.find((m) => m.name === 'digits-mlp' && ['active', 'pending'].includes(m.status));
  let found = await find();
  if (!found) {
    log('registering models/digits-mlp.onnx as //Ferdie');
    const bytes = readFileSync(join(REPO, 'models/digits-mlp.onnx'));
    const labels = Buffer.from(Array.from({ length: 10 }, (_, i) => `${i}\n`).join(''));
    const ferdie = new Keyring({ type: 'sr25519' }).addFromUri('//Ferdie');
    const tx = api.tx.modelRegistry.registerModel(
      'digits-mlp',
      '1.0.0',
      blake2AsHex(bytes, 256),
      bytes.length,
      { Inline: u8aToHex(bytes) },
      {
        inputs: [{ name: 'pixels', dtype: 'F32', shape: [{ Symbol: 0 }, { Fixed: 64 }] }],
        outputs: [{ name: 'logits', dtype: 'F32', shape: [{ Symbol: 0 }, { Fixed: 10 }] }],
        symbols: [{ name: 'N', example: 1 }],
      },
      // FixedU64 and Perbill count billionths: 1e-4 and 1e-5.
      { Tolerance: { abs: 100000, rel: 10000 } },
      100_000_000_000n,
      'A small MLP over 8x8 handwritten digits (grey levels 0..16): logits for 0-9.',
      { task: 'image-classification', license: 'Apache-2.0', labels: blake2AsHex(labels, 256), inputs: '8x8 grey levels 0..16, row-major, flattened to 64', outputs: 'logits over the digits 0-9' },
      [],
    );
    await new Promise((resolve, reject) => {
      tx.signAndSend(ferdie, (result) => {
        if (result.status.isInBlock) {
          if (result.dispatchError) {
            const { section, name } = api.registry.findMetaError(result.dispatchError.asModule);
            reject(new Error(`registerModel: ${section}.${name}`));
          } else resolve();
        } else if (result.isError) reject(new Error(`registerModel: ${result.status.type}`));
      }).catch(reject);
    });
    found = await find();
    assert.ok(found, 'the registered model is listed');
  }
  const deadline = Date.now() + 240_000;
  while (found.status === 'pending') {
    assert.ok(Date.now() < deadline, 'the digits model is still pending after 240 s');
    await sleep(2000);
    found = await rpc('gateless_model', [found.id]);
  }
  assert.equal(found.status, 'active', `the digits model is ${found.status}`);
  log(`model ${found.id} digits-mlp is active`);
  return found;
}

async function newPage(viewport = { width: 1280, height: 900 }) {
  const page = await browser.newPage({ viewport });
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(`pageerror: ${error.message}`));
  return page;
}

/** Sits between the page and the node and lets `change(method, answer)` edit the node's answers. */
async function rewriteAnswers(page, change) {
  await page.routeWebSocket(/.*/, (ws) => {
    const server = ws.connectToServer();
    const asked = new Map();
    ws.onMessage((message) => {
      try {
        const { id, method } = JSON.parse(message);
        if (id !== undefined) asked.set(id, method);
      } catch {}
      server.send(message);
    });
    server.onMessage((message) => {
      let answer;
      try {
        answer = JSON.parse(message);
      } catch {
        ws.send(message);
        return;
      }
      change(asked.get(answer.id), answer);
      ws.send(JSON.stringify(answer));
    });
  });
}

const at = (route) => `${base}/index.html?rpc=${encodeURIComponent(URL_)}#${route}`;
async function shot(page, name, fullPage = true) {
  // From the top, so that the sticky header is where it belongs in a full-page capture.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage });
}

// The reference input's sample 3 of models/digits-mlp.reference.json (a 7, the widest margin),
// drawn 64x64: the page averages it back down to 8x8.
const reference = JSON.parse(readFileSync(join(REPO, 'models/digits-mlp.reference.json'), 'utf8'));
const SAMPLE = 3;
const LABEL = reference.labels[SAMPLE];
const LEVELS = reference.input.values.slice(SAMPLE * 64, SAMPLE * 64 + 64);

before(async () => {
  assert.ok(existsSync(join(DIST, 'index.html')), 'dist/ is missing: run `npm run build` first');
  assert.ok(existsSync(CHROMIUM), `no browser at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  writeFileSync(join(ARTIFACTS, 'digit-7.png'), digitPng(LEVELS));
  writeFileSync(join(ARTIFACTS, 'wrong-shape.json'), JSON.stringify({ dtype: 'f32', shape: [1, 63], values: new Array(63).fill(0) }));
  // `gateless web` when the caller started one (the end-to-end test does), else dist/ served here.
  if (process.env.GATELESS_WEB_URL) {
    base = process.env.GATELESS_WEB_URL.replace(/\/$/, '');
  } else {
    server = await serve();
    base = `http://127.0.0.1:${server.address().port}`;
  }
  await cryptoWaitReady();
  provider = new WsProvider(URL_);
  api = await ApiPromise.create({ provider, signedExtensions: { AuthorizeCall: { extrinsic: {}, payload: {} } }, noInitWarn: true });
  eve = new Keyring({ type: 'sr25519' }).addFromUri('//Eve').address;
  model = await digitsModel();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // playwright-core gives each launch a fresh profile directory (--user-data-dir).
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  log(`the page at ${base}; node ${URL_}; ${browser.version()}`);
});

after(async () => {
  await browser?.close();
  await api?.disconnect();
  server?.close();
  if (consoleErrors.length) log(`browser console errors:\n  ${consoleErrors.join('\n  ')}`);
});

test('the catalogue lists the model with its statistics (node from config.json)', { timeout: 60_000 }, async () => {
  const page = await newPage();
  // No ?rpc= here: the page reads the node from config.json beside the assets.
  await page.goto(`${base}/`);
  const row = page.locator(`tr[data-model="${model.id}"]`);
  await row.waitFor({ timeout: 30_000 });
  assert.match(await page.getByTestId('node-status').getAttribute('title'), /from config\.json/);
  const text = await row.innerText();
  assert.match(text, /digits-mlp/);
  assert.match(text, /1\.0\.0/);
  assert.match(text, /active/);
  assert.match(text, /0\.1 GATE/);
  // The statistics: numbers from the node, or "—" while it does not report them.
  for (const stat of ['jobs', 'agreement', 'revenue', 'lastUsed']) {
    const cell = await row.locator(`[data-stat="${stat}"]`).innerText();
    assert.match(cell, /—|\d/, `statistic ${stat}: ${cell}`);
  }
  await page.getByLabel('Search models').fill('no-such-model');
  await page.getByText('No model matches.').waitFor();
  await page.getByLabel('Search models').fill('digits');
  await row.waitFor();
  await shot(page, 'catalogue');
  await page.setViewportSize({ width: 390, height: 844 });
  await shot(page, 'catalogue-phone');
  await page.close();
});

test('statistics render when the node reports them (injected where it does not yet)', { timeout: 60_000 }, async () => {
  // Between the page and the node, `stats` and `agreementRate` are added to the answers that lack
  // them, so that the rendering is checked before every node reports them.
  const STATS = { submitted: 12, finalized: 10, agreedErrors: 1, failed: 1, expired: 0, cancelled: 0, seats: 11, agreeing: 10, agreementRate: 10 / 11, revenue: '1000000000000', lastUsed: 42 };
  const page = await newPage();
  await rewriteAnswers(page, (method, answer) => {
    const model = (m) => { if (m && !m.stats) m.stats = STATS; };
    if (method === 'gateless_models' && answer.result) answer.result.models.forEach(model);
    if (method === 'gateless_model') model(answer.result);
    if (method === 'gateless_validators' && answer.result) answer.result.forEach((v) => { if (v.agreementRate === undefined) v.agreementRate = 0.95; });
  });
  await page.goto(at('/'));
  const row = page.locator(`tr[data-model="${model.id}"]`);
  await row.waitFor({ timeout: 30_000 });
  const real = (await rpc('gateless_model', [model.id])).stats;
  const stats = real ?? STATS;
  const rate = stats.agreementRate === null ? '—' : `${(stats.agreementRate * 100).toFixed(stats.agreementRate === 1 || stats.agreementRate === 0 ? 0 : 1)} %`;
  assert.equal(await row.locator('[data-stat="jobs"]').innerText(), `${stats.submitted} / ${stats.finalized} / ${stats.failed + stats.expired}`);
  assert.equal(await row.locator('[data-stat="agreement"]').innerText(), rate);
  if (!real) {
    assert.equal(await row.locator('[data-stat="revenue"]').innerText(), '1 GATE');
    assert.equal(await row.locator('[data-stat="lastUsed"]').innerText(), '#42');
  }
  await row.locator('a.model-name').click();
  const tiles = page.getByTestId('model-stats');
  await tiles.waitFor();
  assert.equal(await tiles.locator('[data-stat="submitted"] .stat-value').innerText(), String(stats.submitted));
  assert.equal(await tiles.locator('[data-stat="agreementRate"] .stat-value').innerText(), rate);
  await page.goto(at('/validators'));
  await page.getByTestId('validators').waitFor({ timeout: 30_000 });
  // A validator without verdicts yet has no rate (the node says null): a dash.
  const first = (await rpc('gateless_validators'))[0];
  const expected = first.agreementRate === null ? /^—$/ : /\d+(\.\d)? %/;
  assert.match(await page.locator('[data-stat="agreementRate"]').first().innerText(), expected);
  await page.close();
});

test('a PNG becomes the tensor the Rust client sends for it', { timeout: 60_000 }, async () => {
  // An RGB image whose size does not divide into 8x8 cells, of pseudo-random colours.
  const [width, height] = [37, 29];
  const samples = Buffer.alloc(width * height * 3);
  let seed = 7;
  for (let i = 0; i < samples.length; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    samples[i] = seed >> 23;
  }
  writeFileSync(join(ARTIFACTS, 'odd-rgb.png'), encodePng(width, height, samples, 3));
  const page = await newPage();
  await page.goto(at(`/models/${model.id}`));
  await page.getByTestId('try-it').waitFor({ timeout: 30_000 });
  const input = model.signature.inputs[0].name;
  await page.getByTestId('pixel-scale').fill('16');
  await page.getByTestId(`file-${input}`).setInputFiles(join(ARTIFACTS, 'odd-rgb.png'));
  const values = page.getByTestId(`values-${input}`);
  await values.waitFor();
  assert.equal(await values.getAttribute('data-hex'), rustImageTensor(width, height, samples, 3, 8, 8, 16));
  await page.close();
});

test('a user runs the digits model from a PNG as //Eve and sees the verified classes', { timeout: 300_000 }, async () => {
  const page = await newPage();
  // How long a newcomer waits, clicks aside: from opening the model's page to the verified classes.
  const opened = Date.now();
  await page.goto(at(`/models/${model.id}`));
  await page.getByTestId('try-it').waitFor({ timeout: 30_000 });
  const input = model.signature.inputs[0].name;
  await page.getByTestId('pixel-scale').fill('16');
  await page.getByTestId(`file-${input}`).setInputFiles(join(ARTIFACTS, 'digit-7.png'));
  await page.getByText('digit-7.png: f32 [1, 64]').waitFor();
  await page.getByTestId('signer').selectOption(`dev:${eve}`);
  await page.getByTestId('quote-total').waitFor();
  const quote = await page.getByTestId('quote').innerText();
  assert.match(quote, /Quote: [\d.]+ GATE/, quote);
  await shot(page, 'try-it-ready');
  await page.getByTestId('submit').click();
  const job = page.getByTestId('job');
  await job.waitFor({ timeout: 60_000 });
  log(`submitted: ${(await job.locator('h3').innerText()).replace(/\s+/g, ' ')}`);
  await page.locator('[data-testid="job"][data-status="finalized"]').waitFor({ timeout: 240_000 });
  const top = page.getByTestId('class-row').first();
  await top.waitFor({ timeout: 30_000 });
  assert.equal(Number(await top.getAttribute('data-top')), LABEL, 'the verified top class is the digit drawn');
  const verdict = await page.getByTestId('verdict').innerText();
  assert.match(verdict, /Verified in block #\d+: 1 executor agreed/);
  assert.match(verdict, /each paid [\d.]+ GATE/);
  const executors = await job.locator('table.executors').innerText();
  assert.match(executors, /Alice/);
  assert.match(executors, /agreed, paid/);
  log(`verified: class ${LABEL} on top, ${((Date.now() - opened) / 1000).toFixed(0)} s after opening the model's page`);
  await shot(page, 'job-verified');
  await page.setViewportSize({ width: 390, height: 844 });
  await shot(page, 'job-verified-phone');

  // The chain's own refusal, by name with the pallet's explanation: a max fee below the quote.
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.getByTestId('max-fee').fill('0.000000000001');
  await page.getByTestId('submit').click();
  const refusal = page.getByTestId('submit-error');
  await refusal.waitFor({ timeout: 60_000 });
  const message = await refusal.innerText();
  assert.match(message, /InferenceJobs::FeeAboveMax: The fee is above the `max_fee` the submitter accepts/, message);
  log(`refused: ${message}`);
  await shot(page, 'chain-error');
  await page.close();
});

test('a batch above the inline threshold goes by content (gateless_putChunk, gateless_putContent)', { timeout: 300_000 }, async () => {
  // 20 samples of 64 f32 values: 5,120 bytes, above the runtime's 4 KiB inline threshold.
  const rows = 20;
  const values = Array.from({ length: rows }, (_, row) => reference.input.values.slice((row % 16) * 64, (row % 16) * 64 + 64)).flat();
  writeFileSync(join(ARTIFACTS, 'batch-20.json'), JSON.stringify({ dtype: 'f32', shape: [rows, 64], values }));
  const page = await newPage();
  await page.goto(at(`/models/${model.id}`));
  await page.getByTestId('try-it').waitFor({ timeout: 30_000 });
  await page.getByTestId(`file-${model.signature.inputs[0].name}`).setInputFiles(join(ARTIFACTS, 'batch-20.json'));
  await page.getByTestId('signer').selectOption(`dev:${eve}`);
  await page.getByTestId('quote-total').waitFor();
  await page.getByTestId('submit').click();
  assert.match(await page.getByTestId('uploads').innerText({ timeout: 60_000 }), /5\.0 KiB uploaded to the node and named by content 0x/);
  await page.locator('[data-testid="job"][data-status="finalized"]').waitFor({ timeout: 240_000 });
  const tops = page.getByTestId('class-row');
  await tops.first().waitFor({ timeout: 30_000 });
  const shown = await tops.evaluateAll((list) => list.map((row) => Number(row.getAttribute('data-top'))));
  assert.deepEqual(shown, reference.predicted.slice(0, 16));
  log(`batch of ${rows} by content verified`);
  await page.close();
});

test('a browser wallet extension signs the submission (a stand-in extension holding //Charlie)', { timeout: 120_000 }, async () => {
  // What a wallet extension injects (window.injectedWeb3), its signing done here in Node.
  const charlie = new Keyring({ type: 'sr25519' }).addFromUri('//Charlie');
  const page = await newPage();
  await page.exposeFunction('testWalletSign', (payload) => api.registry.createType('ExtrinsicPayload', payload, { version: payload.version }).sign(charlie));
  await page.addInitScript((address) => {
    const accounts = [{ address, name: 'Test wallet', type: 'sr25519' }];
    window.injectedWeb3 = {
      'test-wallet': {
        version: '1.0.0',
        enable: async () => ({
          accounts: { get: async () => accounts, subscribe: (callback) => { callback(accounts); return () => {}; } },
          signer: { signPayload: async (payload) => ({ id: 1, ...(await window.testWalletSign(payload)) }) },
        }),
      },
    };
  }, charlie.address);
  await page.goto(at(`/models/${model.id}`));
  await page.getByTestId('try-it').waitFor({ timeout: 30_000 });
  await page.getByTestId('pixel-scale').fill('16');
  await page.getByTestId(`file-${model.signature.inputs[0].name}`).setInputFiles(join(ARTIFACTS, 'digit-7.png'));
  await page.getByRole('button', { name: 'Browser wallet…' }).click();
  await page.waitForFunction((key) => document.querySelector('[data-testid="signer"]').value === key, `test-wallet:${charlie.address}`);
  assert.match(await page.getByTestId('signer').locator('option:checked').innerText(), /Test wallet \(test-wallet\)/);
  await page.getByTestId('quote-total').waitFor();
  // A max fee below the quote: signed by the wallet, included, and refused by the chain by name.
  await page.getByTestId('max-fee').fill('0.01');
  await page.getByTestId('submit').click();
  const refusal = page.getByTestId('submit-error');
  await refusal.waitFor({ timeout: 60_000 });
  assert.match(await refusal.innerText(), /InferenceJobs::FeeAboveMax/);
  await page.close();
});

test('dev accounts are offered on a development chain only', { timeout: 60_000 }, async () => {
  const page = await newPage();
  // The same node, announcing itself as a live chain.
  await rewriteAnswers(page, (method, answer) => {
    if (method === 'system_chainType') answer.result = 'Live';
    if (method === 'system_chain') answer.result = 'Gateless';
  });
  await page.goto(at(`/models/${model.id}`));
  await page.getByTestId('try-it').waitFor({ timeout: 30_000 });
  assert.equal(await page.getByTestId('signer').locator('option').count(), 1);
  assert.match(await page.getByTestId('signer').innerText(), /no account yet/);
  await page.getByText('Dev accounts (//Alice … //Ferdie) are offered on a development chain only').waitFor();
  await page.close();
});

test('an input of the wrong shape shows the quote\'s error by name before anyone pays', { timeout: 60_000 }, async () => {
  const page = await newPage();
  await page.goto(at(`/models/${model.id}`));
  await page.getByTestId('try-it').waitFor({ timeout: 30_000 });
  await page.getByTestId(`file-${model.signature.inputs[0].name}`).setInputFiles(join(ARTIFACTS, 'wrong-shape.json'));
  const quoteError = page.getByTestId('quote-error');
  await quoteError.waitFor({ timeout: 20_000 });
  const message = await quoteError.innerText();
  assert.match(message, /9003/);
  assert.match(message, /badInputs/);
  assert.match(await page.getByTestId('input-error').innerText(), /the input has shape \[1, 63\], the model takes \[N, 64\]/);
  assert.equal(await page.getByTestId('submit').isDisabled(), true);
  log(`quote refused: ${message}`);
  await shot(page, 'quote-error');
  await page.close();
});

test('the validators page shows Alice with her bond and counters', { timeout: 60_000 }, async () => {
  const page = await newPage();
  await page.goto(at('/validators'));
  const table = page.getByTestId('validators');
  await table.waitFor({ timeout: 30_000 });
  const text = await table.innerText();
  assert.match(text, /Alice/);
  assert.match(text, /active/);
  assert.match(text, /GATE/);
  await shot(page, 'validators');
  await page.close();
});

test('the live feed shows new blocks and the job events', { timeout: 60_000 }, async () => {
  const page = await newPage();
  await page.goto(at('/feed'));
  await page.getByTestId('feed').locator('li.feed-block').first().waitFor({ timeout: 30_000 });
  // The feed reads back the recent blocks, which hold the job submitted above.
  await page.locator('[data-event="inferenceJobs.JobSubmitted"]').first().waitFor({ timeout: 30_000 });
  await page.locator('[data-event="inferenceJobs.JobFinalized"]').first().waitFor({ timeout: 30_000 });
  const first = Number(await page.locator('li.feed-block').first().getAttribute('data-block'));
  await page.waitForFunction((n) => Number(document.querySelector('li.feed-block')?.getAttribute('data-block')) > n, first, { timeout: 30_000 });
  assert.match(await page.locator('[data-event="system.ExtrinsicFailed"]').first().innerText(), /InferenceJobs::FeeAboveMax/);
  await shot(page, 'feed', false);
  // The catalogue again, with the jobs above in its recent-activity charts.
  await page.evaluate(() => { window.location.hash = '#/'; });
  await page.locator(`tr[data-model="${model.id}"]`).waitFor();
  await shot(page, 'catalogue-after-jobs');
  await page.close();
  assert.deepEqual(consoleErrors.filter((e) => /pageerror/.test(e)), []);
});
