import { describe, expect, it } from 'vitest';
import { isZtError, type ErrorCode } from '../../core/errors/index.js';
import {
  assertParty,
  assertRegistrationFits,
  DEMAND_STATES,
  initialState,
  isOverdue,
  newDemandId,
  nextState,
  normaliseRefusal,
  normaliseRegistration,
  normaliseTerms,
  TRANSITIONS,
  type DemandAction,
  type DemandRegistration,
  type DemandState,
} from './demand.js';
import { normalisePublication, type ResourcePublication } from './resource.js';

function codeOf(fn: () => unknown): ErrorCode | undefined {
  try {
    fn();
  } catch (error) {
    if (isZtError(error)) return error.code;
    throw error;
  }
  return undefined;
}

const TODAY = '2025-09-26';
const PROVIDER = '11210100001000010R';
const REQUESTER = '112101000010000537';
const resource = { code: '210100-GA-0001', provider: PROVIDER, items: ['name', 'idNumber', 'photo'].map((code) => ({ code, name: code, type: 'string' as const, sensitivity: 'sensitive' as const, categories: [] })) };
const registration: DemandRegistration = {
  requester: REQUESTER,
  resource: '210100-GA-0001',
  items: ['name', 'idNumber'],
  serviceItem: 'QYKB-210100-0001',
  legalBasis: { title: '《优化营商环境条例》' },
  expectedDailyVolume: 100,
  validTo: '2026-09-30',
};

describe('demand state machine', () => {
  it('starts by sharing class: unconditional granted, conditional pending, not shared refused', () => {
    expect(initialState('unconditional')).toBe('granted');
    expect(initialState('conditional')).toBe('pending');
    expect(initialState('not-shared')).toBe('refused');
  });

  it('allows exactly the listed transitions and rejects every other with ZT_ERR_DEMAND_STATE', () => {
    const allowed: Record<DemandAction, Partial<Record<DemandState, DemandState>>> = {
      approve: { pending: 'approved' },
      refuse: { pending: 'refused' },
      withdraw: { pending: 'withdrawn', granted: 'withdrawn', approved: 'withdrawn' },
      expire: { granted: 'expired', approved: 'expired' },
    };
    for (const action of Object.keys(TRANSITIONS) as DemandAction[]) {
      for (const state of DEMAND_STATES) {
        const expected = allowed[action][state];
        if (expected) expect(nextState(state, action)).toBe(expected);
        else expect(codeOf(() => nextState(state, action)), `${action} from ${state}`).toBe('ZT_ERR_DEMAND_STATE');
      }
    }
  });

  it('has no way out of refused, withdrawn or expired', () => {
    for (const end of ['refused', 'withdrawn', 'expired'] as const) {
      for (const rule of Object.values(TRANSITIONS)) expect(rule.from).not.toContain(end);
    }
  });

  it('lets only the supplier reply and only the requester withdraw', () => {
    const demand = { id: 'd', requester: REQUESTER, provider: PROVIDER };
    expect(codeOf(() => assertParty('approve', PROVIDER, demand))).toBeUndefined();
    expect(codeOf(() => assertParty('approve', REQUESTER, demand))).toBe('ZT_ERR_NOT_A_PARTY');
    expect(codeOf(() => assertParty('refuse', REQUESTER, demand))).toBe('ZT_ERR_NOT_A_PARTY');
    expect(codeOf(() => assertParty('withdraw', REQUESTER, demand))).toBeUndefined();
    expect(codeOf(() => assertParty('withdraw', PROVIDER, demand))).toBe('ZT_ERR_NOT_A_PARTY');
  });

  it('is overdue only while pending past the reply deadline', () => {
    expect(isOverdue({ state: 'pending', replyDue: '2025-10-10' }, '2025-10-10')).toBe(false);
    expect(isOverdue({ state: 'pending', replyDue: '2025-10-10' }, '2025-10-11')).toBe(true);
    expect(isOverdue({ state: 'approved', replyDue: '2025-10-10' }, '2025-12-01')).toBe(false);
  });
});

