import { stringify } from 'yaml';

export type Format = 'yaml' | 'json';

export function render(value: unknown, format: Format): string {
  return format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : stringify(value, { lineWidth: 0 });
}
