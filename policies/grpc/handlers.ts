// zhengtong.v1.PolicyService (proto/zhengtong/v1/policies.proto): the negative list over gRPC, with the same calls,
// checks and errors as the HTTP routes (http/routes.ts). Where the HTTP JSON schema checks something the engine does
// not (lengths, list sizes, closed sets), the same check is made here with the code the HTTP API gives
// (ZT_ERR_REQUEST_INVALID). Unset proto3 fields stand for JSON null / absent.
import { PUBLIC } from '../../transport/access.js';
import { ZtError } from '../../core/errors/index.js';
import { declareAccess, type UnaryHandler } from '../../transport/grpc.js';
import { toTimestamp } from '../../transport/grpc.js';
import type { LegalBasis } from '../catalogue.js';
import type { ConditionalGrant, Decision, DecisionRequest, RuleRef } from '../decision.js';
import type { PolicyEngine } from '../engine.js';
import type { DecisionEffect, ImpactGroup, ImpactReport } from '../impact.js';
import type { MaskSpec } from '../masks.js';
import type { RuleInfo } from '../policy.js';
import { candidateImpact, IMPACT_MAX_COUNT, IMPACT_MAX_FILES } from '../http/routes.js';

type Msg = Record<string, unknown>;

function invalid(message: string): ZtError {
  return new ZtError('ZT_ERR_REQUEST_INVALID', message);
}

/** A string field of a decoded request ('' when unset). */
function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.map(str) : [];
}

function message(value: unknown): Msg | null {
  return value !== null && typeof value === 'object' ? (value as Msg) : null;
}

/** minLength / maxLength of the HTTP schema. */
function sized(value: string, min: number, max: number, field: string): string {
  if (value.length < min) throw invalid(`${field} must NOT have fewer than ${min} characters`);
  if (value.length > max) throw invalid(`${field} must NOT have more than ${max} characters`);
  return value;
}

/** A google.protobuf.Timestamp as a Date; undefined when unset. */
function dateOf(value: unknown, field: string): Date | undefined {
  const ts = message(value);
  if (ts === null) return undefined;
  const date = new Date(Number(ts.seconds ?? 0) * 1000 + Math.floor(Number(ts.nanos ?? 0) / 1e6));
  if (Number.isNaN(date.getTime())) throw invalid(`${field} must be a valid timestamp`);
  return date;
}

/** The DecideRequest as the HTTP route builds its DecisionRequest, with the HTTP body schema's checks. */
function decisionRequestOf(m: Msg): DecisionRequest {
  const requester = sized(str(m.requester), 18, 18, 'requester');
  const resource = sized(str(m.resource), 1, 64, 'resource');
  const items = strings(m.items);
  if (items.length < 1) throw invalid('items must NOT have fewer than 1 items');
  if (items.length > 200) throw invalid('items must NOT have more than 200 items');
  items.forEach((c, i) => sized(c, 1, 64, `items/${i}`));
  const subject = message(m.subject);
  if (subject === null) throw invalid("request must have required property 'subject'");
  const kind = str(subject.kind);
  if (kind !== 'person' && kind !== 'organisation') throw invalid('subject/kind must be equal to one of the allowed values: person, organisation');
  const id = sized(str(subject.id), 18, 18, 'subject/id');
  const purpose = message(m.purpose);
  if (purpose === null) throw invalid("request must have required property 'purpose'");
  const serviceItem = sized(str(purpose.serviceItem), 1, 64, 'purpose/serviceItem');
  const caseNumber = sized(str(purpose.caseNumber), 1, 64, 'purpose/caseNumber');
  const g = message(m.grant);
  let grant: ConditionalGrant | null = null;
  if (g !== null) {
    const rules = strings(g.rules);
    const purposes = strings(g.purposes);
    const notBefore = dateOf(g.notBefore, 'grant/notBefore');
    const notAfter = dateOf(g.notAfter, 'grant/notAfter');
    grant = {
      id: str(g.id),
      requester: str(g.requester),
      resource: str(g.resource),
      items: strings(g.items),
      ...(rules.length > 0 ? { rules } : {}),
      ...(purposes.length > 0 ? { purposes } : {}),
      ...(notBefore ? { notBefore } : {}),
      ...(notAfter ? { notAfter } : {}),
    } as ConditionalGrant;
  }
  return { requester, resource, items, subject: { kind, id }, purpose: { serviceItem, caseNumber }, at: dateOf(m.at, 'at') ?? new Date(), grant } as DecisionRequest;
}