describe('demand validation', () => {
  it('normalises a registration, defaulting validFrom to today', () => {
    const reg = normaliseRegistration({ ...registration, requester: ` ${REQUESTER.toLowerCase()} `, items: ['name', 'name', 'idNumber'] }, TODAY);
    expect(reg).toMatchObject({ requester: REQUESTER, items: ['name', 'idNumber'], validFrom: TODAY, legalBasis: { title: '《优化营商环境条例》', article: null } });
  });

  it('names what is wrong with a registration', () => {
    expect(codeOf(() => normaliseRegistration({ ...registration, requester: '112101000010000538' }, TODAY))).toBe('ZT_ERR_ID_INVALID_USCC');
    expect(codeOf(() => normaliseRegistration({ ...registration, items: [] }, TODAY))).toBe('ZT_ERR_REQUEST_INVALID');
    expect(codeOf(() => normaliseRegistration({ ...registration, serviceItem: '事项' }, TODAY))).toBe('ZT_ERR_REQUEST_INVALID');
    expect(codeOf(() => normaliseRegistration({ ...registration, validTo: '2025-09-25' }, TODAY))).toBe('ZT_ERR_REQUEST_INVALID');
    expect(codeOf(() => normaliseRegistration({ ...registration, validFrom: '2026-10-01' }, TODAY))).toBe('ZT_ERR_REQUEST_INVALID');
    expect(codeOf(() => normaliseRegistration({ ...registration, validTo: '2026-02-30' }, TODAY))).toBe('ZT_ERR_REQUEST_INVALID');
    expect(codeOf(() => normaliseRegistration({ ...registration, expectedDailyVolume: -1 }, TODAY))).toBe('ZT_ERR_REQUEST_INVALID');
    expect(codeOf(() => normaliseRegistration({ ...registration, legalBasis: { title: ' ' } }, TODAY))).toBe('ZT_ERR_REQUEST_INVALID');
  });

  it('checks the demanded items against the resource, and refuses a demand on one\'s own data', () => {
    const reg = normaliseRegistration(registration, TODAY);
    expect(codeOf(() => assertRegistrationFits(reg, resource))).toBeUndefined();
    expect(codeOf(() => assertRegistrationFits({ ...reg, items: ['name', 'salary'] }, resource))).toBe('ZT_ERR_DATA_ITEM_UNKNOWN');
    expect(codeOf(() => assertRegistrationFits({ ...reg, requester: PROVIDER }, resource))).toBe('ZT_ERR_REQUEST_INVALID');
  });

  it('lets terms narrow a demand but never widen it', () => {
    const demand = { id: 'd', items: ['name', 'idNumber'], validTo: '2026-09-30' };
    expect(normaliseTerms(null, demand, resource, TODAY)).toBeNull();
    expect(normaliseTerms({}, demand, resource, TODAY)).toBeNull();
    expect(normaliseTerms({ items: ['idNumber'], dailyQuota: 50, validUntil: '2026-03-31' }, demand, resource, TODAY)).toEqual({
      items: ['idNumber'],
      dailyQuota: 50,
      validUntil: '2026-03-31',
    });
    expect(codeOf(() => normaliseTerms({ items: ['photo'] }, demand, resource, TODAY))).toBe('ZT_ERR_REQUEST_INVALID');
    expect(codeOf(() => normaliseTerms({ items: ['salary'] }, demand, resource, TODAY))).toBe('ZT_ERR_DATA_ITEM_UNKNOWN');
    expect(codeOf(() => normaliseTerms({ items: [] }, demand, resource, TODAY))).toBe('ZT_ERR_REQUEST_INVALID');
    expect(codeOf(() => normaliseTerms({ dailyQuota: 0 }, demand, resource, TODAY))).toBe('ZT_ERR_REQUEST_INVALID');
    expect(codeOf(() => normaliseTerms({ validUntil: '2026-10-01' }, demand, resource, TODAY))).toBe('ZT_ERR_REQUEST_INVALID');
    expect(codeOf(() => normaliseTerms({ validUntil: '2025-09-01' }, demand, resource, TODAY))).toBe('ZT_ERR_REQUEST_INVALID');
  });

  it('requires a refusal to cite a negative-list entry or a legal basis', () => {
    expect(codeOf(() => normaliseRefusal({}, 'd'))).toBe('ZT_ERR_REFUSAL_BASIS_MISSING');
    expect(codeOf(() => normaliseRefusal({ reason: '不想给' }, 'd'))).toBe('ZT_ERR_REFUSAL_BASIS_MISSING');
    expect(codeOf(() => normaliseRefusal({ negativeListRuleId: '  ', legalBasis: null }, 'd'))).toBe('ZT_ERR_REFUSAL_BASIS_MISSING');
    expect(normaliseRefusal({ negativeListRuleId: 'NL-2025-GA-007' }, 'd')).toEqual({ negativeListRuleId: 'NL-2025-GA-007', legalBasis: null, reason: null, automatic: false });
    expect(normaliseRefusal({ legalBasis: { title: '《中华人民共和国个人信息保护法》', article: '第六条' }, reason: ' 超出最小范围 ' }, 'd')).toEqual({
      negativeListRuleId: null,
      legalBasis: { title: '《中华人民共和国个人信息保护法》', article: '第六条' },
      reason: '超出最小范围',
      automatic: false,
    });
  });

  it('makes time-ordered UUIDv7 ids', () => {
    const a = newDemandId(new Date('2025-01-01T00:00:00Z'));
    const b = newDemandId(new Date('2025-01-01T00:00:00.001Z'));
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a < b).toBe(true);
    const at = new Date('2025-01-01T00:00:00.002Z');
    const same = Array.from({ length: 5000 }, () => newDemandId(at));
    expect([...same].sort()).toEqual(same);
    expect(new Set(same).size).toBe(same.length);
    expect(same.every((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab]/.test(id))).toBe(true);
  });
});

