import { useEffect, useState } from 'preact/hooks';

import { feed, onHead, rpc } from '../chain';
import { Sparkline, jobSeries } from '../components/Sparkline';
import { TryIt } from '../components/TryIt';
import { accountName, amount, bytes, count, rate, shortHash } from '../format';
import { useStore } from '../store';
import { shapeText } from '../tensor';
import type { Model, TensorSpec } from '../types';
import { Checks, StatusBadge } from './Catalogue';

function SpecTable({ title, specs }: { title: string; specs: TensorSpec[] }) {
  return (
    <table class="spec">
      <caption>{title}</caption>
      <thead><tr><th>name</th><th>dtype</th><th>shape</th></tr></thead>
      <tbody>
        {specs.map((spec) => (
          <tr><td><code>{spec.name}</code></td><td>{spec.dtype}</td><td><code>{shapeText(spec.shape)}</code></td></tr>
        ))}
      </tbody>
    </table>
  );
}

function Stat({ label, value, name }: { label: string; value: string; name: string }) {
  return <div class="stat-tile" data-stat={name}><div class="stat-value">{value}</div><div class="muted small">{label}</div></div>;
}

export function ModelPage({ id }: { id: number }) {
  const [model, setModel] = useState<Model | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const blocks = useStore(feed);

  useEffect(() => {
    let current = true;
    const load = () => rpc<Model | null>('gateless_model', [id])
      .then((m) => { if (current) { setModel(m); setError(null); } })
      .catch((e: Error) => current && setError(e.message));
    void load();
    const stop = onHead(() => void load());
    return () => { current = false; stop(); };
  }, [id]);

  if (error && model === undefined) return <p class="error">{error}</p>;
  if (model === undefined) return <p class="muted">Loading model {id}…</p>;
  if (model === null) return <p class="error">No model {id} is registered. <a href="#/">Back to the models</a></p>;

  const stats = model.stats ?? null;
  const symbols = model.signature.symbols ?? [];
  const series = jobSeries(blocks, model.id, 40);

  return (
    <section class="model-page" data-testid="model-page">
      <p class="small"><a href="#/">← Models</a></p>
      <div class="page-head">
        <h1>{model.name} <span class="version">{model.version}</span> <StatusBadge model={model} /></h1>
        <span class="muted">model #{model.id}</span>
      </div>
      <Checks model={model} />
      {model.description && <p class="description">{model.description}</p>}

      <div class="grid">
        <div class="card">
          <h2>Registry</h2>
          <dl>
            <dt>Owner</dt><dd title={model.owner}>{accountName(model.owner)}</dd>
            <dt>Price a job</dt><dd>{amount(model.price)}</dd>
            <dt>File</dt><dd>{bytes(model.size)}, blake2-256 <code title={model.hash}>{shortHash(model.hash)}</code></dd>
            <dt>Bytes</dt><dd>{model.location.kind === 'inline' ? 'on chain' : model.location.kind === 'peers' ? 'held by nodes' : `URIs: ${(model.location.uris ?? []).join(', ')}`}</dd>
            <dt>Registered</dt><dd>block #{model.registeredAt}; deposit {amount(model.deposit)}</dd>
            <dt>Determinism</dt>
            <dd>{model.determinism.kind === 'exact' ? 'exact: outputs bit for bit' : `tolerance: |a − b| ≤ ${model.determinism.abs} + ${model.determinism.rel} × |b|`}</dd>
            {model.compute && <><dt>Compute</dt><dd>{model.compute.fixed.toLocaleString('en-US')} + {model.compute.perElement} × input elements operations</dd></>}
          </dl>
        </div>
        <div class="card">
          <h2>Card</h2>
          {model.card ? (
            <dl>
              <dt>Task</dt><dd>{model.card.task || '—'}</dd>
              <dt>License</dt><dd>{model.card.license || '—'}</dd>
              <dt>Inputs</dt><dd>{model.card.inputs || '—'}</dd>
              <dt>Outputs</dt><dd>{model.card.outputs || '—'}</dd>
              <dt>Labels</dt><dd>{model.card.labels ? <code title={model.card.labels}>{shortHash(model.card.labels)}</code> : '—'}</dd>
            </dl>
          ) : <p class="muted">The builder gave no model card.</p>}
        </div>
      </div>

      <div class="card">
        <h2>Signature</h2>
        <div class="grid">
          <SpecTable title="Inputs" specs={model.signature.inputs} />
          <SpecTable title="Outputs" specs={model.signature.outputs} />
        </div>
        {symbols.length > 0 && (
          <p class="small">Symbols: {symbols.map((s) => <span class="symbol"><code>{s.name}</code> (attested at {s.example}) </span>)}
            — the same size in every input that names it; outputs that name it follow it.</p>
        )}
      </div>

      <div class="card" data-testid="model-stats">
        <h2>Statistics</h2>
        <div class="stats">
          <Stat name="submitted" label="jobs submitted" value={count(stats?.submitted)} />
          <Stat name="finalized" label="finalized" value={count(stats?.finalized)} />
          <Stat name="agreedErrors" label="agreed errors" value={count(stats?.agreedErrors)} />
          <Stat name="failed" label="failed" value={count(stats?.failed)} />
          <Stat name="expired" label="expired" value={count(stats?.expired)} />
          <Stat name="cancelled" label="cancelled" value={count(stats?.cancelled)} />
          <Stat name="agreementRate" label={`agreement (${stats ? `${count(stats.agreeing)} of ${count(stats.seats)} seats` : 'seats'})`} value={rate(stats?.agreementRate)} />
          <Stat name="revenue" label="owner's revenue" value={stats ? amount(stats.revenue) : '—'} />
          <Stat name="lastUsed" label="last used" value={stats?.lastUsed != null ? `#${stats.lastUsed}` : '—'} />
        </div>
        {!stats && <p class="muted small">This node does not report statistics for models yet.</p>}
        <div class="activity">
          <Sparkline series={series} width={300} height={40} />
          <span class="muted small">
            {series ? `${series.total} job${series.total === 1 ? '' : 's'} submitted in blocks #${series.from}–#${series.to}, the recent blocks this page's live feed has seen` : 'waiting for blocks'}
          </span>
        </div>
      </div>

      <TryIt model={model} />
    </section>
  );
}
