import { useEffect, useState } from 'preact/hooks';

import { onHead, rpc } from '../chain';
import { accountName, amount, count, rate } from '../format';
import type { Validator } from '../types';

export function Validators() {
  const [validators, setValidators] = useState<Validator[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let current = true;
    const load = () => rpc<Validator[]>('gateless_validators')
      .then((v) => { if (current) { setValidators(v); setError(null); } })
      .catch((e: Error) => current && setError(e.message));
    void load();
    const stop = onHead(() => void load());
    return () => { current = false; stop(); };
  }, []);

  const active = validators?.filter((v) => v.active).length ?? 0;
  return (
    <section>
      <div class="page-head">
        <h1>Validators</h1>
        {validators && <span class="muted">{active} active, {validators.filter((v) => v.candidate).length} standing for the next sets</span>}
      </div>
      {error && <p class="error">{error}</p>}
      {validators === null && !error && <p class="muted">Loading…</p>}
      {validators?.length === 0 && <p class="muted">No validator has bonded.</p>}
      {validators && validators.length > 0 && (
        <div class="table-scroll">
        <table class="validators responsive" data-testid="validators">
          <thead>
            <tr>
              <th>Account</th><th>Bond</th><th>Unlocking</th><th>Set</th>
              <th>Assigned</th><th>Agreed</th><th>Dissented</th><th>Missed</th><th>Abstained</th>
              <th>Rewarded</th><th>Slashed</th><th>Agreement</th>
            </tr>
          </thead>
          <tbody>
            {validators.map((v) => (
              <tr data-account={v.account}>
                <td data-label="Account" title={v.account}>{accountName(v.account)}</td>
                <td data-label="Bond" class="num">{amount(v.bond)}</td>
                <td data-label="Unlocking" class="num">{amount(v.unlocking)}</td>
                <td data-label="Set">
                  {v.active && <span class="badge status-active">active</span>}{' '}
                  {v.candidate ? <span class="badge">candidate</span> : <span class="badge status-deprecated">leaving</span>}
                </td>
                <td data-label="Assigned" class="num">{count(v.counters.assigned)}</td>
                <td data-label="Agreed" class="num">{count(v.counters.agreed)}</td>
                <td data-label="Dissented" class="num">{count(v.counters.dissented)}</td>
                <td data-label="Missed" class="num">{count(v.counters.missed)}</td>
                <td data-label="Abstained" class="num">{count(v.counters.abstained)}</td>
                <td data-label="Rewarded" class="num">{amount(v.counters.rewarded)}</td>
                <td data-label="Slashed" class="num">{amount(v.counters.slashed)}</td>
                <td data-label="Agreement" class="num" data-stat="agreementRate">{rate(v.agreementRate)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        </div>
      )}
      <p class="muted small note">
        Counters are a validator's record as an executor: jobs assigned, reveals that agreed with the quorum, dissents
        (slashed), missed duties (slashed), abstentions (neither paid nor slashed). Agreement is the node's rate, where it reports one.
      </p>
    </section>
  );
}
