// Requests as a hostile client sends them: node:http for what it lets through (any bytes as the body, any header
// value it can write), a raw socket for what it refuses to write (broken framing, bytes it would escape, bodies
// that stop half-way or trickle in).
import http, { type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { Findings, isCatalogued, summary, type ErrorShape } from './findings.js';

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface HttpRequest {
  method: string;
  /** Path and query, as sent. */
  path: string;
  headers: Record<string, string | string[]>;
  body?: Buffer;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

export function closeAgent(): void {
  agent.destroy();
}

/** Sends a request; resolves with the answer, or with the error when none came within `timeoutMs`. */
export function send(base: URL, r: HttpRequest, timeoutMs = 15_000): Promise<HttpAnswer | Error> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (v: HttpAnswer | Error) => {
      if (!settled) {
        settled = true;
        resolve(v);
      }
    };
    let request: http.ClientRequest;
    // A body always goes with its length: node:http writes a GET's body with neither length nor chunking, which the
    // gateway rightly reads as the next request on the connection.
    const headers = r.body !== undefined && !Object.keys(r.headers).some((k) => k.toLowerCase() === 'content-length') ? { ...r.headers, 'content-length': String(r.body.length) } : r.headers;
    try {
      request = http.request({ host: base.hostname, port: base.port, method: r.method, path: r.path, headers, agent, timeout: timeoutMs }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('end', () => done({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
        response.on('error', (e) => done(e));
      });
    } catch (error) {
      // node:http refused to write it (a character it will not send): the caller made a request no client can send.
      return done(error as Error);
    }
    request.on('timeout', () => {
      done(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'TIMEOUT' }));
      request.destroy();
    });
    request.on('error', (e) => done(e));
    request.end(r.body);
  });
}

/** Writes `parts` to a fresh connection, `gapMs` apart; then ends (half-close), or destroys the socket, or waits. */
export function sendRaw(
  base: URL,
  parts: readonly Buffer[],
  o: { gapMs?: number; then: 'end' | 'destroy' | 'wait'; waitMs?: number },
): Promise<{ answer: HttpAnswer | null; raw: Buffer; error: Error | null }> {
  return new Promise((resolve) => {
    const socket = connect({ host: base.hostname, port: Number(base.port) });
    const chunks: Buffer[] = [];
    let error: Error | null = null;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      const raw = Buffer.concat(chunks);
      resolve({ answer: parseAnswer(raw), raw, error });
    };
    const timer = setTimeout(finish, o.waitMs ?? 5000);
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      // Done once one whole answer is in (the gateway may keep the connection open).
      if (parseAnswer(Buffer.concat(chunks))?.complete) finish();
    });
    // 'close' follows; whatever arrived before it is still read.
    socket.on('error', (e) => {
      error = e;
    });
    socket.on('close', finish);
    socket.on('connect', async () => {
      for (const [i, part] of parts.entries()) {
        if (finished || socket.destroyed) return;
        if (i > 0 && o.gapMs) await new Promise((r) => setTimeout(r, o.gapMs));
        socket.write(part);
      }
      if (o.then === 'end') socket.end();
      else if (o.then === 'destroy') setTimeout(finish, 20);
    });
  });
}

/** One HTTP/1.1 answer from raw bytes (Content-Length or chunked); null before the head is complete. */
function parseAnswer(raw: Buffer): (HttpAnswer & { complete: boolean }) | null {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const lines = raw.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  if (!m) return null;
  const headers: IncomingHttpHeaders = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const rest = raw.subarray(end + 4);
  const length = headers['content-length'] !== undefined ? Number(headers['content-length']) : undefined;
  if (length !== undefined) return { status: Number(m[1]), headers, body: rest.subarray(0, length), complete: rest.length >= length };
  if (headers['transfer-encoding'] === 'chunked') {
    const body: Buffer[] = [];
    let at = 0;
    for (;;) {
      const eol = rest.indexOf('\r\n', at);
      if (eol < 0) return { status: Number(m[1]), headers, body: Buffer.concat(body), complete: false };
      const size = parseInt(rest.subarray(at, eol).toString('latin1'), 16);
      if (size === 0) return { status: Number(m[1]), headers, body: Buffer.concat(body), complete: true };
      body.push(rest.subarray(eol + 2, eol + 2 + size));
      at = eol + 2 + size + 2;
    }
  }
  return { status: Number(m[1]), headers, body: rest, complete: false };
}

/**
 * Judges one answer by the promises: no 5xx, and every error a JSON body { code, message, requestId } whose code is
 * in the catalogue. `route` names the problem (method and route template), `input` says what was sent.
 */
export function judgeHttp(f: Findings, category: string, route: string, input: string, answer: HttpAnswer, method = 'GET'): string | null {
  let code: string | null = null;
  if (answer.status >= 400 && method !== 'HEAD') {
    let body: ErrorShape | null = null;
    try {
      body = JSON.parse(answer.body.toString('utf8')) as ErrorShape | null;
    } catch {
      body = null;
    }
    if (!body || typeof body !== 'object') {
      f.problem(`${route} ${answer.status} not JSON`, `${route} ← ${input}: HTTP ${answer.status} with a body that is not JSON: ${summary(answer.body.toString('utf8'), 160)}`);
    } else if (!isCatalogued(body.code) || typeof body.message !== 'string' || typeof body.requestId !== 'string') {
      f.problem(
        `${route} ${answer.status} shape ${String(body.code)}`,
        `${route} ← ${input}: HTTP ${answer.status} without a catalogued {code, message, requestId}: ${summary(body, 200)}`,
      );
    } else code = body.code;
  }
  f.answered(category, code ?? String(answer.status));
  if (answer.status >= 500) {
    f.serverErrors++;
    f.problem(`${route} 5xx ${code}`, `${route} ← ${input}: HTTP ${answer.status} ${code ?? ''}`.trim());
  }
  return code;
}
