// PolicyHolder on the in-process bus: a reload requested on one holder is announced, the other holder reloads its own
// files without announcing again, a holder ignores its own announcement, and files that differ are reported.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryEventBus, type DeliveredEvent, type Subscription } from '../core/events/index.js';
import { createLogger } from '../core/logging/index.js';
import { defaultPolicyDirectory, demoCatalogue, type DecisionRequest } from '../policies/index.js';
import { CATALOGUE_EVENTS_TOPIC, type CatalogueService } from '../registry/catalogue/index.js';
import { waitUntil } from '../test/support/ca.js';
import { parsePolicyReloaded, POLICY_RELOADED_EVENT, PolicyHolder, policyReloadedEvent, type PolicyAnnouncer, type PolicyReloaded } from './policy.js';

/** A negative-list file that withholds the gender in 人口基本信息, which the shipped list releases. */
const EXTRA_RULE = `revision: "test.1"
rules:
  - id: NL-TEST-0001
    title: 测试:性别不予共享
    effect: deny
    legalBasis:
      title: 《测试规定》
      article: 第一条
    match:
      resources: [210100-GA-0001]
      items: [gender]
`;

const GENDER: DecisionRequest = {
  requester: '112101000010000537',
  resource: '210100-GA-0001',
  items: ['name', 'gender'],
  subject: { kind: 'person', id: '210102198001011234' },
  purpose: { serviceItem: 'QYKB-210100-0009', caseNumber: 'T-1' },
  at: new Date('2025-09-01T00:00:00Z'),
  grant: null,
};

/** The catalogue service as the holder uses it (exportAll), counting the reloads that read it. */
function countingCatalogue(): { service: CatalogueService; reads: () => number; hold: () => () => void } {
  let reads = 0;
  let held: Promise<void> | null = null;
  const resources = demoCatalogue()
    .listResources()
    .map((r) => ({ ...r, updatedAt: new Date('2025-08-01T00:00:00Z') }));
  return {
    service: {
      exportAll: async () => {
        reads++;
        const wait = held;
        held = null;
        if (wait) await wait;
        return resources;
      },
    } as unknown as CatalogueService,
    reads: () => reads,
    /** Makes the next read wait (a slow database) until the returned function is called. */
    hold: () => {
      let release!: () => void;
      held = new Promise((resolve) => (release = resolve));
      return release;
    },
  };
}

interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

function capturingLogger(instanceId: string): { logger: ReturnType<typeof createLogger>; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return { logger: createLogger({ level: 'info', instanceId, destination }), lines };
}

