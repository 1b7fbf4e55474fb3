import { useEffect, useMemo, useState } from 'preact/hooks';

import { allModels, feed, onHead } from '../chain';
import { Sparkline, jobSeries } from '../components/Sparkline';
import { accountName, amount, count, rate } from '../format';
import { useStore } from '../store';
import type { Model } from '../types';

type SortKey = 'id' | 'name' | 'price' | 'status' | 'submitted' | 'agreement' | 'revenue' | 'lastUsed' | 'recent';

const SORTS: { key: SortKey; label: string }[] = [
  { key: 'id', label: 'Newest' },
  { key: 'name', label: 'Name' },
  { key: 'price', label: 'Price' },
  { key: 'status', label: 'Status' },
  { key: 'submitted', label: 'Jobs' },
  { key: 'agreement', label: 'Agreement' },
  { key: 'revenue', label: 'Revenue' },
  { key: 'lastUsed', label: 'Last used' },
  { key: 'recent', label: 'Recent activity' },
];

const STATUS_ORDER = ['active', 'pending', 'deprecated', 'rejected', 'banned'];

export function StatusBadge({ model }: { model: Model }) {
  return <span class={`badge status-${model.status}`}>{model.status}</span>;
}

/** Attestations while pending, reference checks, or why it was rejected. */
export function Checks({ model }: { model: Model }) {
  const parts: string[] = [];
  if (model.status === 'pending' && model.attestations) {
    const { loads, fails, threshold } = model.attestations;
    parts.push(`attested ${loads} loads, ${fails} fails of ${threshold} needed`);
  }
  if (model.references && model.references.count > 0) {
    parts.push(`${model.references.count} reference vector${model.references.count === 1 ? '' : 's'}, checked by ${model.references.checkedBy}`);
  }
  if (model.rejection) parts.push(`rejected: ${model.rejection}`);
  return parts.length ? <span class="checks">{parts.join(' · ')}</span> : null;
}

function sortValue(model: Model, key: SortKey, recent: Map<number, number>): number | string {
  const stats = model.stats;
  switch (key) {
    case 'id': return -model.id;
    case 'name': return `${model.name.toLowerCase()} ${model.version}`;
    case 'price': return Number(BigInt(model.price) / 1000000n);
    case 'status': return STATUS_ORDER.indexOf(model.status);
    case 'submitted': return -(stats?.submitted ?? -1);
    case 'agreement': return -(stats?.agreementRate ?? -1);
    case 'revenue': return -Number(BigInt(stats?.revenue ?? '0') / 1000000n);
    case 'lastUsed': return -(stats?.lastUsed ?? -1);
    case 'recent': return -(recent.get(model.id) ?? 0);
  }
}

