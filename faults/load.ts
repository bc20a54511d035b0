// The fault suite's load: signed exchange queries from the demo 医保局 (a department with a standing grant), each
// with a fresh nonce, signed as it is sent and spread over the instances in turn as a load balancer would, at an
// evenly spaced rate. Every request's fate is kept: the answer's status, code and access record id, or the
// transport error when there was no answer (a killed instance), so the scenario can check each answer against the
// database afterwards. A client does not retry: resending a signed request is a replay, refused by design.
import { readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { EXCHANGE_HTTP_PATH, encodeQueryJson, LICENCE_VERIFY_HTTP_PATH, signHttpRequest, type QueryInput } from '../client/index.js';
import { LocalSm2Signer } from '../certs/signer/index.js';
import { parseCertificate } from '../certs/x509/index.js';
import { demoKeyFiles } from '../demo/index.js';
import { DEMO_SUBJECTS } from '../exchange/datasets/index.js';

/** 沈阳市医疗保障局: its grant on the population register (210100-GA-0001) has no daily quota. */
export const LOAD_REQUESTER = '112101000010000537';

export interface Sent {
  /** The instance it was sent to. */
  instance: string;
  /** Milliseconds since the run started. */
  at: number;
  /** The route, when not the exchange's (a licence verification). */
  path?: string;
  body: string;
  headers: Record<string, string>;
  requestDigest: string;
  /** null: no answer (refused connection, reset, timeout). */
  status: number | null;
  /** The error body's code, for an error answer. */
  code?: string;
  /** For a 200: the access record the answer names. */
  accessId?: string;
  /** For no answer: what the transport said. */
  transportError?: string;
  latencyMs?: number;
}

/** A signed request as it goes on the wire. */
export interface SignedRequest {
  /** The route it is signed for (default the exchange's). */
  path?: string;
  body: string;
  headers: Record<string, string>;
  requestDigest: string;
}

/** Who signs, and what: by default the demo 医保局 asking the population register for the load's case numbers. */
export interface LoadDepartment {
  /** The requester's USCC (default LOAD_REQUESTER). */
  requester?: string;
  /** Its key and certificate files (default: the demo department's, under the data directory). */
  keyFile?: string;
  certificateFile?: string;
  /** The n-th query (n from 1) without its requester; its case number tells the records apart. */
  query?: (n: number) => Omit<QueryInput, 'requester'>;
  /**
   * A licence the department also verifies for its cases: every third request is then a signed verification of it
   * (recorded in the access log like a query, with the same kind of case number) instead of a query.
   */
  verifies?: string;
}

/** A query of the demo applicant's population record, for a service item and a case. */
export function applicantQuery(serviceItem: string, items: string[], caseNumber: string): Omit<QueryInput, 'requester'> {
  return { resource: '210100-GA-0001', items, subject: { kind: 'person', code: DEMO_SUBJECTS.applicant.idNumber }, purpose: { serviceItem, caseNumber } };
}

/** The load's query: the demo applicant's name, ID number and address, for opening a business. */
export function loadQuery(n: number): Omit<QueryInput, 'requester'> {
  return applicantQuery('QYKB-210100-0009', ['name', 'idNumber', 'address'], `FAULTS-${process.pid}-${n}`);
}

export interface Target {
  name: string;
  http: string;
}

export interface LoadOptions {
  /** Where each request goes: request k to targets()[k % n]; asked per request, so a scenario may change it. */
  targets: () => readonly Target[];
  rate: number;
  seconds: number;
  /** Requests in flight at most; a request due while this many wait is sent when one returns. */
  maxInFlight?: number;
  /** An answer slower than this counts as no answer (a hang). */
  timeoutMs?: number;
  /** Asked before each request: true ends the load early (what was sent is still awaited). */
  done?: () => boolean;
}

/** One keep-alive pool per instance address, shared by every load of the process. */
const agents = new Map<string, Agent>();

export class ExchangeLoad {
  readonly #signer: LocalSm2Signer;
  readonly #certificate: string;
  readonly #requester: string;
  readonly #query: (n: number) => Omit<QueryInput, 'requester'>;
  readonly #verifies: string | undefined;
  #n = 0;

  private constructor(signer: LocalSm2Signer, requester: string, query: (n: number) => Omit<QueryInput, 'requester'>, verifies: string | undefined) {
    this.#signer = signer;
    this.#certificate = Buffer.from(signer.certificate!.der).toString('base64');
    this.#requester = requester;
    this.#query = query;
    this.#verifies = verifies;
  }

  /** A department's key (the demo 医保局's from the cluster's first data directory unless `who` says otherwise). */
  static async open(dataDir: string, who: LoadDepartment = {}): Promise<ExchangeLoad> {
    const requester = who.requester ?? LOAD_REQUESTER;
    const files = demoKeyFiles(dataDir, requester);
    const certificate = new Uint8Array(parseCertificate(readFileSync(who.certificateFile ?? files.certificate)).rawData);
    const signer = await LocalSm2Signer.start({ privateKey: readFileSync(who.keyFile ?? files.key), certificate, workers: 1 });
    return new ExchangeLoad(signer, requester, who.query ?? loadQuery, who.verifies);
  }

  /** One freshly signed query (its own case number, so the records can be told apart). */
  async sign(): Promise<SignedRequest> {
    const n = ++this.#n;
    if (this.#verifies !== undefined && n % 3 === 0) {
      const { purpose } = this.#query(n);
      const body = Buffer.from(JSON.stringify({ requester: this.#requester, purpose, identifier: this.#verifies }), 'utf8');
      const signed = await signHttpRequest({ path: LICENCE_VERIFY_HTTP_PATH, body, signer: this.#signer });
      return {
        path: LICENCE_VERIFY_HTTP_PATH,
        body: body.toString('utf8'),
        headers: { 'content-type': 'application/json', ...signed.headers, 'zt-certificate': this.#certificate },
        requestDigest: signed.requestDigest.toString('hex'),
      };
    }
    const body = encodeQueryJson(this.#query(n), this.#requester);
    const signed = await signHttpRequest({ body, signer: this.#signer });
    return { body: body.toString('utf8'), headers: { 'content-type': 'application/json', ...signed.headers, 'zt-certificate': this.#certificate }, requestDigest: signed.requestDigest.toString('hex') };
  }

  /**
   * Sends a request as it is and keeps what happened. Over a keep-alive pool of at most 64 connections per instance
   * (node:http), as a load balancer's upstream pool would: the gateway's descriptors then measure the gateway.
   */
  static async send(target: Target, request: SignedRequest, startedAt: number, timeoutMs = 10_000): Promise<Sent> {
    const sent: Sent = { instance: target.name, at: performance.now() - startedAt, ...request, status: null };
    const t0 = performance.now();
    const url = new URL(target.http + (request.path ?? EXCHANGE_HTTP_PATH));
    let agent = agents.get(url.host);
    if (!agent) agents.set(url.host, (agent = new Agent({ keepAlive: true, maxSockets: 64 })));
    try {
      const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = httpRequest(
          { agent, host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
            res.on('error', reject);
          },
        );
        req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
        req.on('error', reject);
        req.end(request.body);
      });
      sent.status = status;
      sent.latencyMs = performance.now() - t0;
      try {
        const json = JSON.parse(text) as { code?: string; result?: { accessId?: string } };
        if (status === 200) sent.accessId = json.result?.accessId;
        else sent.code = json.code;
      } catch {
        sent.code = `(not JSON: ${text.slice(0, 80)})`;
      }
    } catch (error) {
      sent.status = null;
      sent.transportError = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    }
    return sent;
  }

  /** Holds the load for `seconds` and resolves with every request's fate. */
  async run(o: LoadOptions): Promise<Sent[]> {
    const results: Sent[] = [];
    const started = performance.now();
    const end = started + o.seconds * 1000;
    const interval = 1000 / o.rate;
    const maxInFlight = o.maxInFlight ?? 256;
    let inFlight = 0;
    let freed: (() => void) | null = null;
    const pending: Promise<void>[] = [];
    for (let k = 0; ; k++) {
      const due = started + k * interval;
      if (due >= end || o.done?.()) break;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      while (inFlight >= maxInFlight) await new Promise<void>((r) => (freed = r));
      const targets = o.targets();
      if (targets.length === 0) continue;
      const target = targets[k % targets.length]!;
      inFlight++;
      pending.push(
        (async () => {
          try {
            results.push(await ExchangeLoad.send(target, await this.sign(), started, o.timeoutMs));
          } finally {
            inFlight--;
            const f = freed as (() => void) | null;
            freed = null;
            f?.();
          }
        })(),
      );
    }
    await Promise.all(pending);
    return results.sort((a, b) => a.at - b.at);
  }

  /** Stops the signer; `dropConnections` also closes the process's pools to the instances (the last load to go). */
  close(dropConnections = true): Promise<void> {
    if (dropConnections) {
      for (const agent of agents.values()) agent.destroy();
      agents.clear();
    }
    return this.#signer.close();
  }
}
