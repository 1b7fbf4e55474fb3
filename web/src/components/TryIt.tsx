// Try a model: a file for each declared input, the quote at their shapes (before anyone pays), a
// signer (a dev account on a dev chain, or a browser wallet), the submission, then the job live.

import { useEffect, useRef, useState } from 'preact/hooks';
import { blake2AsHex } from '@polkadot/util-crypto';

import { ChainRefusal, DEV_ACCOUNTS, connection, devAccount, extensionAccounts, freeBalance, rpc, submitJob, type Account } from '../chain';
import { amount, bytes as byteSize, parseAmount, plainAmount, shortAccount } from '../format';
import { useStore } from '../store';
import { bytesToHex, checkAgainst, checkSymbols, decodeImage, decodeValues, elementWidth, fromJson, fromNpy, fromPixels, imageGrid, shapeText, type Tensor } from '../tensor';
import type { Model, Quote, TensorSpec, Validator } from '../types';
import { JobView } from './JobView';

interface Picked {
  file: string;
  kind: 'png' | 'npy' | 'json';
  tensor: Tensor | null;
  error: string | null;
  pixels?: { rgba: Uint8ClampedArray; width: number; height: number };
  levels?: { values: number[]; rows: number; columns: number };
}

function Levels({ levels }: { levels: { values: number[]; rows: number; columns: number } }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const element = canvas.current;
    const context = element?.getContext('2d');
    if (!element || !context) return;
    element.width = levels.columns;
    element.height = levels.rows;
    const image = context.createImageData(levels.columns, levels.rows);
    levels.values.forEach((level, i) => {
      const v = Math.round(Math.max(0, Math.min(1, level)) * 255);
      image.data.set([v, v, v, 255], i * 4);
    });
    context.putImageData(image, 0, 0);
  }, [levels]);
  return <canvas ref={canvas} class="pixelated preview" title={`what the model gets: ${levels.columns}x${levels.rows} grey levels`} />;
}

/** Options of the signer list: the same address may be a dev account and a wallet's. */
function accountKey(account: Account): string {
  return account.kind === 'dev' ? `dev:${account.address}` : `${account.source}:${account.address}`;
}

function valuesPreview(tensor: Tensor): string {
  const values = decodeValues(tensor.dtype, tensor.data.subarray(0, 256 * elementWidth(tensor.dtype)));
  const text = values.map((v) => (Number.isInteger(v) ? String(v) : v.toPrecision(5))).join(', ');
  const total = tensor.shape.reduce((a, b) => a * b, 1);
  return total > values.length ? `${text}, … (${total} values)` : text;
}

function pngTensor(picked: Picked, spec: TensorSpec, scale: number, invert: boolean): Picked {
  if (!picked.pixels) return picked;
  try {
    const { rgba, width, height } = picked.pixels;
    const tensor = fromPixels(rgba, width, height, spec, { scale, invert });
    return { ...picked, tensor, error: null, levels: { values: tensor.levels, rows: tensor.rows, columns: tensor.columns } };
  } catch (e) {
    return { ...picked, tensor: null, error: (e as Error).message, levels: undefined };
  }
}

async function readPicked(file: File, spec: TensorSpec, scale: number, invert: boolean): Promise<Picked> {
  const name = file.name.toLowerCase();
  const kind = name.endsWith('.png') || file.type === 'image/png' ? 'png' : name.endsWith('.npy') ? 'npy' : 'json';
  try {
    if (kind === 'png') {
      const pixels = await decodeImage(file);
      return pngTensor({ file: file.name, kind, tensor: null, error: null, pixels }, spec, scale, invert);
    }
    if (kind === 'npy') return { file: file.name, kind, tensor: fromNpy(new Uint8Array(await file.arrayBuffer())), error: null };
    return { file: file.name, kind, tensor: fromJson(await file.text(), spec), error: null };
  } catch (e) {
    return { file: file.name, kind, tensor: null, error: `${file.name}: ${(e as Error).message}` };
  }
}