export function Catalogue() {
  const [models, setModels] = useState<Model[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [query, setQuery] = useState('');
  const [sort, setSort] = useState<SortKey>('id');
  const blocks = useStore(feed);

  useEffect(() => {
    let busy = false;
    const load = async () => {
      if (busy) return;
      busy = true;
      try {
        setModels(await allModels());
        setError(null);
      } catch (e) {
        setError((e as Error).message);
      } finally {
        busy = false;
      }
    };
    void load();
    return onHead(() => void load());
  }, []);

  const recent = useMemo(() => {
    const map = new Map<number, number>();
    for (const block of blocks) {
      for (const event of block.events) {
        if (event.section === 'inferenceJobs' && event.method === 'JobSubmitted') {
          const model = Number(event.data.model);
          map.set(model, (map.get(model) ?? 0) + 1);
        }
      }
    }
    return map;
  }, [blocks]);

  const shown = useMemo(() => {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    const list = (models ?? []).filter((model) => {
      const text = [model.name, model.version, model.description, model.owner, accountName(model.owner), model.status,
        model.card?.task ?? '', model.card?.license ?? '', String(model.id)].join(' ').toLowerCase();
      return words.every((word) => text.includes(word));
    });
    return list.sort((a, b) => {
      const x = sortValue(a, sort, recent);
      const y = sortValue(b, sort, recent);
      return x < y ? -1 : x > y ? 1 : a.id - b.id;
    });
  }, [models, query, sort, recent]);

  const overall = jobSeries(blocks, null, 60);

  return (
    <section>
      <div class="page-head">
        <h1>Models</h1>
        <div class="overall" data-testid="overall-activity">
          <Sparkline series={overall} width={220} height={36} />
          <span class="muted small">
            {overall ? `${overall.total} job${overall.total === 1 ? '' : 's'} in blocks #${overall.from}–#${overall.to}` : 'waiting for blocks'}
          </span>
        </div>
      </div>
      <div class="toolbar">
        <input type="search" placeholder="Search name, task, owner, status…" value={query} aria-label="Search models"
          onInput={(e) => setQuery((e.target as HTMLInputElement).value)} />
        <label class="sort">Sort by{' '}
          <select value={sort} aria-label="Sort models" onChange={(e) => setSort((e.target as HTMLSelectElement).value as SortKey)}>
            {SORTS.map((s) => <option value={s.key}>{s.label}</option>)}
          </select>
        </label>
      </div>
      {error && <p class="error">{error}</p>}
      {models === null && !error && <p class="muted">Loading the registry…</p>}
      {models !== null && shown.length === 0 && <p class="muted">{models.length === 0 ? 'No model is registered yet.' : 'No model matches.'}</p>}
      {shown.length > 0 && (
        <div class="table-scroll">
        <table class="models responsive" data-testid="models">
          <thead>
            <tr>
              <th onClick={() => setSort('name')}>Model</th>
              <th>Card</th>
              <th>Owner</th>
              <th onClick={() => setSort('price')}>Price</th>
              <th onClick={() => setSort('status')}>Status</th>
              <th onClick={() => setSort('submitted')} title="submitted / finalized / failed or expired">Jobs</th>
              <th onClick={() => setSort('agreement')}>Agreement</th>
              <th onClick={() => setSort('revenue')}>Revenue</th>
              <th onClick={() => setSort('lastUsed')}>Last used</th>
              <th onClick={() => setSort('recent')}>Recent jobs</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((model) => {
              const stats = model.stats ?? null;
              return (
                <tr key={model.id} data-model={model.id} class="clickable" onClick={() => { window.location.hash = `#/models/${model.id}`; }}>
                  <td data-label="Model">
                    <a href={`#/models/${model.id}`} class="model-name">{model.name}</a> <span class="version">{model.version}</span>
                    <span class="muted small"> #{model.id}</span>
                    {model.description && <div class="muted small clip">{model.description}</div>}
                  </td>
                  <td data-label="Card">{model.card ? `${model.card.task || '—'} · ${model.card.license || '—'}` : <span class="muted">—</span>}</td>
                  <td data-label="Owner" title={model.owner}>{accountName(model.owner)}</td>
                  <td data-label="Price" class="num">{amount(model.price)}</td>
                  <td data-label="Status"><StatusBadge model={model} /> <Checks model={model} /></td>
                  <td data-label="Jobs" class="num stat" data-stat="jobs">
                    {stats ? `${count(stats.submitted)} / ${count(stats.finalized)} / ${count(stats.failed + stats.expired)}` : '—'}
                  </td>
                  <td data-label="Agreement" class="num stat" data-stat="agreement">{rate(stats?.agreementRate)}</td>
                  <td data-label="Revenue" class="num stat" data-stat="revenue">{stats ? amount(stats.revenue) : '—'}</td>
                  <td data-label="Last used" class="num stat" data-stat="lastUsed">{stats?.lastUsed != null ? `#${stats.lastUsed}` : '—'}</td>
                  <td data-label="Recent jobs"><Sparkline series={jobSeries(blocks, model.id)} width={100} /></td>
                </tr>
              );
            })}
          </tbody>
        </table>
        </div>
      )}
      <p class="muted small note">
        Jobs: submitted / finalized / failed or expired, from the node's statistics. Recent jobs: the
        InferenceJobs.JobSubmitted events of the recent blocks this page's live feed has seen
        {overall ? ` (#${overall.from}–#${overall.to})` : ''}, not the whole history.
      </p>
    </section>
  );
}
