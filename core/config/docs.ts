import { settings, type SettingName } from './schema.js';

function showDefault(value: unknown): string {
  if (value === undefined || value === '') return '(unset)';
  if (Array.isArray(value)) return value.length === 0 ? '(unset)' : `\`${value.join(',')}\``;
  return `\`${String(value)}\``;
}

/** The README's configuration table, rendered from the schema so the two cannot drift. */
export function renderConfigTable(): string {
  const rows = (Object.keys(settings) as SettingName[]).map((name) => {
    const s = settings[name];
    const allowed = 'values' in s && s.values ? ` One of ${s.values.map((v) => `\`${v}\``).join(', ')}.` : '';
    return `| \`${s.env}\` | \`${name}\` | ${showDefault(s.default)} | ${s.doc}${allowed} |`;
  });
  return ['| Environment variable | File key | Default | Meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}