export function TryIt({ model }: { model: Model }) {
  const specs = model.signature.inputs;
  const { isDev } = useStore(connection);
  const [picked, setPicked] = useState<(Picked | null)[]>(() => specs.map(() => null));
  const [scale, setScale] = useState(1);
  const [invert, setInvert] = useState(false);
  const [replicas, setReplicas] = useState<number | null>(null);
  const [quote, setQuote] = useState<Quote | null>(null);
  const [quoteError, setQuoteError] = useState<string | null>(null);
  const [maxFee, setMaxFee] = useState('');
  const [maxFeeEdited, setMaxFeeEdited] = useState(false);
  const [accounts, setAccounts] = useState<Account[]>([]);
  const [selected, setSelected] = useState<string>('');
  const [balance, setBalance] = useState<bigint | null>(null);
  const [walletError, setWalletError] = useState<string | null>(null);
  const [progress, setProgress] = useState<string | null>(null);
  const [submitError, setSubmitError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const [jobs, setJobs] = useState<number[]>([]);
  const [uploads, setUploads] = useState<string[]>([]);
  const [labels, setLabels] = useState<string[] | null>(null);
  const [labelsError, setLabelsError] = useState<string | null>(null);

  // Replicas: up to 3, no more than the active validators.
  useEffect(() => {
    rpc<Validator[]>('gateless_validators')
      .then((validators) => setReplicas((r) => r ?? Math.max(1, Math.min(3, validators.filter((v) => v.active).length))))
      .catch(() => setReplicas((r) => r ?? 1));
  }, []);

  useEffect(() => {
    if (isDev) {
      const dev = DEV_ACCOUNTS.map((name) => devAccount(name));
      setAccounts((list) => [...dev, ...list.filter((a) => a.kind !== 'dev')]);
      setSelected((s) => s || accountKey(dev[0]));
    }
  }, [isDev]);

  const account = accounts.find((a) => accountKey(a) === selected) ?? null;
  useEffect(() => {
    setBalance(null);
    if (account) freeBalance(account.address).then(setBalance).catch(() => setBalance(null));
  }, [selected, jobs.length]);

  // PNGs follow the image options.
  useEffect(() => {
    setPicked((list) => list.map((p, i) => (p?.kind === 'png' ? pngTensor(p, specs[i], scale, invert) : p)));
  }, [scale, invert]);

  const tensors = picked.map((p) => p?.tensor ?? null);
  const ready = tensors.every((t): t is Tensor => t !== null);
  const problems = picked.map((p, i) => p?.error ?? (p?.tensor ? checkAgainst(p.tensor, specs[i]) : null));
  const symbolProblem = ready ? checkSymbols(tensors as Tensor[], specs) : null;
  const shapes = ready ? (tensors as Tensor[]).map((t) => t.shape) : null;
  const shapesKey = JSON.stringify(shapes);

  // The quote at the inputs' shapes (at the model's example shapes until every input is given).
  useEffect(() => {
    if (replicas === null) return;
    let current = true;
    setQuoteError(null);
    rpc<Quote>('gateless_quote', [model.id, replicas, shapes])
      .then((q) => {
        if (!current) return;
        setQuote(q);
        if (!maxFeeEdited) setMaxFee(plainAmount(q.total));
      })
      .catch((e: Error) => {
        if (!current) return;
        setQuote(null);
        setQuoteError(e.message);
      });
    return () => { current = false; };
  }, [model.id, replicas, shapesKey]);

  const onFile = async (index: number, file: File | undefined) => {
    if (!file) return;
    const read = await readPicked(file, specs[index], scale, invert);
    setPicked((list) => list.map((p, i) => (i === index ? read : p)));
  };

  const connectWallet = async () => {
    setWalletError(null);
    try {
      const found = await extensionAccounts();
      setAccounts((list) => [...list.filter((a) => a.kind === 'dev'), ...found]);
      setSelected(accountKey(found[0]));
    } catch (e) {
      setWalletError((e as Error).message);
    }
  };

  const onLabels = async (file: File | undefined) => {
    if (!file || !model.card?.labels) return;
    const data = new Uint8Array(await file.arrayBuffer());
    if (blake2AsHex(data, 256) !== model.card.labels.toLowerCase()) {
      setLabels(null);
      setLabelsError(`${file.name} is not the labels file the model card names (its blake2-256 differs)`);
      return;
    }
    setLabelsError(null);
    setLabels(new TextDecoder().decode(data).split(/\r?\n/).filter((line, i, all) => line !== '' || i < all.length - 1));
  };

  const fee = parseAmount(maxFee);
  const blocked = !account ? 'choose who signs'
    : !ready ? 'give every input'
    : problems.some(Boolean) || symbolProblem ? 'fix the inputs'
    : quoteError ? 'the quote was refused'
    : fee === null ? 'the max fee is not a number'
    : null;

  const submit = async () => {
    if (blocked || !account || fee === null) return;
    setSubmitting(true);
    setSubmitError(null);
    setUploads([]);
    setProgress('preparing');
    try {
      const { job, uploaded } = await submitJob({ model: model.id, tensors: tensors as Tensor[], replicas, maxFee: fee, account, progress: setProgress });
      setUploads(uploaded.map((u) => `input \`${specs[u.index].name}\`: ${byteSize(u.len)} uploaded to the node and named by content ${u.hash.slice(0, 10)}…${u.hash.slice(-6)} (above the chain's inline threshold)`));
      setJobs((list) => [job, ...list]);
      setProgress(null);
    } catch (e) {
      setProgress(null);
      setSubmitError(e instanceof ChainRefusal ? e.message : (e as Error).message);
    } finally {
      setSubmitting(false);
    }
  };

  const takesImages = specs.some((spec) => { try { imageGrid(spec); return true; } catch { return false; } });
  const active = model.status === 'active';

  return (
    <section class="try card" data-testid="try-it">
      <h2>Try it</h2>
      {!active && <p class="warning">The model is {model.status}: the chain runs jobs on active models only, so the quote refuses it.</p>}
      <div class="inputs">
        {specs.map((spec, index) => {
          const p = picked[index];
          return (
            <div class="input-pick" data-input={spec.name}>
              <label>
                <span class="input-name">{spec.name}</span> <span class="muted small">{spec.dtype} {shapeText(spec.shape)}</span>
                <input type="file" accept=".png,.npy,.json,image/png,application/json" data-testid={`file-${spec.name}`}
                  onChange={(e) => void onFile(index, (e.target as HTMLInputElement).files?.[0])} />
              </label>
              {p?.tensor && <div class="small">{p.file}: {p.tensor.dtype} [{p.tensor.shape.join(', ')}], {byteSize(p.tensor.data.length)}</div>}
              {p?.levels && <Levels levels={p.levels} />}
              {p?.tensor && (
                <details class="small values" data-testid={`values-${spec.name}`} data-hex={p.tensor.data.length <= 65536 ? bytesToHex(p.tensor.data) : ''}>
                  <summary>values</summary>
                  <code>{valuesPreview(p.tensor)}</code>
                </details>
              )}
              {problems[index] && <p class="error" data-testid="input-error">{problems[index]}</p>}
            </div>
          );
        })}
      </div>
      <p class="muted small">
        A PNG is read in grey levels and averaged down to the input's per-sample size (a batch of one), as
        {' '}<code>gateless job submit --input x.png</code> does; a <code>.npy</code> or a JSON <code>{'{dtype, shape, values}'}</code> is sent as it is.
      </p>
      {takesImages && (
        <div class="image-options">
          <label>Pixel scale <input type="number" step="any" value={scale} data-testid="pixel-scale" onInput={(e) => setScale(Number((e.target as HTMLInputElement).value) || 0)} /></label>
          <label><input type="checkbox" checked={invert} data-testid="invert" onChange={(e) => setInvert((e.target as HTMLInputElement).checked)} /> dark ink on light paper (invert)</label>
          <span class="muted small">images are 0..1 times the scale (16 for the 8x8 digits model)</span>
        </div>
      )}
      {symbolProblem && <p class="error">{symbolProblem}</p>}

      <div class="quote-row">
        <label>Replicas <input type="number" min={1} max={5} value={replicas ?? ''} data-testid="replicas"
          onInput={(e) => setReplicas(Math.max(1, Number((e.target as HTMLInputElement).value) || 1))} /></label>
        <div class="quote" data-testid="quote">
          {quote && !quoteError && (
            <span>
              {ready ? 'Quote' : 'Quote at the example shapes'}: <strong data-testid="quote-total">{amount(quote.total)}</strong>
              <span class="muted small"> = price {amount(quote.modelPrice)} + {quote.replicas} × executor fee {amount(quote.executorFee)} + data fee {amount(quote.dataFee)} (burnt){quote.operations != null ? `; ${quote.operations.toLocaleString('en-US')} operations` : ''}</span>
            </span>
          )}
          {quoteError && <p class="error" data-testid="quote-error">{quoteError}</p>}
        </div>
      </div>

      <div class="sign-row">
        <label>Max fee <input type="text" value={maxFee} data-testid="max-fee" inputMode="decimal"
          onInput={(e) => { setMaxFee((e.target as HTMLInputElement).value); setMaxFeeEdited(true); }} /> {'GATE'}</label>
        {fee !== null && quote && fee < BigInt(quote.total) && <span class="warning small">below the quote: the chain will refuse it</span>}
      </div>
      <div class="sign-row">
        <label>Sign as{' '}
          <select value={selected} data-testid="signer" onChange={(e) => setSelected((e.target as HTMLSelectElement).value)}>
            {accounts.length === 0 && <option value="">no account yet</option>}
            {accounts.map((a) => <option value={accountKey(a)}>{a.name} — {shortAccount(a.address)}</option>)}
          </select>
        </label>
        <button class="secondary" onClick={() => void connectWallet()}>Browser wallet…</button>
        {balance !== null && <span class="muted small">free balance {amount(balance)}</span>}
      </div>
      {!isDev && <p class="muted small">Dev accounts (//Alice … //Ferdie) are offered on a development chain only; use a wallet extension here.</p>}
      {walletError && <p class="error">{walletError}</p>}
      <div class="submit-row">
        <button class="primary" data-testid="submit" disabled={Boolean(blocked) || submitting} onClick={() => void submit()}>
          {submitting ? 'Submitting…' : 'Pay and run'}
        </button>
        {blocked && !submitting && <span class="muted small">{blocked}</span>}
        {progress && <span class="small">{progress}…</span>}
      </div>
      {submitError && <p class="error" data-testid="submit-error">{submitError}</p>}
      {uploads.length > 0 && <ul class="small uploads" data-testid="uploads">{uploads.map((u) => <li>{u}</li>)}</ul>}

      {model.card?.labels && (
        <div class="small labels-pick">
          <label>Labels file (the card names its hash {model.card.labels.slice(0, 10)}…){' '}
            <input type="file" accept=".txt,text/plain" onChange={(e) => void onLabels((e.target as HTMLInputElement).files?.[0])} />
          </label>
          {labels && <span class="muted"> {labels.length} labels</span>}
          {labelsError && <p class="error">{labelsError}</p>}
        </div>
      )}

      {jobs.map((job) => <JobView key={job} id={job} labels={labels} />)}
    </section>
  );
}
