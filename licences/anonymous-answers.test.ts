// Anonymous verification by identifier shares one signed answer per licence for ZT_LICENCE_ANSWER_REUSE_MS, as an
// OCSP responder reuses a response: everyone asking meanwhile gets the same bytes, checked at the first asker's time,
// and any change of the licence ends the sharing at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_SUBJECTS } from '../exchange/datasets/index.js';
import { startTestApp, type TestApp } from '../test/support/app.js';
import { demoSigner } from '../test/support/signing.js';
import { makeLicenceIdentifier, parseLicenceIdentifier } from './identifier.js';
import { signLicenceStep } from './licence-steps.js';

const MARKET = '11210100001000029N';
const FOOD_LICENCE = '11100000MB0002581X002';

interface Answer {
  result: { status: string; checkedAt: string; identifier: string };
  signature: { signature: string };
}

async function verify(app: TestApp, identifier: string): Promise<{ text: string; answer: Answer }> {
  const response = await fetch(`${app.httpUrl}/v1/licences/${identifier}/verification`);
  expect(response.status).toBe(200);
  const text = await response.text();
  return { text, answer: JSON.parse(text) as Answer };
}

describe('anonymous answers shared per licence', () => {
  let shared: TestApp;
  let single: TestApp;
  let identifier: string;

  beforeAll(async () => {
    shared = await startTestApp({ licenceAnonymousRate: 0, licenceAnswerReuseMs: 60_000 });
    single = await startTestApp({ licenceAnonymousRate: 0, licenceAnswerReuseMs: 0 });
    const [food] = await shared.app.ctx.licences.byHolder(DEMO_SUBJECTS.restaurant.uscc, '001', FOOD_LICENCE);
    identifier = food!.identifier;
  });

  afterAll(async () => {
    await Promise.all([shared?.close(), single?.close()]);
  });

  it('gives everyone asking within the window the same signed answer, checked at the first asker\'s time', async () => {
    const first = await verify(shared, identifier);
    expect(first.answer.result.status).toBe('valid');
    const again = await Promise.all(Array.from({ length: 20 }, () => verify(shared, identifier)));
    for (const a of again) expect(a.text).toBe(first.text);
  });

  it('asks anew when reuse is off', async () => {
    const [food] = await single.app.ctx.licences.byHolder(DEMO_SUBJECTS.restaurant.uscc, '001', FOOD_LICENCE);
    const a = await verify(single, food!.identifier);
    await new Promise((r) => setTimeout(r, 5));
    const b = await verify(single, food!.identifier);
    expect(b.answer.result.checkedAt).not.toBe(a.answer.result.checkedAt);
    expect(b.answer.signature.signature).not.toBe(a.answer.signature.signature);
  });

  it('ends the sharing at once when the licence changes', async () => {
    const before = await verify(shared, identifier);
    expect(before.answer.result.status).toBe('valid');
    const signer = demoSigner(shared.config.dataDir, MARKET);
    const suspend = { actor: MARKET, reason: '食品安全抽检不合格，责令停业整改' };
    const eventsBefore = shared.app.ctx.licences.cacheStats.invalidations;
    await shared.app.ctx.licences.setStatus('suspend', identifier, suspend, await signLicenceStep(signer, { kind: 'suspend', identifier, actor: MARKET, content: suspend }));
    const after = await verify(shared, identifier);
    expect(after.answer.result.status).toBe('suspended');
    expect(after.answer.result.checkedAt >= before.answer.result.checkedAt).toBe(true);
    expect(after.text).not.toBe(before.text);
    // … and the new answer is shared in its turn, also once the change's event has come back through the bus (it
    // used to end the sharing a second time, when it came after the new answer was made).
    for (const until = Date.now() + 5000; shared.app.ctx.licences.cacheStats.invalidations === eventsBefore && Date.now() < until; ) await new Promise((r) => setTimeout(r, 10));
    expect(shared.app.ctx.licences.cacheStats.invalidations).toBeGreaterThan(eventsBefore);
    expect((await verify(shared, identifier)).text).toBe(after.text);
    const resume = { actor: MARKET };
    await shared.app.ctx.licences.setStatus('resume', identifier, resume, await signLicenceStep(signer, { kind: 'resume', identifier, actor: MARKET, content: resume }));
    expect((await verify(shared, identifier)).answer.result.status).toBe('valid');
  });

  it('keeps the cached copy of a licence when its event comes after the copy was read, and drops a stale one', async () => {
    const registry = shared.app.ctx.licences;
    const copy = await registry.get(identifier);
    const event = { identifier, typeCode: copy.typeCode, licenceNumber: copy.licenceNumber, holderCode: copy.holderCode, holderCodeType: copy.holderCodeType };
    // The event of the change this copy already shows (the changing instance reads it before the event comes back).
    registry.invalidate({ ...event, status: copy.status });
    expect(await registry.get(identifier)).toBe(copy);
    // An event of a change the copy does not show.
    registry.invalidate({ ...event, status: copy.status === 'suspended' ? 'active' : 'suspended' });
    const reread = await registry.get(identifier);
    expect(reread).not.toBe(copy);
    expect(reread.status).toBe(copy.status);
    // An event that names no status drops the copy, as before.
    registry.invalidate(event);
    expect(await registry.get(identifier)).not.toBe(reread);
  });

  it('does not share a refusal: an unknown identifier is refused each time', async () => {
    // A well-formed identifier that names no licence: another serial, with its own check character. (Replacing the
    // check character by a fixed one named the real licence whenever its check character was that one.)
    const parts = parseLicenceIdentifier(identifier);
    const unknown = makeLicenceIdentifier({ ...parts, serial: `${parts.serial}9` }).text;
    expect(unknown).not.toBe(identifier);
    for (let i = 0; i < 2; i++) {
      const response = await fetch(`${shared.httpUrl}/v1/licences/${unknown}/verification`);
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
    }
  });
});