/** The ImpactRequest with the HTTP body schema's checks. */
function impactInputOf(m: Msg): { files: { name: string; text: string }[]; count?: number; seed?: number } {
  const files = (Array.isArray(m.files) ? m.files : []).map((f, i) => {
    const file = message(f) ?? {};
    return { name: sized(str(file.name), 1, 200, `files/${i}/name`), text: str(file.text) };
  });
  if (files.length < 1) throw invalid('files must NOT have fewer than 1 items');
  if (files.length > IMPACT_MAX_FILES) throw invalid(`files must NOT have more than ${IMPACT_MAX_FILES} items`);
  const count = Number(m.count ?? 0);
  if (!Number.isInteger(count) || count < 0 || count > IMPACT_MAX_COUNT) throw invalid(`count must be between 1 and ${IMPACT_MAX_COUNT} (0: the default)`);
  const seed = m.seed === undefined || m.seed === null ? undefined : Number(m.seed);
  return { files, ...(count > 0 ? { count } : {}), ...(seed !== undefined ? { seed } : {}) };
}

// ---------------------------------------------------------------------------------------------------------------
// Domain → message.

function legalBasisOut(b: LegalBasis): Msg {
  return { title: b.title, article: b.article ?? '' };
}

function maskOut(mask: MaskSpec | null): Msg | null {
  return mask === null ? null : { kind: mask.kind, keepStart: mask.keepStart, keepEnd: mask.keepEnd };
}

function ruleRefOut(r: RuleRef): Msg {
  return { id: r.id, effect: r.effect, title: r.title ?? '', legalBasis: r.legalBasis.map(legalBasisOut), condition: r.condition ?? '' };
}

function ruleOut(r: RuleInfo): Msg {
  return { ...ruleRefOut(r), mask: maskOut(r.mask), file: r.file, line: r.line, targets: r.targets };
}

function decisionOut(d: Decision): Msg {
  return {
    outcome: d.outcome,
    reason: d.reason ?? '',
    revision: d.revision,
    resource: d.resource,
    items: d.items.map((i) => ({ code: i.code, mask: maskOut(i.mask) })),
    withheld: d.withheld.map((h) => ({ code: h.code, rules: h.rules })),
    pending: d.pending.map((h) => ({ code: h.code, rules: h.rules })),
    rules: d.rules.map(ruleRefOut),
    unknown: d.unknown,
    grant: d.grant ?? '',
  };
}

function effectOut(e: DecisionEffect): Msg {
  return { ...e, reason: e.reason ?? '' };
}

function groupOut(g: ImpactGroup): Msg {
  return { ...g };
}

function impactOut(r: ImpactReport): Msg {
  return {
    candidateRevision: r.candidateRevision,
    recordedRevisions: r.recordedRevisions,
    decisions: r.decisions,
    changed: r.changed,
    basisOnly: r.basisOnly,
    transitions: { ...r.transitions },
    byDepartment: r.byDepartment.map(groupOut),
    byResource: r.byResource.map(groupOut),
    changes: r.changes.map((c) => ({ ...c, before: effectOut(c.before), after: effectOut(c.after) })),
  };
}

/** The PolicyService handlers over the holder of the list in force (ctx.policy). */
export function policyHandlers(policy: { readonly current: { readonly engine: PolicyEngine } | null }): Record<string, UnaryHandler> {
  const engine = (): PolicyEngine => {
    if (!policy.current) throw new ZtError('ZT_ERR_SHUTTING_DOWN', 'the negative list is not loaded yet');
    return policy.current.engine;
  };
  return declareAccess({
    GetPolicy: async () => {
      const s = engine().status();
      return { ...s, files: [...s.files], loadedAt: toTimestamp(s.loadedAt) };
    },
    ListRules: async () => {
      const e = engine();
      const policyInForce = e.policy; // one revision for both fields
      return { revision: policyInForce.revision, rules: policyInForce.rules.map(ruleOut) };
    },
    Decide: async (request) => decisionOut(engine().decide(decisionRequestOf(request))),
    Impact: async (request) => impactOut(candidateImpact(engine(), impactInputOf(request))),
  }, {
    GetPolicy: PUBLIC,
    ListRules: PUBLIC,
    Decide: PUBLIC,
    Impact: PUBLIC,
  });
}
