// A job followed live: its committee, commits, reveals and abstentions, then the verdict (who
// agreed and was paid, who was slashed) and the verified outputs.

import { useEffect, useMemo, useState } from 'preact/hooks';

import { connection, feed, followJob, onHead, readOutputs, rpc, type ReadOutput } from '../chain';
import { accountName, amount, shortHash } from '../format';
import { useStore } from '../store';
import { FINAL_STATUSES, type Job, type JobResult } from '../types';
import { OutputView } from './OutputView';

export function JobView({ id, labels }: { id: number; labels?: string[] | null }) {
  const [job, setJob] = useState<Job | null>(null);
  const [result, setResult] = useState<JobResult | null>(null);
  const [outputs, setOutputs] = useState<ReadOutput[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const { best } = useStore(connection);
  const blocks = useStore(feed);

  useEffect(() => {
    setJob(null);
    setResult(null);
    setOutputs(null);
    rpc<Job | null>('gateless_job', [id]).then((j) => j && setJob(j)).catch(() => {});
    return followJob(id, setJob);
  }, [id]);

  // Once it is final, its verified result (null for a moment after the status changed).
  const final = job !== null && FINAL_STATUSES.includes(job.status);
  useEffect(() => {
    if (!final || result) return;
    let done = false;
    const fetchResult = async () => {
      if (done) return;
      try {
        const r = await rpc<JobResult | null>('gateless_result', [id]);
        if (r && !done) {
          done = true;
          setResult(r);
          if (r.output.kind !== 'error') setOutputs(await readOutputs(r));
        }
      } catch (e) {
        setError((e as Error).message);
      }
    };
    void fetchResult();
    const stop = onHead(() => void fetchResult());
    return () => { done = true; stop(); };
  }, [final, id]);

  // The verification pallet's events about this job, from the blocks the live feed saw.
  const events = useMemo(() => blocks.flatMap((b) => b.events).filter((e) => e.data.job !== undefined && Number(e.data.job) === id), [blocks, id]);
  const slashed = events.filter((e) => e.method === 'ExecutorSlashed');
  const decided = events.find((e) => e.method === 'RoundDecided');

  if (!job) return <div class="job card" data-testid="job"><p class="muted">Job {id}: waiting for the node…</p></div>;

  const round = job.round;
  const executors = round?.committee ?? job.executors;
  const agreeing = new Set(result?.agreeing ?? (decided?.data.agreeing as string[] | undefined) ?? []);
  const dissenters = new Set((decided?.data.dissenters as string[] | undefined) ?? []);
  const verdictOf = (executor: string): string => {
    const cut = slashed.find((e) => e.data.executor === executor);
    if (cut) return `slashed ${amount(String(cut.data.amount))} (${String(cut.data.reason)})`;
    if (agreeing.has(executor)) return result ? `agreed, paid ${amount(result.paidEach)}` : 'agreed';
    if (dissenters.has(executor)) return 'dissented';
    const abstained = round?.abstained?.find((a) => a.executor === executor);
    if (abstained) return `abstained: ${abstained.cause}`;
    if (result && job.status === 'finalized') return 'not in the quorum';
    return '';
  };
  const phase = (): string => {
    if (final) return job.status;
    if (job.status === 'assigning') return 'drawing the committee (end of the next block)';
    if (round) {
      if (best <= round.commitUntil && round.committed.length < round.committee.length) return `executors running the model and committing (until block #${round.commitUntil})`;
      return `revealing (until block #${round.revealUntil})`;
    }
    return job.status;
  };

  return (
    <div class="job card" data-testid="job" data-status={job.status}>
      <h3>
        Job {job.id} <span class={`badge job-${job.status}`} data-testid="job-status">{job.status}</span>
      </h3>
      <p class="muted small">
        submitted by {accountName(job.submitter)} in block #{job.submittedAt}; expires at #{job.expiresAt};
        fee {amount(job.fee.total)}{round ? `; round ${round.round}` : ''} — {phase()}
      </p>
      {executors.length > 0 && (
        <table class="executors responsive">
          <thead><tr><th>Executor</th><th>Committed</th><th>Revealed</th><th>Verdict</th></tr></thead>
          <tbody>
            {executors.map((executor) => {
              const revealed = round?.revealed.find((r) => r.executor === executor);
              return (
                <tr>
                  <td data-label="Executor" title={executor}>{accountName(executor)}</td>
                  <td data-label="Committed">{round?.committed.includes(executor) || revealed || agreeing.has(executor) ? '✓' : final ? '—' : '…'}</td>
                  <td data-label="Revealed">{revealed ? shortHash(revealed.digest) : agreeing.has(executor) ? '✓' : final ? '—' : '…'}</td>
                  <td data-label="Verdict">{verdictOf(executor)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {job.status === 'failed' && <p class="error">The job failed: {job.failure ?? 'unknown reason'}; its escrow was refunded.</p>}
      {job.status === 'expired' && <p class="error">The job expired before a quorum agreed; its escrow was refunded.</p>}
      {job.status === 'cancelled' && <p class="muted">The job was cancelled.</p>}
      {result && (
        <div class="verdict" data-testid="verdict">
          <p>
            <strong>{result.output.kind === 'error' ? 'Verified error' : 'Verified'}</strong> in block #{result.finalizedAt}:{' '}
            {result.agreeing.length} executor{result.agreeing.length === 1 ? '' : 's'} agreed on digest <code>{shortHash(result.digest)}</code>;
            each paid {amount(result.paidEach)}, the owner {amount(result.ownerPaid)}, {amount(result.refunded)} refunded
            {slashed.length > 0 ? `; ${slashed.length} slashed` : '; nobody slashed'}.
          </p>
          {result.output.kind === 'error' && <p class="error">The model's verified answer is an error: {result.output.error}</p>}
        </div>
      )}
      {error && <p class="error">{error}</p>}
      {outputs && <OutputView outputs={outputs} job={job.id} labels={labels} />}
    </div>
  );
}
