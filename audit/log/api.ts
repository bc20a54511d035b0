// What the HTTP routes and the gRPC service of the tamper-evident log share: reading their parameters (strings, as
// a query string or proto3 fields carry them) with a catalogue code naming the bad one, and who may ask what.
// Checkpoints and consistency proofs are public: they reveal only counts and hashes. An inclusion proof names a record,
// so it is a signed request from a service portal or a supervisor; only a supervisor is given the leaf's bytes.
import type { PersonCall } from '../../transport/person.js';
import { ZtError } from '../../core/errors/index.js';
import { isValidUscc } from '../../core/identifiers/index.js';
import type { SignedCall } from '../../exchange/signed-request.js';
import type { AuditAccessGuard } from '../supervision/access-guard.js';
import type { Checkpoint } from './checkpoint.js';
import { MAX_CHECKPOINT_PAGE, type AuditLogService, type ConsistencyAnswer, type InclusionAnswer } from './service.js';

export type RawParameters = Record<string, string | undefined>;

const POSITIVE = /^[1-9][0-9]{0,15}$/;
const DEFAULT_PAGE = 100;

function treeSize(raw: RawParameters, parameter: string, required: true): number;
function treeSize(raw: RawParameters, parameter: string, required: false): number | undefined;
function treeSize(raw: RawParameters, parameter: string, required: boolean): number | undefined {
  const v = raw[parameter];
  if (v === undefined || v === '') {
    if (required) throw new ZtError('ZT_ERR_AUDIT_TREE_SIZE_INVALID', `${parameter} is required`, { details: { parameter } });
    return undefined;
  }
  if (!POSITIVE.test(v) || !Number.isSafeInteger(Number(v))) {
    throw new ZtError('ZT_ERR_AUDIT_TREE_SIZE_INVALID', `${parameter} must be a positive integer tree size, got ${JSON.stringify(v.slice(0, 40))}`, { details: { parameter } });
  }
  return Number(v);
}

function refuseUnknown(raw: RawParameters, known: readonly string[]): void {
  for (const name of Object.keys(raw)) {
    if (!known.includes(name) && raw[name] !== undefined) {
      throw new ZtError('ZT_ERR_AUDIT_QUERY_INVALID', `unknown parameter ${JSON.stringify(name.slice(0, 40))} (known: ${known.join(', ')})`, { details: { parameter: name } });
    }
  }
}

export interface CheckpointPage {
  checkpoints: Checkpoint[];
  /** Pass as `before` for the next (older) page; absent on the last. */
  next?: string;
}

export class AuditLogApi {
  constructor(
    private readonly log: AuditLogService,
    private readonly guard: AuditAccessGuard,
  ) {}

  latest(raw: RawParameters): Promise<Checkpoint> {
    refuseUnknown(raw, []);
    return this.log.checkpointOf(undefined);
  }

  checkpoint(raw: RawParameters): Promise<Checkpoint> {
    refuseUnknown(raw, ['treeSize']);
    return this.log.checkpointOf(treeSize(raw, 'treeSize', true));
  }

  async checkpoints(raw: RawParameters): Promise<CheckpointPage> {
    refuseUnknown(raw, ['limit', 'before']);
    let limit = DEFAULT_PAGE;
    if (raw.limit !== undefined && raw.limit !== '') {
      if (!POSITIVE.test(raw.limit) || Number(raw.limit) > MAX_CHECKPOINT_PAGE) {
        throw new ZtError('ZT_ERR_AUDIT_QUERY_INVALID', `limit must be 1 to ${MAX_CHECKPOINT_PAGE}`, { details: { parameter: 'limit' } });
      }
      limit = Number(raw.limit);
    }
    const before = treeSize(raw, 'before', false);
    const checkpoints = await this.log.checkpoints({ limit, ...(before !== undefined ? { before } : {}) });
    const page: CheckpointPage = { checkpoints };
    if (checkpoints.length === limit) page.next = String(checkpoints[checkpoints.length - 1]!.treeSize);
    return page;
  }

  consistency(raw: RawParameters): Promise<ConsistencyAnswer> {
    refuseUnknown(raw, ['first', 'second']);
    return this.log.consistency(treeSize(raw, 'first', true), treeSize(raw, 'second', true));
  }

  /** Signed by a portal or a supervisor (`requester`); the leaf's bytes only for a supervisor. */
  async inclusion(call: SignedCall | PersonCall, raw: RawParameters, recordId: string): Promise<InclusionAnswer> {
    refuseUnknown(raw, ['requester', 'treeSize']);
    const requester = raw.requester;
    if (requester === undefined || requester === '') {
      throw new ZtError('ZT_ERR_AUDIT_QUERY_INVALID', 'requester is required: the USCC of the department signing the request', { details: { parameter: 'requester' } });
    }
    if (!isValidUscc(requester)) throw new ZtError('ZT_ERR_AUDIT_QUERY_INVALID', 'requester is not a valid unified social credit code', { details: { parameter: 'requester' } });
    const size = treeSize(raw, 'treeSize', false);
    const caller = await this.guard.authorise(call, requester, 'portal');
    const answer = await this.log.inclusion(recordId, size);
    if (caller.role === 'supervisor') return answer;
    delete answer.leaf;
    return answer;
  }
}
