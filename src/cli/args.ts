// args.ts — command-line flags: each command declares its flags with types, defaults and help; anything unknown
// or malformed is a UsageError (exit code 2) naming the flag and what it expects.

export class UsageError extends Error {}

export type FlagType = 'int' | 'number' | 'string' | 'bool';
export interface FlagSpec {
  type: FlagType;
  help: string;
  /** for int/number: the smallest value allowed */
  min?: number;
  /** allowed string values */
  choices?: readonly string[];
}
export type Flags = Record<string, string | number | boolean | undefined>;

export const COMMON_FLAGS: Record<string, FlagSpec> = {
  adapter: { type: 'string', help: 'use the WebGPU adapter whose description contains NAME (env WEBGPU_ADAPTER)' },
  verbose: { type: 'bool', help: 'print stack traces on errors' },
  help: { type: 'bool', help: 'show help for the command' },
};

export function parseFlags(argv: string[], spec: Record<string, FlagSpec>): { flags: Flags; positional: string[] } {
  const all = { ...spec, ...COMMON_FLAGS };
  const flags: Flags = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    const s = all[name];
    if (!name || !s)
      throw new UsageError(
        `unknown flag '${a}' (known: ${Object.keys(all)
          .map((k) => `--${k}`)
          .join(', ')})`,
      );
    let raw: string | undefined = eq < 0 ? undefined : a.slice(eq + 1);
    if (s.type === 'bool') {
      if (raw !== undefined && raw !== 'true' && raw !== 'false')
        throw new UsageError(`--${name} takes no value (or =true/=false), got '${raw}'`);
      flags[name] = raw !== 'false';
      continue;
    }
    if (raw === undefined) {
      raw = argv[++i];
      if (raw === undefined || raw.startsWith('--')) throw new UsageError(`--${name} needs a value (${s.help})`);
    }
    if (s.type === 'string') {
      if (s.choices && !s.choices.includes(raw))
        throw new UsageError(`--${name} must be one of ${s.choices.join(', ')}, got '${raw}'`);
      flags[name] = raw;
      continue;
    }
    const v = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(v) || (s.type === 'int' && !Number.isInteger(v)))
      throw new UsageError(`--${name} expects ${s.type === 'int' ? 'an integer' : 'a number'}, got '${raw}'`);
    if (s.min !== undefined && v < s.min) throw new UsageError(`--${name} must be at least ${s.min}, got ${v}`);
    flags[name] = v;
  }
  return { flags, positional };
}

export function helpText(usage: string, spec: Record<string, FlagSpec>): string {
  const rows = Object.entries({ ...spec, ...COMMON_FLAGS }).map(([k, s]) => {
    const v = s.type === 'bool' ? '' : s.choices ? ` ${s.choices.join('|')}` : s.type === 'string' ? ' VALUE' : ' N';
    return [`--${k}${v}`, s.help];
  });
  const w = Math.max(...rows.map((r) => r[0].length));
  return `${usage}\n\nflags:\n${rows.map(([a, b]) => `  ${a.padEnd(w)}  ${b}`).join('\n')}`;
}
