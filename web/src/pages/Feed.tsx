import { useState } from 'preact/hooks';

import { feed, type FeedEvent } from '../chain';
import { accountName, amount, shortHash } from '../format';
import { useStore } from '../store';

const JOB_EVENTS = new Set(['JobSubmitted', 'ExecutorsAssigned', 'JobFinalized', 'JobFailed', 'JobExpired', 'JobCancelled', 'JobRefused']);

function names(accounts: unknown): string {
  return Array.isArray(accounts) && accounts.length ? accounts.map((a) => accountName(String(a))).join(', ') : 'none';
}

function money(value: unknown): string {
  return value === undefined || value === null ? '—' : amount(String(value));
}

const AMOUNTS = new Set(['deposit', 'amount', 'refunded', 'paidEach', 'ownerPaid', 'price', 'bond', 'fee', 'reward', 'slashed', 'burnt', 'returned']);
const ACCOUNT = /^5[1-9A-HJ-NP-Za-km-z]{46,47}$/;

function detail(data: Record<string, unknown>): string {
  return Object.entries(data)
    .map(([key, value]) => {
      if (AMOUNTS.has(key) && (typeof value === 'number' || typeof value === 'string')) return `${key} ${money(value)}`;
      if (typeof value === 'string' && ACCOUNT.test(value)) return `${key} ${accountName(value)}`;
      if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string' && ACCOUNT.test(v))) return `${key} ${names(value)}`;
      if (typeof value === 'string' && value.startsWith('0x') && value.length > 20) return `${key} ${shortHash(value)}`;
      const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
      return `${key} ${text.length > 80 ? `${text.slice(0, 80)}…` : text}`;
    })
    .join(', ');
}

/** One event in words. */
export function describeEvent(event: FeedEvent): string {
  const d = event.data;
  if (event.section === 'inferenceJobs') {
    const fee = d.fee as { total?: unknown } | undefined;
    switch (event.method) {
      case 'JobSubmitted': return `job ${d.job} submitted by ${accountName(String(d.submitter))} for model ${d.model}, fee ${money(fee?.total)}`;
      case 'ExecutorsAssigned': return `job ${d.job} assigned (round ${d.round}) to ${names(d.executors)}`;
      case 'JobFinalized': return `job ${d.job} finalized: ${d.agreeing} agreeing, each paid ${money(d.paidEach)}, owner ${money(d.ownerPaid)}, refunded ${money(d.refunded)}`;
      case 'JobFailed': return `job ${d.job} failed (${JSON.stringify(d.reason)}), refunded ${money(d.refunded)}`;
      case 'JobExpired': return `job ${d.job} expired, refunded ${money(d.refunded)}`;
      case 'JobCancelled': return `job ${d.job} cancelled, each executor paid ${money(d.paidEach)}, refunded ${money(d.refunded)}`;
    }
  }
  if (event.section === 'verification') {
    switch (event.method) {
      case 'RoundDecided': return `job ${d.job} round ${d.round} decided: agreeing ${names(d.agreeing)}; dissenting ${names(d.dissenters)}`;
      case 'ExecutorSlashed': return `job ${d.job}: ${accountName(String(d.executor))} slashed ${money(d.amount)} (${JSON.stringify(d.reason)})`;
    }
  }
  if (event.section === 'system' && event.method === 'ExtrinsicFailed') return `an extrinsic failed: ${String(d.error)}`;
  return detail(d);
}

export function Feed() {
  const blocks = useStore(feed);
  const [jobsOnly, setJobsOnly] = useState(false);
  const shown = blocks
    .map((block) => ({
      ...block,
      events: jobsOnly ? block.events.filter((e) => e.section === 'inferenceJobs' && JOB_EVENTS.has(e.method)) : block.events,
    }))
    .filter((block) => !jobsOnly || block.events.length > 0)
    .slice(0, 80);
  return (
    <section>
      <div class="page-head">
        <h1>Live feed</h1>
        <label class="small"><input type="checkbox" checked={jobsOnly} onChange={(e) => setJobsOnly((e.target as HTMLInputElement).checked)} /> job events only</label>
      </div>
      <p class="muted small">New blocks as this node imports them, with the events of the model registry, the jobs, verification and staking, and failed extrinsics.</p>
      {shown.length === 0 && <p class="muted">Waiting for blocks…</p>}
      <ol class="feed" data-testid="feed">
        {shown.map((block) => (
          <li class="feed-block" data-block={block.number}>
            <div class="feed-head">
              <strong>#{block.number}</strong> <code class="muted small">{shortHash(block.hash)}</code>
              <span class="muted small"> {block.extrinsics} extrinsic{block.extrinsics === 1 ? '' : 's'}{block.seen ? ` · ${new Date(block.seen).toLocaleTimeString()}` : ' · read back'}</span>
            </div>
            {block.events.length > 0 && (
              <ul class="feed-events">
                {block.events.map((event) => (
                  <li class={`event event-${event.section}`} data-event={`${event.section}.${event.method}`}>
                    <span class="event-name">{event.section}.{event.method}</span> <span>{describeEvent(event)}</span>
                  </li>
                ))}
              </ul>
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}
