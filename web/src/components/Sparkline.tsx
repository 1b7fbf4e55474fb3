// Jobs over time as a small SVG line, from the InferenceJobs.JobSubmitted events of the blocks the
// live feed has seen (this page's own view of the chain: it starts when the page connects, with
// the blocks it could read back from then).

import type { FeedBlock } from '../chain';

export interface Series {
  /** Jobs submitted per bucket of blocks, oldest first. */
  counts: number[];
  from: number;
  to: number;
  blocksPerBucket: number;
  total: number;
}

export function jobSeries(blocks: FeedBlock[], model: number | null, buckets = 30): Series | null {
  if (blocks.length === 0) return null;
  const numbers = blocks.map((b) => b.number);
  const from = Math.min(...numbers);
  const to = Math.max(...numbers);
  const span = to - from + 1;
  const blocksPerBucket = Math.max(1, Math.ceil(span / buckets));
  const counts = new Array<number>(Math.ceil(span / blocksPerBucket)).fill(0);
  let total = 0;
  for (const block of blocks) {
    for (const event of block.events) {
      if (event.section !== 'inferenceJobs' || event.method !== 'JobSubmitted') continue;
      if (model !== null && Number(event.data.model) !== model) continue;
      counts[Math.floor((block.number - from) / blocksPerBucket)] += 1;
      total += 1;
    }
  }
  return { counts, from, to, blocksPerBucket, total };
}

export function Sparkline({ series, width = 120, height = 28, label }: { series: Series | null; width?: number; height?: number; label?: string }) {
  if (!series) return <span class="muted">—</span>;
  const { counts } = series;
  const max = Math.max(1, ...counts);
  const step = counts.length > 1 ? width / (counts.length - 1) : width;
  const points = counts.map((c, i) => [i * step, height - 2 - (c / max) * (height - 4)]);
  const line = points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ');
  const area = `0,${height} ${line} ${((counts.length - 1) * step).toFixed(1)},${height}`;
  const title = `${series.total} job${series.total === 1 ? '' : 's'} submitted in blocks #${series.from}–#${series.to}`
    + ` (${series.blocksPerBucket} block${series.blocksPerBucket === 1 ? '' : 's'} a point; the blocks this page has seen)`;
  return (
    <svg class="sparkline" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label ?? title}>
      <title>{title}</title>
      <polygon points={area} class="sparkline-area" />
      <polyline points={line} class="sparkline-line" />
    </svg>
  );
}
