// bench/args.js — the benchmarks' command lines, read one way (node:util's parseArgs, strict): each script lists its
// flags once, --help prints them, and an unknown flag, a flag without its value, a stray word or a value out of range
// exits 2 with what is wrong.
import { parseArgs } from 'node:util';

/**
 * `flags`: { name: { takes: 'N' | 'FILE' | … (the value's placeholder; absent: a switch), hidden: true (test hooks,
 * left out of the usage) } }. Returns readers of the values, each refusing a bad one: has, str, oneOf, words, int,
 * ints, num; `fail` (exit 2 with a message), `usage` and `command` (the command line as typed, for the JSON).
 */
export function benchArgs(script, flags) {
  const shown = Object.entries(flags).filter(([, f]) => !f.hidden);
  const usage = `usage: node ${script} ${shown.map(([n, f]) => `[--${n}${f.takes ? ` ${f.takes}` : ''}]`).join(' ')}`;
  const fail = (msg) => {
    console.error(`error: ${msg}`);
    process.exit(2);
  };
  const argv = process.argv.slice(2);
  const options = Object.fromEntries(
    [...Object.entries(flags), ['help', {}]].map(([n, f]) => [n, { type: f.takes ? 'string' : 'boolean' }]),
  );
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false }));
  } catch (e) {
    fail(`${explain(e, argv)} (flags: ${shown.map(([n]) => `--${n}`).join(', ')})`);
  }
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const str = (name, def) => values[name] ?? def;
  /** a comma list of integers ≥ min */
  const ints = (name, min, def) => {
    const v = values[name];
    if (v === undefined) return def;
    const xs = v.split(',').map((w) => (w.trim() === '' ? Number.NaN : Number(w)));
    if (xs.some((x) => !(Number.isInteger(x) && x >= min))) fail(`--${name} takes integers ≥ ${min}, got '${v}'`);
    return xs;
  };
  return {
    has: (name) => values[name] === true,
    str,
    /** one of `all` */
    oneOf: (name, all, def) => {
      const v = str(name, def);
      const said = all.length === 2 ? all.join(' or ') : all.join(', ');
      if (v !== undefined && !all.includes(v)) fail(`--${name} takes ${said}; got '${v}'`);
      return v;
    },
    /** a comma list of words from `all` */
    words: (name, all, def) => {
      const v = values[name];
      if (v === undefined) return def;
      const xs = v.split(',');
      for (const x of xs) if (!all.includes(x)) fail(`--${name} takes ${all.join(', ')}; got '${x}'`);
      return xs;
    },
    ints,
    /** one integer ≥ min */
    int: (name, min, def) => {
      const v = values[name];
      if (v === undefined) return def;
      if (!(v.trim() !== '' && Number.isInteger(Number(v)) && Number(v) >= min))
        fail(`--${name} takes an integer ≥ ${min}, got '${v}'`);
      return Number(v);
    },
    /** a number that passes `ok` (what it must be: `what`) */
    num: (name, ok, what, def) => {
      const v = values[name];
      if (v === undefined) return def;
      const x = Number(v);
      if (v.trim() === '' || !ok(x)) fail(`--${name} takes ${what}; got '${v}'`);
      return x;
    },
    fail,
    usage,
    command: `node ${script} ${argv.join(' ')}`.trim(),
  };
}

/** parseArgs' refusal in our words */
function explain(e, argv) {
  const m = String(e.message);
  const opt = /'(--?[^' =<]+)/.exec(m)?.[1];
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown flag ${opt}`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected word '${/'([^']*)'/.exec(m)?.[1]}': every value follows its flag`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      if (/does not take an argument/.test(m)) return `${opt} takes no value`;
      const next = argv[argv.indexOf(opt) + 1];
      return next === undefined
        ? `${opt} needs a value`
        : `${opt} needs a value, and '${next}' after it is a flag (a value that starts with - is written ${opt}=-…)`;
    }
    default:
      return m;
  }
}
