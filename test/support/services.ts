// Where the tests find real services, and what happens when one is missing: on a developer's bare machine the
// tests that need it skip with a message saying how to enable them; with ZT_REQUIRE_SERVICES=1 (set by .ci/run)
// a missing service fails the run instead of skipping silently.
import { randomBytes } from 'node:crypto';
import { describe, it } from 'vitest';

export const postgresUrl: string | undefined = process.env.ZT_TEST_DATABASE_URL || process.env.DATABASE_URL || undefined;
export const kafkaBrokers: string[] = (process.env.ZT_TEST_KAFKA_BROKERS || process.env.KAFKA_BROKERS || '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
export const servicesRequired = process.env.ZT_REQUIRE_SERVICES === '1' || process.env.ZT_REQUIRE_SERVICES === 'true';

const HOW = {
  postgres: 'set ZT_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test (or DATABASE_URL) to run them',
  kafka: 'start the local broker (npm run kafka -- start) and set ZT_TEST_KAFKA_BROKERS=127.0.0.1:9092 to run them',
} as const;

export type ServiceName = keyof typeof HOW;

export function serviceAvailable(service: ServiceName): boolean {
  return service === 'postgres' ? postgresUrl !== undefined : kafkaBrokers.length > 0;
}

/** describe() for a suite that needs a real service. */
export function describeWithService(service: ServiceName, title: string, body: () => void): void {
  if (serviceAvailable(service)) {
    describe(title, body);
    return;
  }
  if (servicesRequired) {
    describe(title, () => {
      it(`needs ${service}`, () => {
        throw new Error(`ZT_REQUIRE_SERVICES is set but ${service} is not configured: ${HOW[service]}`);
      });
    });
    return;
  }
  console.warn(`[skip] ${title}: ${service} is not configured; ${HOW[service]}`);
  describe.skip(`${title} (skipped: ${service} not configured)`, body);
}

/** A name no other test run uses, for schemas, topics and groups. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}
