import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { packageRoot } from '../../core/paths.js';

export function protoDir(): string {
  return join(packageRoot(), 'proto');
}

/** Every .proto file under proto/, as paths relative to it. */
export function protoFiles(dir: string = protoDir()): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.proto')) out.push(relative(dir, full));
    }
  };
  walk(dir);
  return out.sort();
}

export interface LoadedProtos {
  /** protobufjs types: the server decodes and encodes messages itself, so malformed input gets a catalogue error. */
  root: protobuf.Root;
  /** The same files through proto-loader, for server reflection (and for clients). */
  packageDefinition: protoLoader.PackageDefinition;
}

/**
 * Loads proto/ once at start-up (the one step that turns the .proto files into runtime types; nothing is
 * generated into the source tree).
 */
export function loadProtos(dir: string = protoDir()): LoadedProtos {
  const files = protoFiles(dir);
  const root = new protobuf.Root();
  const resolvePath = root.resolvePath.bind(root);
  // google/protobuf/* are protobufjs built-ins; everything else resolves under proto/.
  root.resolvePath = (origin, target) => (target.startsWith('google/protobuf/') ? resolvePath(origin, target) : join(dir, target));
  root.loadSync(files, { keepCase: false });
  root.resolveAll();
  const packageDefinition = protoLoader.loadSync(files, { includeDirs: [dir], keepCase: false, longs: String, enums: String, defaults: true, oneofs: true });
  return { root, packageDefinition };
}