describe('PolicyHolder across instances (in-process bus)', () => {
  let bus: MemoryEventBus;
  let dirs: { a: string; b: string };
  const subscriptions: Subscription[] = [];
  const announcements: DeliveredEvent[] = [];

  /** The outbox's part done directly: the announcement published on the catalogue topic. */
  const publishing: PolicyAnnouncer = async (reloaded) => bus.publish(CATALOGUE_EVENTS_TOPIC, policyReloadedEvent(reloaded));

  async function instance(id: string, dir: string, announce: PolicyAnnouncer | null = publishing) {
    const catalogue = countingCatalogue();
    const { logger, lines } = capturingLogger(id);
    const holder = await PolicyHolder.load(dir, catalogue.service, logger, { instanceId: id, announce });
    const subscription = await holder.listen(bus, id);
    await subscription.ready;
    subscriptions.push(subscription);
    return { holder, lines, reads: catalogue.reads, hold: catalogue.hold };
  }

  const settled = () => waitUntil(() => bus.pending() === 0, 5000, 'the bus to deliver everything');

  beforeEach(async () => {
    bus = new MemoryEventBus();
    announcements.length = 0;
    const watch = await bus.subscribe({
      topics: [CATALOGUE_EVENTS_TOPIC],
      group: 'test-watch',
      fromBeginning: true,
      handler: async (event) => {
        if (event.headers['zt-event-type'] === POLICY_RELOADED_EVENT) announcements.push(event);
      },
    });
    subscriptions.push(watch);
    const parent = mkdtempSync(join(tmpdir(), 'zt-policy-holder-'));
    dirs = { a: join(parent, 'a'), b: join(parent, 'b') };
    cpSync(defaultPolicyDirectory(), dirs.a, { recursive: true });
    cpSync(defaultPolicyDirectory(), dirs.b, { recursive: true });
  });

  afterEach(async () => {
    for (const s of subscriptions.splice(0)) await s.close();
    await bus.close();
    rmSync(join(dirs.a, '..'), { recursive: true, force: true });
  });

  it("announces a requested reload that changed the set, and the other instance reloads its own files without announcing again", async () => {
    const a = await instance('a', dirs.a);
    const b = await instance('b', dirs.b);
    expect(b.holder.engine.decide(GENDER).withheld.map((w) => w.code)).toEqual([]);
    const before = a.holder.engine.status();
    writeFileSync(join(dirs.a, 'zz-test.yaml'), EXTRA_RULE);
    writeFileSync(join(dirs.b, 'zz-test.yaml'), EXTRA_RULE);
    const readsBefore = { a: a.reads(), b: b.reads() };

    const result = await a.holder.reloadRequested();
    expect(result).toMatchObject({ changed: true, announced: true, previous: before.revision, revision: `${before.revision}+test.1` });
    await settled();

    expect(b.holder.engine.revision).toBe(`${before.revision}+test.1`);
    expect(b.holder.engine.decide(GENDER).withheld).toEqual([{ code: 'gender', rules: ['NL-TEST-0001'] }]);
    // One announcement, A's, with the shape the others read; B reloaded once and told nobody; A ignored its own.
    expect(announcements).toHaveLength(1);
    expect(announcements[0]!.headers['zt-event-type']).toBe('policy.reloaded');
    expect(JSON.parse(announcements[0]!.value.toString('utf8'))).toEqual({
      revision: `${before.revision}+test.1`,
      digest: a.holder.engine.status().digest,
      previous: before.revision,
      instance: 'a',
    });
    expect(b.reads() - readsBefore.b).toBe(1);
    expect(a.reads() - readsBefore.a).toBe(1);
    expect(b.lines.filter((l) => l.msg === 'negative list reloaded').map((l) => l.cause)).toEqual(['announced']);
    expect(b.lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('announces nothing when the requested reload changed nothing', async () => {
    const a = await instance('a', dirs.a);
    const b = await instance('b', dirs.b);
    const result = await a.holder.reloadRequested();
    expect(result).toMatchObject({ changed: false, announced: false });
    await settled();
    expect(announcements).toEqual([]);
    expect(b.reads()).toBe(1); // its load only
  });

  it('keeps plain reload() (catalogue changes, others’ announcements) to this instance', async () => {
    const a = await instance('a', dirs.a);
    await instance('b', dirs.b);
    writeFileSync(join(dirs.a, 'zz-test.yaml'), EXTRA_RULE);
    expect((await a.holder.reload()).changed).toBe(true);
    await settled();
    expect(announcements).toEqual([]);
  });

  it("logs an error naming both sides when this instance's files differ from the announcer's", async () => {
    const a = await instance('a', dirs.a);
    const b = await instance('b', dirs.b);
    const theirs = b.holder.engine.status();
    writeFileSync(join(dirs.a, 'zz-test.yaml'), EXTRA_RULE); // only A's directory has the new file

    await a.holder.reloadRequested();
    await settled();

    expect(b.holder.engine.status().digest).toBe(theirs.digest); // B's files are B's truth
    const errors = b.lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toContain("this instance's policy files differ from those instance a put in force");
    expect(errors[0]).toMatchObject({
      announcedBy: 'a',
      theirs: { revision: a.holder.engine.revision, digest: a.holder.engine.status().digest },
      ours: { revision: theirs.revision, digest: theirs.digest },
    });
  });

  it('keeps the set in force and says the others were not told when the announcement cannot be written', async () => {
    const failing: PolicyAnnouncer = async () => {
      throw new Error('the database is down');
    };
    const a = await instance('a', dirs.a, failing);
    writeFileSync(join(dirs.a, 'zz-test.yaml'), EXTRA_RULE);
    const result = await a.holder.reloadRequested();
    expect(result).toMatchObject({ changed: true, announced: false });
    expect(a.holder.engine.decide(GENDER).withheld.map((w) => w.code)).toEqual(['gender']);
    expect(a.lines.some((l) => l.level === 'error' && l.msg.includes('the other instances could not be told'))).toBe(true);
  });

  it('runs reloads one at a time, so an older read never replaces a newer one', async () => {
    const a = await instance('a', dirs.a);
    const original = a.holder.engine.revision;
    writeFileSync(join(dirs.a, 'zz-test.yaml'), EXTRA_RULE);
    const release = a.hold();
    const first = a.holder.reload();
    // The first has read the files (with the new one) and waits for the catalogue; the file goes, a second reload
    // is asked for, and only then does the catalogue answer.
    await waitUntil(() => a.reads() === 2, 5000, 'the first reload to read the files');
    rmSync(join(dirs.a, 'zz-test.yaml'));
    const second = a.holder.reload();
    await new Promise((resolve) => setTimeout(resolve, 20));
    release();
    const [r1, r2] = await Promise.all([first, second]);
    expect([r1, r2]).toEqual([
      { previous: original, revision: `${original}+test.1`, changed: true },
      { previous: `${original}+test.1`, revision: original, changed: true },
    ]);
    expect(a.holder.engine.revision).toBe(original);
  });

  it('reads an announcement only when it has a revision, a digest and an instance', () => {
    const reloaded: PolicyReloaded = { revision: 'r2', digest: 'abc', previous: 'r1', instance: 'gw-1' };
    expect(parsePolicyReloaded(Buffer.from(policyReloadedEvent(reloaded).value))).toEqual(reloaded);
    expect(parsePolicyReloaded(Buffer.from('not json'))).toBeNull();
    expect(parsePolicyReloaded(Buffer.from('null'))).toBeNull();
    expect(parsePolicyReloaded(Buffer.from('{"revision":"r2","digest":"abc"}'))).toBeNull();
  });
});
