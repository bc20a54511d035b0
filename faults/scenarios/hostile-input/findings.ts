// What the hostile-input scenario saw: requests by category, the error codes each category drew, and the problems,
// one line per distinct problem (the same route failing the same way a thousand times is one line, with a count).
import { errorCatalogue } from '../../../core/errors/index.js';

const CATALOGUE: ReadonlySet<string> = new Set(Object.keys(errorCatalogue));

export function isCatalogued(code: unknown): code is string {
  return typeof code === 'string' && CATALOGUE.has(code);
}

/** What an error answer is read as before it is checked. */
export type ErrorShape = { code?: unknown; message?: unknown; requestId?: unknown };

interface Problem {
  line: string;
  count: number;
}

export class Findings {
  requests = 0;
  serverErrors = 0;
  readonly #problems = new Map<string, Problem>();
  readonly #sent = new Map<string, number>();
  readonly #codes = new Map<string, Map<string, number>>();

  /** One request of `category` sent. */
  sent(category: string): void {
    this.requests++;
    this.#sent.set(category, (this.#sent.get(category) ?? 0) + 1);
  }

  /** The answer's code (or status, when it had none) under its category. */
  answered(category: string, code: string): void {
    let codes = this.#codes.get(category);
    if (!codes) this.#codes.set(category, (codes = new Map()));
    codes.set(code, (codes.get(code) ?? 0) + 1);
  }

  /** A problem; `key` says which problems are the same one, `line` describes the first seen. */
  problem(key: string, line: string): void {
    const known = this.#problems.get(key);
    if (known) known.count++;
    else this.#problems.set(key, { line, count: 1 });
  }

  get failures(): string[] {
    return [...this.#problems.values()].map((p) => (p.count > 1 ? `${p.line} (×${p.count})` : p.line));
  }

  /** Per category: requests sent and the codes they drew, most frequent first. */
  notes(): string[] {
    return [...this.#sent.entries()].map(([category, n]) => {
      const codes = [...(this.#codes.get(category) ?? new Map<string, number>()).entries()].sort((a, b) => b[1] - a[1]);
      return `${category}: ${n} requests; ${codes.map(([c, k]) => `${c} ${k}`).join(', ') || 'no answers'}`;
    });
  }
}

/** Keeps a line readable: control characters escaped, long values cut. */
export function summary(value: unknown, max = 120): string {
  let text: string;
  if (Buffer.isBuffer(value)) text = `${value.length} bytes ${JSON.stringify(value.subarray(0, 48).toString('latin1'))}`;
  else if (typeof value === 'string') text = JSON.stringify(value);
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  // eslint-disable-next-line no-control-regex
  text = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;
}
