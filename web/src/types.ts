// The JSON shapes of the `gateless_*` methods (rpc/src/types.rs). Amounts are decimal strings of
// the smallest unit, accounts SS58, hashes 0x-hex.

export type Dimension = number | string | null;

export interface TensorSpec {
  name: string;
  dtype: string;
  shape: Dimension[];
}

export interface ModelStats {
  submitted: number;
  finalized: number;
  agreedErrors: number;
  failed: number;
  expired: number;
  cancelled: number;
  seats: number;
  agreeing: number;
  agreementRate: number | null;
  revenue: string;
  lastUsed: number | null;
}

export interface ModelCard {
  task: string;
  license: string;
  labels: string | null;
  inputs: string;
  outputs: string;
}

export type ModelStatus = 'pending' | 'active' | 'rejected' | 'deprecated' | 'banned';

export interface Model {
  id: number;
  owner: string;
  name: string;
  version: string;
  hash: string;
  size: number;
  location: { kind: 'inline' | 'uris' | 'peers'; uris?: string[]; content?: string };
  signature: { inputs: TensorSpec[]; outputs: TensorSpec[]; symbols?: { name: string; example: number }[] };
  determinism: { kind: 'exact' } | { kind: 'tolerance'; abs: number; rel: number };
  price: string;
  description: string;
  status: ModelStatus;
  rejection: string | null;
  deposit: string;
  registeredAt: number;
  attestations: { loads: number; fails: number; threshold: number } | null;
  card?: ModelCard | null;
  references?: { count: number; checkedBy: number } | null;
  compute?: { fixed: number; perElement: number } | null;
  stats?: ModelStats | null;
}

export interface Quote {
  modelPrice: string;
  executorFee: string;
  replicas: number;
  dataFee: string;
  total: string;
  operations?: number | null;
}

export type JobStatus = 'assigning' | 'running' | 'finalized' | 'failed' | 'expired' | 'cancelled';

export interface Job {
  id: number;
  submitter: string;
  model: number;
  modelHash: string;
  fee: Quote;
  status: JobStatus;
  failure: string | null;
  executors: string[];
  submittedAt: number;
  expiresAt: number;
  round: {
    round: number;
    committee: string[];
    commitUntil: number;
    revealUntil: number;
    committed: string[];
    revealed: { executor: string; digest: string }[];
    abstained?: { executor: string; cause: string }[];
  } | null;
}

export interface OutputTensor {
  name: string | null;
  dtype: string;
  shape: number[];
  values: (number | boolean)[];
  content?: { hash: string; len: number };
}

export interface JobResult {
  job: number;
  output:
    | { kind: 'tensors'; tensors: OutputTensor[] }
    | { kind: 'content'; tensors: OutputTensor[]; root: string }
    | { kind: 'error'; error: string };
  digest: string;
  agreeing: string[];
  paidEach: string;
  ownerPaid: string;
  refunded: string;
  finalizedAt: number;
}

export interface Outputs {
  job: number;
  tensors: { name: string | null; dtype: string; shape: number[]; content?: { hash: string; len: number }; bytes: string | null }[];
  rootChecked: boolean;
}

export interface Validator {
  account: string;
  bond: string;
  unlocking: string;
  candidate: boolean;
  active: boolean;
  counters: {
    assigned: number;
    agreed: number;
    dissented: number;
    missed: number;
    abstained?: number;
    rewarded: string;
    slashed: string;
  };
  agreementRate?: number | null;
}

export const FINAL_STATUSES: JobStatus[] = ['finalized', 'failed', 'expired', 'cancelled'];