describe('resource validation', () => {
  const publication: ResourcePublication = {
    code: '210100-MZ-0001',
    name: '婚姻登记信息',
    provider: '11210100001000045C',
    sharingClass: 'conditional',
    updateCycle: 'daily',
    connector: { kind: 'grpc', endpoint: 'mz:50051' },
    items: [{ code: 'maleName', name: '男方姓名', type: 'string', sensitivity: 'sensitive', categories: ['personal'] }],
  };

  it('accepts a well-formed entry', () => {
    expect(normalisePublication(publication)).toMatchObject({ code: '210100-MZ-0001', legalBasis: null, items: [{ code: 'maleName', categories: ['personal'] }] });
  });

  it('needs a legal basis exactly for not-shared resources', () => {
    expect(codeOf(() => normalisePublication({ ...publication, sharingClass: 'not-shared' }))).toBe('ZT_ERR_REFUSAL_BASIS_MISSING');
    expect(normalisePublication({ ...publication, sharingClass: 'not-shared', legalBasis: { title: '《婚姻登记条例》' } }).legalBasis).toEqual({ title: '《婚姻登记条例》', article: null });
    expect(codeOf(() => normalisePublication({ ...publication, legalBasis: { title: '《婚姻登记条例》' } }))).toBe('ZT_ERR_REQUEST_INVALID');
  });

  it('names what is wrong with an entry', () => {
    expect(codeOf(() => normalisePublication({ ...publication, provider: '11210100001000045D' }))).toBe('ZT_ERR_ID_INVALID_USCC');
    expect(codeOf(() => normalisePublication({ ...publication, code: 'lower-case' }))).toBe('ZT_ERR_REQUEST_INVALID');
    expect(codeOf(() => normalisePublication({ ...publication, sharingClass: '有条件' }))).toBe('ZT_ERR_REQUEST_INVALID');
    expect(codeOf(() => normalisePublication({ ...publication, items: [] }))).toBe('ZT_ERR_REQUEST_INVALID');
    expect(codeOf(() => normalisePublication({ ...publication, items: [publication.items[0]!, publication.items[0]!] }))).toBe('ZT_ERR_REQUEST_INVALID');
    expect(codeOf(() => normalisePublication({ ...publication, items: [{ ...publication.items[0]!, sensitivity: 'secret' }] }))).toBe('ZT_ERR_REQUEST_INVALID');
    expect(codeOf(() => normalisePublication({ ...publication, items: [{ ...publication.items[0]!, categories: ['Bad Tag'] }] }))).toBe('ZT_ERR_REQUEST_INVALID');
    expect(codeOf(() => normalisePublication({ ...publication, connector: { kind: 'ftp', endpoint: 'x' } }))).toBe('ZT_ERR_REQUEST_INVALID');
  });
});
