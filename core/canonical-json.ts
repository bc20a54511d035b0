// Canonical JSON: the one byte string a signer and a verifier both derive from the same value, so a signature can
// cover structured content sent over HTTP (JSON) and gRPC (protobuf) alike. Object keys are sorted by UTF-16 code
// units and written without whitespace; strings and numbers are written as JSON.stringify writes them (which is what
// RFC 8785 prescribes for them); members whose value is null or undefined are left out, so "absent" has one form
// whichever protocol carried it. Only finite numbers, strings, booleans, arrays and plain objects are accepted.

export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  write(value, out, '');
  return out.join('');
}

function write(value: unknown, out: string[], path: string): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      out.push(JSON.stringify(value));
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonical JSON has no form for ${value} at ${path || 'the top'}`);
      out.push(JSON.stringify(value));
      return;
    case 'object': {
      if (value === null) throw new TypeError(`canonical JSON leaves null out of objects; got null at ${path || 'the top'}`);
      if (Array.isArray(value)) {
        out.push('[');
        value.forEach((element, i) => {
          if (i > 0) out.push(',');
          if (element === null || element === undefined) throw new TypeError(`canonical JSON arrays cannot hold null (at ${path}[${i}])`);
          write(element, out, `${path}[${i}]`);
        });
        out.push(']');
        return;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) throw new TypeError(`canonical JSON takes plain objects only (at ${path || 'the top'})`);
      const keys = Object.keys(value as object)
        .filter((k) => (value as Record<string, unknown>)[k] !== undefined && (value as Record<string, unknown>)[k] !== null)
        .sort();
      out.push('{');
      keys.forEach((k, i) => {
        if (i > 0) out.push(',');
        out.push(JSON.stringify(k), ':');
        write((value as Record<string, unknown>)[k], out, path ? `${path}.${k}` : k);
      });
      out.push('}');
      return;
    }
    default:
      throw new TypeError(`canonical JSON has no form for a ${typeof value} at ${path || 'the top'}`);
  }
}

/** Null, '', [] and {} are "absent", at every depth: the one form both JSON and protobuf can give. */
export function pruned(value: unknown): unknown {
  if (value === null || value === undefined || value === '') return undefined;
  if (Array.isArray(value)) {
    const items = value.map(pruned).filter((v) => v !== undefined);
    return items.length > 0 ? items : undefined;
  }
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const p = pruned(v);
      if (p !== undefined) out[k] = p;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
  return value;
}
