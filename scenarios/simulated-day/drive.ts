// Plays a plan through the real exchange: each department's system signs its requests with its own key and sends
// them over HTTP (one in five over gRPC), and the gateway checks, decides, answers and records them as it would any
// other. Only the business time is simulated: the gateway's clock is moved through the days minute by minute, and the
// requests planned for a minute are sent together while it shows that minute.
import { ExchangeClient, type ExchangeProtocol } from '../../client/exchange-client.js';
import { ExchangeError } from '../../client/errors.js';
import type { Signer } from '../../certs/signer/index.js';
import type { PlannedRequest } from './plan.js';

const MINUTE = 60_000;

/** The gateway's business clock, moved by the driver. */
export class ScenarioClock {
  #base = Date.now();
  #realBase = Date.now();

  /** Shows `at`; time then runs on from there at `speed` simulated milliseconds per real one (capped at a minute). */
  set(at: number): void {
    this.#base = at;
    this.#realBase = Date.now();
  }

  readonly now = (): number => this.#base + Math.min(MINUTE - 1, Date.now() - this.#realBase);
}

export interface DriveProgress {
  sent: number;
  total: number;
  permitted: number;
  refused: Record<string, number>;
  /** The business time reached. */
  at: number;
  elapsedMs: number;
}

export interface DriveOptions {
  httpUrl: string;
  grpcAddress: string;
  signerFor: (uscc: string) => Promise<Signer>;
  trust: { root: Buffer; issuing: Buffer };
  platformUscc: string;
  clock: ScenarioClock;
  /** Requests in flight at most; default 32. */
  concurrency?: number;
  onProgress?: (progress: DriveProgress) => void;
  /** How often onProgress is called, in requests; default 1,000. */
  progressEvery?: number;
}

export async function drive(requests: readonly PlannedRequest[], options: DriveOptions): Promise<DriveProgress> {
  const clients = new Map<string, ExchangeClient>();
  const clientFor = async (uscc: string): Promise<ExchangeClient> => {
    let client = clients.get(uscc);
    if (!client) {
      client = new ExchangeClient({
        httpUrl: options.httpUrl,
        grpcAddress: options.grpcAddress,
        signer: await options.signerFor(uscc),
        trust: options.trust,
        platformUscc: options.platformUscc,
      });
      clients.set(uscc, client);
    }
    return client;
  };
  const started = Date.now();
  const progress: DriveProgress = { sent: 0, total: requests.length, permitted: 0, refused: {}, at: 0, elapsedMs: 0 };
  const concurrency = options.concurrency ?? 32;
  const every = options.progressEvery ?? 1000;
  let nextReport = every;
  const send = async (r: PlannedRequest, protocol: ExchangeProtocol): Promise<void> => {
    const client = await clientFor(r.demand.requester);
    try {
      await client.query(
        {
          resource: r.demand.resource,
          items: r.items ?? r.demand.items,
          subject: { kind: r.subjectKind, code: r.subjectCode },
          // A request without a case names an empty one, as a system without the field would send.
          purpose: { serviceItem: r.serviceItem, caseNumber: r.caseNumber ?? '' },
          operator: r.operator,
        },
        { protocol },
      );
      progress.permitted++;
    } catch (error) {
      const code = error instanceof ExchangeError ? error.code : 'client-error';
      progress.refused[code] = (progress.refused[code] ?? 0) + 1;
      if (!(error instanceof ExchangeError)) throw error;
    }
  };
  try {
    for (let i = 0; i < requests.length; ) {
      // One simulated minute at a time.
      const minute = Math.floor(requests[i]!.at / MINUTE) * MINUTE;
      let end = i;
      while (end < requests.length && requests[end]!.at < minute + MINUTE) end++;
      options.clock.set(minute);
      for (let j = i; j < end; j += concurrency) {
        const batch = requests.slice(j, Math.min(end, j + concurrency));
        await Promise.all(batch.map((r, k) => send(r, (j + k) % 5 === 4 ? 'grpc' : 'http')));
      }
      progress.sent += end - i;
      progress.at = minute;
      i = end;
      if (progress.sent >= nextReport || i === requests.length) {
        progress.elapsedMs = Date.now() - started;
        options.onProgress?.(progress);
        nextReport = progress.sent + every;
      }
    }
  } finally {
    await Promise.all([...clients.values()].map((client) => client.close()));
  }
  progress.elapsedMs = Date.now() - started;
  return progress;
}
